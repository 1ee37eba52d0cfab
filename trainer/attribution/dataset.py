"""Many texts at once: explain a split in the background, and rank the words that matter per label."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from trainer.attribution.api import explain
from trainer.attribution.engine import Explanation
from trainer.attribution.words import is_punctuation

Progress = Callable[[int, int], None]


@dataclass
class WordStat:
    """One word's attribution toward a class, over many explanations."""

    word: str
    mean: float
    total: float
    count: int


def explain_dataset(
    model: Any,
    tokenizer: Any,
    labels: Sequence[str] | None,
    texts: Sequence[str],
    targets: Sequence[str | int | None] | None = None,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    batch_size: int = 8,
    faithfulness: bool = False,
    **kwargs: Any,
) -> list[Explanation | None]:
    """Explain many texts, longest first, reporting progress(done, total); safe in a background thread.

    Returns one entry per text in input order: None for texts not reached before should_stop() said so.
    """
    out: list[Explanation | None] = [None] * len(texts)
    targets = list(targets) if targets is not None else [None] * len(texts)
    tokenizer_lengths = [len(t) for t in texts]  # characters: a cheap proxy for length to sort by
    order = sorted(range(len(texts)), key=lambda i: -tokenizer_lengths[i])
    if progress:
        progress(0, len(texts))
    for start in range(0, len(order), batch_size):
        if should_stop is not None and should_stop():
            break
        idx = order[start : start + batch_size]
        done = explain(
            model, tokenizer, labels, [texts[i] for i in idx], [targets[i] for i in idx],
            batch_size=batch_size, faithfulness=faithfulness, **kwargs,
        )  # fmt: skip
        for i, exp in zip(idx, done, strict=True):
            out[i] = exp
        if progress:
            progress(min(start + batch_size, len(texts)), len(texts))
    return out


def top_words_per_class(
    explanations: Sequence[Explanation | None],
    min_count: int = 2,
    top_k: int = 10,
    by: str = "mean",
    skip_punctuation: bool = False,
) -> dict[str, list[WordStat]]:
    """Per target class, the lower-cased words whose attribution most pushes toward it.

    Only words seen at least `min_count` times with a positive `by` ("mean" or "total") are kept.
    """
    if by not in ("mean", "total"):
        raise ValueError(f"by must be 'mean' or 'total', not {by!r}")
    sums: dict[str, dict[str, list[float]]] = {}
    for exp in explanations:
        if exp is None:
            continue
        per_word = sums.setdefault(exp.target, {})
        for word, score in zip(exp.words, exp.scores, strict=True):
            if score is None or (skip_punctuation and all(is_punctuation(c) for c in word)):
                continue
            per_word.setdefault(word.lower(), []).append(score)
    result = {}
    for label, per_word in sums.items():
        stats = [WordStat(w, float(np.mean(v)), float(np.sum(v)), len(v)) for w, v in per_word.items()]
        stats = [s for s in stats if s.count >= min_count and getattr(s, by) > 0]
        stats.sort(key=lambda s: (-getattr(s, by), s.word))
        result[label] = stats[:top_k]
    return result


RANKING_COLUMNS = ["class", "word", "mean attribution", "total", "count"]


def rank_words(
    model: Any,
    texts: Sequence[str],
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    n_steps: int = 50,
    top_k: int = 15,
) -> Any:
    """Explain every text toward its prediction, then rank the words per class (a DataFrame).

    `model` is a trainer.predict.RunModel; `attrs["explained"]` says how many texts were explained
    before `should_stop` (if it did).
    """
    import pandas as pd

    explanations = explain_dataset(
        model.model, model.tokenizer, model.labels, list(texts), progress=progress, should_stop=should_stop,
        max_length=model.max_length, n_steps=n_steps,
    )  # fmt: skip
    per_class = top_words_per_class(explanations, min_count=2, top_k=top_k)
    rows = [
        {"class": label, "word": s.word, "mean attribution": s.mean, "total": s.total, "count": s.count}
        for label, stats in per_class.items()
        for s in stats
    ]
    frame = pd.DataFrame(rows, columns=RANKING_COLUMNS)
    frame.attrs["explained"] = sum(e is not None for e in explanations)
    return frame
