"""What is explained: a text, or one word of a sentence, as model inputs mapped back to its words.

Text task: the text tokenized like `trainer.model.inference` does (truncation at max_length), words by the
word rule. Token task: the window `trainer.model.inference` reads the word in (most context on both sides),
words being the sentence's own words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from trainer.data.word_rule import joined_spans, word_spans


@dataclass
class Item:
    """One thing to explain: model inputs plus how they map back to the text's words."""

    text: str
    ids: list[int]
    special: list[int]
    type_ids: list[int] | None
    offsets: list[tuple[int, int]]  # char span per token, in `text`
    spans: list[tuple[int, int]]  # word spans in `text`
    truncated: bool
    target: int | None = None
    position: int | None = None  # token task: the explained token's index in ids
    word_index: int | None = None


def text_items(
    tokenizer: Any, texts: Sequence[str], targets: Sequence[int | None], max_length: int
) -> list[Item]:
    """Tokenize like predict.py (truncation at max_length) and keep offsets and special-token masks."""
    enc = tokenizer(
        list(texts),
        truncation=True,
        max_length=max_length,
        return_offsets_mapping=True,
        return_special_tokens_mask=True,
    )
    items = []
    for i, text in enumerate(texts):
        types = enc["token_type_ids"][i] if "token_type_ids" in enc else None
        items.append(
            Item(
                text=text,
                ids=list(enc["input_ids"][i]),
                special=list(enc["special_tokens_mask"][i]),
                type_ids=list(types) if types is not None else None,
                offsets=[tuple(o) for o in enc["offset_mapping"][i]],
                spans=word_spans(text),
                truncated=bool(enc.encodings[i].overflowing),
                target=targets[i],
            )
        )
    return items


def word_at(spans: list[tuple[int, int]], char_span: tuple[int, int]) -> int:
    """The word overlapping char_span the most (the first on ties)."""
    start, end = char_span
    best, best_overlap = -1, 0
    for i, (a, b) in enumerate(spans):
        overlap = min(b, max(end, start + 1)) - max(a, start)
        if overlap > best_overlap:
            best, best_overlap = i, overlap
    if best < 0:
        raise ValueError(f"No word at characters {start}-{end}.")
    return best


def token_item(
    tokenizer: Any, tokens: Sequence[str], word_index: int, target: int | None, max_length: int
) -> Item:
    """The window that predict.py would use for this word (most context on both sides), as an item."""
    # Same call as trainer.tasks.token.encode_words, so the tag explained is the one RunModel.predict_tags gives.
    stride = max(0, min(32, max_length // 4))
    enc = tokenizer(
        [list(tokens)], is_split_into_words=True, truncation=True, max_length=max_length, stride=stride,
        return_overflowing_tokens=True, return_offsets_mapping=True, return_special_tokens_mask=True,
    )  # fmt: skip
    spans = joined_spans(tokens)
    best = None
    for w in range(len(enc["input_ids"])):
        word_ids, offsets = enc.word_ids(w), enc["offset_mapping"][w]
        prev = None
        for pos, (wid, (start, _end)) in enumerate(zip(word_ids, offsets, strict=True)):
            if wid == word_index and wid != prev and start == 0:
                score = min(pos, len(word_ids) - 1 - pos)
                if best is None or score > best[0]:
                    best = (score, w, pos)
            prev = wid
    if best is None:
        raise ValueError(f"Word {word_index} ({tokens[word_index]!r}) has no token the model can read.")
    _, w, position = best
    word_ids = enc.word_ids(w)
    offsets = [
        (0, 0) if wid is None else (spans[wid][0] + a, spans[wid][0] + b)
        for wid, (a, b) in zip(word_ids, enc["offset_mapping"][w], strict=True)
    ]
    types = enc["token_type_ids"][w] if "token_type_ids" in enc else None
    return Item(
        text=" ".join(tokens),
        ids=list(enc["input_ids"][w]),
        special=list(enc["special_tokens_mask"][w]),
        type_ids=list(types) if types is not None else None,
        offsets=offsets,
        spans=spans,
        truncated=len(enc["input_ids"]) > 1,
        target=target,
        position=position,
        word_index=word_index,
    )
