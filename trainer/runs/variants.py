"""A run's compressed variants: where each lives (`<run>/variants/<name>/`), its verdict, and loading one.

A variant sits beside the run's own model, never in its place: `onnx` (the model as an ONNX graph run by
ONNX Runtime), `int8` (that graph with int8 weights) and `smaller` (fewer encoder layers, fine-tuned again
briefly; a transformers model folder). `compress` (trainer.train.compress) writes a variant's files into
a temporary folder and moves them in only when the paired test accepted it; its verdict, accepted or
refused, is kept in `variants.json`. A variant keeps its own trust thresholds and vectors (its embedding
space may differ from the run's), through `VariantFolder`.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from trainer.files.atomic import read_json, write_json
from trainer.runs.folder import RunFolder

VARIANTS = ("onnx", "int8", "smaller")
ONNX_FILE = "model.onnx"


class UnknownVariant(ValueError):
    """A variant the run does not have (never made, or refused)."""


class VariantFolder(RunFolder):
    """A run's folder seen through one variant: the same data and splits, the variant's own vectors and
    trust thresholds (so trust.calibrate computes them from the variant's answers)."""

    def __init__(self, path: str | Path, variant: str):
        super().__init__(path)
        self.variant = variant

    vectors_dir = property(lambda self: self.path / "variants" / self.variant / "vectors")
    trust_file = property(lambda self: self.path / "variants" / self.variant / "trust.npz")


class Variants:
    """The variants of one run folder."""

    def __init__(self, folder: RunFolder):
        self.folder = folder

    root = property(lambda self: self.folder.path / "variants")
    record_file = property(lambda self: self.root / "variants.json")
    lock_file = property(lambda self: self.root / ".compress.lock")  # one compression of a run at a time

    def dir(self, name: str) -> Path:
        return self.root / name

    def work_dir(self, name: str) -> Path:
        """Where a variant is made before its verdict (removed after)."""
        return self.root / f".making-{name}"

    def records(self) -> dict[str, dict]:
        """Each variant tried: its last verdict (`compress --json`'s entry), by name."""
        return read_json(self.record_file, {}) or {}

    def accepted(self) -> list[str]:
        """The variants that can be used: accepted, and their files in place."""
        return [
            name for name, rec in self.records().items() if rec.get("accepted") and self.dir(name).is_dir()
        ]

    def keep(self, name: str, made: Path | None, record: dict) -> None:
        """Record a verdict; an accepted variant's files (`made`) replace any earlier ones, a refused one's
        are removed along with any earlier accepted files of that name (they no longer have a verdict)."""
        target = self.dir(name)
        shutil.rmtree(target, ignore_errors=True)
        if record.get("accepted") and made is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.rename(target)
        elif made is not None:
            shutil.rmtree(made, ignore_errors=True)
        records = self.records()
        records[name] = record
        write_json(self.record_file, records)

    def check(self, name: str) -> None:
        """Raise UnknownVariant with a sentence when `name` cannot be used."""
        from trainer.i18n import tr

        if name in self.accepted():
            return
        record = self.records().get(name)
        if record is None:
            raise UnknownVariant(tr("This run has no {name} variant: make it first with `python -m trainer "
                                    "compress RUN --to {name}`.", name=name))  # fmt: skip
        raise UnknownVariant(tr("This run's {name} variant was refused, so it cannot be used: {reason}",
                                name=name, reason=record.get("reason", "")))  # fmt: skip

    def model_files(self, name: str) -> list[tuple[Path, str]]:
        """(file, name inside the variant) of the variant's model: its graph, or its weights and settings;
        the thresholds and vectors it keeps for trust are left out, and so is any symbolic link."""
        root = self.dir(name)
        found = []
        for path in sorted(root.rglob("*")) if root.is_dir() and not root.is_symlink() else []:
            inside = path.relative_to(root)
            if path.is_file() and not path.is_symlink() and inside.parts[0] not in ("vectors", "trust.npz"):
                found.append((path, inside.as_posix()))
        return found

    def engine(self, name: str) -> str:
        from trainer.model.onnx_engine import ENGINE

        return ENGINE if name in ("onnx", "int8") else "PyTorch"

    def load(self, name: str, original: Any) -> Any:
        """The variant's model, in the shape `original` (the run's torch model) has."""
        return self.load_from(name, self.dir(name), original)

    @staticmethod
    def load_from(name: str, path: Path, original: Any) -> Any:
        """A variant's model from its folder `path` (kept, or still being judged)."""
        if name in ("onnx", "int8"):
            from trainer.model.onnx_engine import onnx_module

            return onnx_module(path / ONNX_FILE, original.config)
        import transformers

        return (
            getattr(transformers, type(original).__name__)
            .from_pretrained(path, use_safetensors=True, trust_remote_code=False)
            .eval()
        )


def variant_view(run: Any, variant: str | None) -> Any:
    """`run` as trust.calibrate reads it: itself, or with a variant's own vectors and thresholds."""
    if not variant:
        return run
    from types import SimpleNamespace

    return SimpleNamespace(folder=VariantFolder(run.folder.path, variant), path=run.path)
