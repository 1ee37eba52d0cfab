"""A torch-free tokenizer for the data checks (the app's Data page must not import torch).

`trainer.prepare(tokenizer=...)` only needs token ids (lengths, the [UNK] share). Loading a
transformers tokenizer imports torch (seconds on a small machine), so for a local model folder with a
`tokenizer.json` we read it with the `tokenizers` library, which is what a transformers fast tokenizer
wraps: the ids are the same. Anything else (a hub id) falls back to `trainer.model.loading.load_tokenizer`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HUGE = 100_000  # transformers writes ~1e30 as model_max_length when a model sets none


class LightTokenizer:
    """The slice of a transformers tokenizer that `prepare` uses: __call__, unk/special ids, max length."""

    def __init__(self, folder: Path):
        from tokenizers import Tokenizer

        self._tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tok.no_truncation()
        self._tok.no_padding()
        config = _read(folder / "tokenizer_config.json")
        spec = _read(folder / "tokenizer.json")
        unk = config.get("unk_token") or (spec.get("model") or {}).get("unk_token")
        if isinstance(unk, dict):
            unk = unk.get("content")
        self.unk_token_id = self._tok.token_to_id(unk) if unk else None
        self.all_special_ids = sorted(
            t["id"] for t in spec.get("added_tokens", []) if t.get("special") and "id" in t
        )
        max_len = config.get("model_max_length")
        self.model_max_length = int(max_len) if isinstance(max_len, int | float) and max_len < HUGE else 512
        self.is_fast = True
        self.name_or_path = str(folder)

    def get_vocab(self) -> dict[str, int]:
        """Token -> id, as a transformers tokenizer gives it."""
        return self._tok.get_vocab()

    def __call__(
        self,
        texts: Sequence[Any],
        add_special_tokens: bool = True,
        truncation: bool = False,
        is_split_into_words: bool = False,
        **_: Any,
    ) -> dict[str, list[list[int]]]:
        items = [list(t) for t in texts] if is_split_into_words else [str(t) for t in texts]
        encoded = self._tok.encode_batch(
            items, is_pretokenized=is_split_into_words, add_special_tokens=add_special_tokens
        )
        return {"input_ids": [e.ids for e in encoded]}


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def load_light_tokenizer(backbone: str) -> Any:
    """The tokenizer of `backbone` ('default', a folder or a hub id); raises ModelError if missing."""
    from trainer.model.loading import resolve_model

    resolved = resolve_model(backbone)
    folder = Path(resolved)
    if (folder / "tokenizer.json").exists():
        return LightTokenizer(folder)
    from trainer.model.loading import load_tokenizer  # a hub id or a folder without tokenizer.json

    return load_tokenizer(resolved)
