"""The models a person can fine-tune: the bundled default and every model folder under the model root.

The root is `models/` beside the app, or the folder `INSIGHT_MODELS` names. A model folder holds a
BERT-family checkpoint as `save_pretrained` writes it: config.json, tokenizer.json (a fast tokenizer)
and the weights in safetensors (model.safetensors, or shards with their index). Loading stays
safetensors-only with no remote code (`trainer.model.loading`). What a model reads is read from its
vocabulary (`trainer.writing.scripts`): bert-base-chinese reads Chinese characters and Latin letters,
all-MiniLM-L6-v2 only Latin letters.
"""

from __future__ import annotations

import functools
import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from trainer.i18n import tr
from trainer.model.loading import DEFAULT_MODEL, DEFAULT_MODEL_NAME, default_model_path
from trainer.writing import scripts

ROOT_ENV = "INSIGHT_MODELS"


def model_root() -> Path:
    """Where model folders are looked for: $INSIGHT_MODELS, else models/ beside the app."""
    configured = os.environ.get(ROOT_ENV, "").strip()
    return Path(configured).expanduser() if configured else Path(__file__).resolve().parents[2] / "models"


@dataclass(frozen=True)
class ModelChoice:
    """One model of the choice: what the backbone setting takes (`value`), what it reads, or what is wrong."""

    value: str
    name: str
    scripts: tuple[str, ...]
    problem: str | None = None

    @property
    def shown(self) -> str:
        """The name with the languages it reads, for the model choice."""
        if self.problem:
            return tr("{name} (cannot be used: {problem})", name=self.name, problem=self.problem)
        if not self.scripts:
            return self.name
        return tr("{name} (reads {languages})", name=self.name, languages=scripts.languages(self.scripts))

    def reads(self, script: str) -> bool:
        return self.problem is None and script in self.scripts


def _vocab(folder: Path) -> list[str]:
    """The tokens of a folder's tokenizer.json (WordPiece, BPE or Unigram), without loading a model."""
    spec = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
    vocab = (spec.get("model") or {}).get("vocab") or {}
    if isinstance(vocab, dict):
        return list(vocab)
    return [entry[0] if isinstance(entry, list) else str(entry) for entry in vocab]  # Unigram: [token, score]


@functools.lru_cache(maxsize=64)
def _read_scripts(folder: str, stamp: float) -> tuple[str, ...]:
    return tuple(scripts.read_scripts(scripts.vocab_scripts(_vocab(Path(folder)))))


def vocab_counts(folder: Path) -> Counter[str]:
    """Tokens per script in the vocabulary of a model folder."""
    return scripts.vocab_scripts(_vocab(folder))


def _problem(folder: Path) -> str | None:
    if not (folder / "config.json").is_file():
        return tr("no config.json")
    if not (folder / "tokenizer.json").is_file():
        return tr("no tokenizer.json (a fast tokenizer is needed)")
    if not any(folder.glob("*.safetensors")):
        return tr("no weights in safetensors (model.safetensors); Insight does not load other formats")
    return None


def describe(folder: Path, value: str | None = None, name: str | None = None) -> ModelChoice:
    """A model folder as a choice: what it reads, or why it cannot be used."""
    problem = _problem(folder)
    read: tuple[str, ...] = ()
    if problem is None:
        try:
            read = _read_scripts(str(folder), (folder / "tokenizer.json").stat().st_mtime)
        except (OSError, ValueError) as exc:
            problem = tr("its tokenizer.json cannot be read ({error})", error=type(exc).__name__)
    return ModelChoice(value or str(folder), name or folder.name, read, problem)


def available_models() -> list[ModelChoice]:
    """The default model, then each folder under the model root (by name), usable or not."""
    found = [describe(default_model_path(), DEFAULT_MODEL, DEFAULT_MODEL_NAME)]
    root = model_root()
    if root.is_dir():
        for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            found.append(describe(folder))
    return found


def models_reading(script: str) -> list[ModelChoice]:
    """The available models that read `script`."""
    return [choice for choice in available_models() if choice.reads(script)]
