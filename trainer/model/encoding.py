"""Turn texts (or word lists) into model inputs, the same way for training and inference.

Token classification labels the first subword of each word only (-100 elsewhere). Sentences longer
than max_length are cut into overlapping windows instead of being truncated, so no word loses its
tag; at inference each word takes the prediction of the window where it sits furthest from an edge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

IGNORE_INDEX = -100


def encode_texts(
    tokenizer: Any, texts: Sequence[str], max_length: int, labels: Sequence[int] | None = None
) -> list[dict[str, list[int]]]:
    """One unpadded feature dict per text (dynamic padding happens in the collator)."""
    enc = tokenizer(list(texts), truncation=True, max_length=max_length)
    features = [{k: enc[k][i] for k in enc} for i in range(len(texts))]
    if labels is not None:
        for feature, label in zip(features, labels, strict=True):
            feature["labels"] = int(label)
    return features


@dataclass
class TokenWindow:
    """One window of one sentence: model inputs plus the word index of every token."""

    sentence: int
    features: dict[str, list[int]]
    word_ids: list[int | None]
    first_subword: list[bool]


def encode_words(
    tokenizer: Any,
    sentences: Sequence[Sequence[str]],
    max_length: int,
    tag_ids: Sequence[Sequence[int]] | None = None,
    stride: int | None = None,
) -> list[TokenWindow]:
    """Encode word lists into (possibly several overlapping) windows per sentence."""
    stride = stride if stride is not None else max(0, min(32, max_length // 4))
    enc = tokenizer(
        [list(s) for s in sentences],
        is_split_into_words=True,
        truncation=True,
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )
    mapping = enc["overflow_to_sample_mapping"]
    windows = []
    for i, sentence in enumerate(mapping):
        word_ids = enc.word_ids(i)
        offsets = enc["offset_mapping"][i]
        first, seen_prev = [], None
        for w, (start, _end) in zip(word_ids, offsets, strict=True):
            # a window may open on a word's second piece: that piece is not the word's first
            first.append(w is not None and w != seen_prev and start == 0)
            seen_prev = w
        skip = ("overflow_to_sample_mapping", "offset_mapping")
        features = {k: enc[k][i] for k in enc if k not in skip}
        if tag_ids is not None:
            tags = tag_ids[sentence]
            features["labels"] = [
                int(tags[w]) if is_first else IGNORE_INDEX
                for w, is_first in zip(word_ids, first, strict=True)
            ]
        windows.append(TokenWindow(int(sentence), features, list(word_ids), first))
    return windows


def centrality(position: int, length: int) -> int:
    """How far a token sits from the nearer edge of its window (higher is more context)."""
    return min(position, length - 1 - position)
