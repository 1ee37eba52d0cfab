"""From subword tokens back to the user's words: token scores summed into the words they overlap.

A token's score goes to the words its character span overlaps, split in proportion to the overlapped
characters; a token overlapping no word goes to the nearest word. So word scores sum to token scores.
What a word is: `trainer.data.word_rule` (re-exported here).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import numpy as np

from trainer.data.word_rule import is_cjk, is_punctuation, joined_spans, word_spans

__all__ = ["aggregate_to_words", "is_cjk", "is_punctuation", "joined_spans", "read_scores", "word_spans"]


def _token_parts(start: int, end: int, starts: list[int], ends: list[int]) -> list[tuple[int, int]]:
    """(word, overlapped chars) for one token span; the nearest word (weight 1) if it overlaps none."""
    parts = []
    i = bisect.bisect_right(ends, start)
    while i < len(starts) and starts[i] < end:
        overlap = min(end, ends[i]) - max(start, starts[i])
        if overlap > 0:
            parts.append((i, overlap))
        i += 1
    if parts or not starts:
        return parts
    inside = bisect.bisect_right(starts, start) - 1
    if inside >= 0 and ends[inside] > start:
        return [(inside, 1)]
    nxt = bisect.bisect_left(starts, end)
    prev = nxt - 1
    if nxt >= len(starts) or (prev >= 0 and start - ends[prev] < starts[nxt] - end):
        return [(prev, 1)]
    return [(nxt, 1)]


def aggregate_to_words(
    token_spans: Sequence[tuple[int, int]], token_scores: Sequence[float], spans: Sequence[tuple[int, int]]
) -> tuple[np.ndarray, list[int]]:
    """Sum token scores into words: ((n_words,) float64, NaN where no token; main word per token)."""
    starts = [s for s, _ in spans]
    ends = [e for _, e in spans]
    scores = np.full(len(spans), np.nan)
    token_words = []
    for (start, end), value in zip(token_spans, token_scores, strict=True):
        parts = _token_parts(start, end, starts, ends)
        total = sum(chars for _, chars in parts)
        for word, chars in parts:
            scores[word] = np.nan_to_num(scores[word]) + float(value) * chars / total
        token_words.append(max(parts, key=lambda p: p[1])[0] if parts else -1)
    return scores, token_words


def read_scores(
    raw: np.ndarray, spans: Sequence[tuple[int, int]], read_span: tuple[int, int]
) -> list[float | None]:
    """Word scores for display: None outside what the model read, 0.0 for a read word with no token."""
    out: list[float | None] = []
    for value, (start, end) in zip(raw, spans, strict=True):
        if not np.isnan(value):
            out.append(float(value))
        elif end <= read_span[0] or start >= read_span[1]:
            out.append(None)
        else:
            out.append(0.0)
    return out
