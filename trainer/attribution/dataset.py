"""Many texts at once: explain a split in the background, and rank the words that matter per label."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from trainer.attribution.api import explain
from trainer.attribution.engine import Explanation
from trainer.attribution.token_words import is_punctuation
from trainer.data.common_words import common_words, left_out

Progress = Callable[[int, int], None]


BOOTSTRAP = 1000  # resamples for each word's interval
SAMPLE = 200  # texts explained first (a stratified sample); the rest only when asked


@dataclass
class WordStat:
    """One word's attribution toward a class, over many explanations.

    `low`, `high`: a 95% bootstrap interval of the mean (when asked for).
    """

    word: str
    mean: float
    total: float
    count: int
    low: float | None = None
    high: float | None = None


def bootstrap_interval(
    scores: Sequence[float], rounds: int = BOOTSTRAP, seed: int = 0
) -> tuple[float, float]:
    """95% percentile-bootstrap interval of the mean of `scores`."""
    values = np.asarray(scores, dtype=np.float64)
    if len(values) < 2:
        return float(values.mean()), float(values.mean())
    means = np.random.default_rng(seed).choice(values, size=(rounds, len(values))).mean(1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def stratified_order(groups: Sequence[str], seed: int = 0) -> list[int]:
    """Every index once, shuffled within each group and interleaved so that any prefix keeps each
    group's share: the first n texts are a stratified sample of all of them."""
    rng = np.random.default_rng(seed)
    by_group: dict[str, list[int]] = {}
    for i, group in enumerate(groups):
        by_group.setdefault(group, []).append(i)
    keyed = []
    for members in by_group.values():
        members = list(rng.permutation(members))
        keyed += [((k + rng.random()) / len(members), int(i)) for k, i in enumerate(members)]
    return [i for _, i in sorted(keyed)]


def estimate_seconds(n_texts: int, seconds_per_text: float | None) -> float | None:
    """About how long explaining n texts takes at a speed measured on this machine (seconds per text);
    None before any measurement: no guess is made."""
    if seconds_per_text is None or seconds_per_text <= 0:
        return None
    return n_texts * seconds_per_text


def measured_speed(started: float, now: float, done: int) -> float | None:
    """Seconds per text from a start time, the time now and the texts explained since (None before one)."""
    return (now - started) / done if done > 0 and now >= started else None


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
    order: Sequence[int] | None = None,
    on_batch: Callable[[list[Explanation | None]], None] | None = None,
    **kwargs: Any,
) -> list[Explanation | None]:
    """Explain many texts, reporting progress(done, total); safe in a background thread.

    `order`: which texts to explain, in that order (default: every text, longest first). `on_batch` is
    called with the results so far after each batch. Returns one entry per text in input order: None for
    texts not reached (not in `order`, or after should_stop() said so).
    """
    out: list[Explanation | None] = [None] * len(texts)
    targets = list(targets) if targets is not None else [None] * len(texts)
    if order is None:
        lengths = [len(t) for t in texts]  # characters: a cheap proxy for length to sort by
        order = sorted(range(len(texts)), key=lambda i: -lengths[i])
    order = list(order)
    total = len(order)
    if progress:
        progress(0, total)
    for start in range(0, total, batch_size):
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
            progress(min(start + batch_size, total), total)
        if on_batch:
            on_batch(out)
    return out


def top_words_per_class(
    explanations: Sequence[Explanation | None],
    min_count: int = 2,
    top_k: int = 10,
    by: str = "mean",
    skip_punctuation: bool = False,
    interval: bool = False,
    leave_out: bool = False,
) -> dict[str, list[WordStat]]:
    """Per target class, the lower-cased words whose attribution most pushes toward it.

    Only words seen at least `min_count` times with a positive `by` ("mean" or "total") are kept.
    `leave_out`: no punctuation, symbols, pieces of words or common words (trainer.data.common_words).
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
            if leave_out and left_out(word) is not None:
                continue
            per_word.setdefault(word.lower(), []).append(score)
    result = {}
    for label, per_word in sums.items():
        stats = [WordStat(w, float(np.mean(v)), float(np.sum(v)), len(v)) for w, v in per_word.items()]
        stats = [s for s in stats if s.count >= min_count and getattr(s, by) > 0]
        stats.sort(key=lambda s: (-getattr(s, by), s.word))
        result[label] = stats[:top_k]
        if interval:
            for stat in result[label]:
                stat.low, stat.high = bootstrap_interval(per_word[stat.word])
    return result


RANKING_COLUMNS = ["class", "word", "mean attribution", "low", "high", "total", "count"]


def ranking_frame(explanations: Sequence[Explanation | None], top_k: int = 15, leave_out: bool = True) -> Any:
    """The words that push most toward each label, with a 95% bootstrap interval on each mean; by default
    without punctuation, pieces of words and common words (attrs["common_left_out"]: how many; 0: none)."""
    import pandas as pd

    per_class = top_words_per_class(
        explanations, min_count=2, top_k=top_k, interval=True, leave_out=leave_out
    )
    rows = [
        {
            "class": label,
            "word": s.word,
            "mean attribution": s.mean,
            "low": s.low,
            "high": s.high,
            "total": s.total,
            "count": s.count,
        }  # fmt: skip
        for label, stats in per_class.items()
        for s in stats
    ]
    frame = pd.DataFrame(rows, columns=RANKING_COLUMNS)
    frame.attrs["explained"] = sum(e is not None for e in explanations)
    frame.attrs["common_left_out"] = len(common_words()) if leave_out else 0  # 0: nothing was left out
    return frame


def rank_words(
    model: Any,
    texts: Sequence[str],
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    predicted: Sequence[str] | None = None,
    limit: int | None = SAMPLE,
    on_update: Callable[[Any], None] | None = None,
    n_steps: int = 16,
    max_steps: int = 256,
    top_k: int = 15,
    on_speed: Callable[[float], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Any:
    """Explain texts toward their prediction and rank the words per class, refining as it goes.

    Texts are taken in a stratified order (by `predicted` label), so the first `limit` are a sample that
    answers early; `limit=None` goes on through every text. `on_update(frame)` receives the ranking after
    every batch. Integrated gradients start at `n_steps` Gauss-Legendre steps and take more only where the
    completeness check (relative delta within 5%) asks for it. `model` is a trainer.runs.predictor.RunModel.
    `on_speed(seconds_per_text)` receives this machine's measured speed after every batch (`clock` measures).
    """
    order = stratified_order(list(predicted) if predicted is not None else [""] * len(texts))
    order = order[:limit] if limit else order
    started = clock()

    def publish(done: list[Explanation | None]) -> None:
        speed = measured_speed(started, clock(), sum(e is not None for e in done))
        if on_speed is not None and speed is not None:
            on_speed(speed)
        if on_update is not None:
            frame = ranking_frame(done, top_k)
            frame.attrs.update(total=len(texts), planned=len(order))
            on_update(frame)

    explanations = explain_dataset(
        model.model, model.tokenizer, model.labels, list(texts), progress=progress, should_stop=should_stop,
        order=order, on_batch=publish, max_length=model.max_length, n_steps=n_steps, max_steps=max_steps,
    )  # fmt: skip
    frame = ranking_frame(explanations, top_k)
    frame.attrs.update(total=len(texts), planned=len(order))
    return frame
