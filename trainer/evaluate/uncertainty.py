"""Scores with their uncertainty: 95% bootstrap intervals over the test split, and paired tests.

Every headline score is a function of a few counts summed over the test split's examples (texts, or
sentences for entities): right answers, and per class the true positives, the predictions and the
gold examples. `unit_counts` writes those per example as one row of a matrix; a bootstrap resample
sums the rows it drew, so a thousand resamples cost a thousand weighted sums, not a thousand
evaluations. Entities are matched like seqeval's default mode (same span and type: `metrics.entity_spans`).

Intervals are percentile intervals of B = 1000 resamples (seeded: the same run gives the same interval).
Two runs on the same test split are compared pairwise: McNemar's exact test for accuracy (only the
examples one run gets right and the other wrong count), and a paired bootstrap for the F1 scores (the
same resampled examples for both runs; the p-value is twice the share of resampled differences on the
other side of zero).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from trainer.evaluate.metrics import entity_spans
from trainer.i18n import N_, tr, trn

RESAMPLES = 1000
LEVEL = 0.95


@dataclass
class Counts:
    """Per-example counts (rows) whose column sums give every headline score."""

    kind: str  # "text" | "token"
    classes: list[str]  # labels (text) or entity types (token)
    matrix: np.ndarray  # (examples, columns): right, total, then tp / predicted / gold per class

    @property
    def n(self) -> int:
        return len(self.matrix)


def unit_counts(
    kind: str, gold: Sequence, predicted: Sequence, labels: Sequence[str] | None = None
) -> Counts:
    """Counts for text labels (`gold`/`predicted`: one label per text) or tag sequences (one list per sentence)."""
    if kind == "text":
        classes = list(labels) if labels is not None else sorted({*map(str, gold), *map(str, predicted)})
        index = {c: i for i, c in enumerate(classes)}
        k = len(classes)
        matrix = np.zeros((len(gold), 2 + 3 * k))
        for row, (g, p) in enumerate(zip(map(str, gold), map(str, predicted), strict=True)):
            matrix[row, 0], matrix[row, 1] = g == p, 1
            if g == p and g in index:
                matrix[row, 2 + index[g]] = 1
            if p in index:
                matrix[row, 2 + k + index[p]] = 1
            if g in index:
                matrix[row, 2 + 2 * k + index[g]] = 1
        return Counts("text", classes, matrix)
    gold_spans = [set(entity_spans(list(g))) for g in gold]
    pred_spans = [set(entity_spans(list(p))) for p in predicted]
    classes = sorted({kind_ for spans in gold_spans + pred_spans for _, _, kind_ in spans})
    index = {c: i for i, c in enumerate(classes)}
    k = len(classes)
    matrix = np.zeros((len(gold), 2 + 3 * k))
    for row, (g, p, gs, ps) in enumerate(zip(gold, predicted, gold_spans, pred_spans, strict=True)):
        matrix[row, 0] = sum(a == b for a, b in zip(g, p, strict=True))  # words tagged right
        matrix[row, 1] = len(g)
        for _, _, t in gs & ps:
            matrix[row, 2 + index[t]] += 1
        for _, _, t in ps:
            matrix[row, 2 + k + index[t]] += 1
        for _, _, t in gs:
            matrix[row, 2 + 2 * k + index[t]] += 1
    return Counts("token", classes, matrix)


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.zeros_like(a, dtype=float), where=b > 0)


def scores(counts: Counts, sums: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The headline scores from summed counts (`sums`: (..., columns); default the whole split)."""
    s = counts.matrix.sum(0) if sums is None else sums
    k = len(counts.classes)
    right, total = s[..., 0], s[..., 1]
    tp, pred, gold = s[..., 2 : 2 + k], s[..., 2 + k : 2 + 2 * k], s[..., 2 + 2 * k :]
    precision, recall = _ratio(tp, pred), _ratio(tp, gold)
    f1 = _ratio(2 * tp, pred + gold)
    if counts.kind == "text":
        out = {
            "accuracy": _ratio(right, total),
            "macro_f1": f1.mean(-1) if k else right * 0,
            "weighted_f1": _ratio((f1 * gold).sum(-1), gold.sum(-1)),
            "macro_recall": recall.mean(-1) if k else right * 0,
            "macro_precision": precision.mean(-1) if k else right * 0,
        }
        return out
    all_tp, all_pred, all_gold = tp.sum(-1), pred.sum(-1), gold.sum(-1)
    return {
        "f1": _ratio(2 * all_tp, all_pred + all_gold),
        "micro_f1": _ratio(2 * all_tp, all_pred + all_gold),
        "micro_precision": _ratio(all_tp, all_pred),
        "micro_recall": _ratio(all_tp, all_gold),
        "macro_f1": f1.mean(-1) if k else right * 0,
        "token_accuracy": _ratio(right, total),
        "accuracy": _ratio(right, total),
    }


def resampled_sums(
    matrices: Sequence[np.ndarray], resamples: int = RESAMPLES, seed: int = 0
) -> list[np.ndarray]:
    """Column sums of `resamples` bootstrap resamples of the rows, the same rows for every matrix."""
    n = len(matrices[0])
    rng = np.random.default_rng(seed)
    out = [np.zeros((resamples, m.shape[1])) for m in matrices]
    if n == 0:
        return out
    width = sum(m.shape[1] for m in matrices)
    chunk = max(1, int(4e6 // max(1, n * width)))
    for start in range(0, resamples, chunk):
        rows = rng.integers(0, n, size=(min(chunk, resamples - start), n))
        for m, target in zip(matrices, out, strict=True):
            target[start : start + len(rows)] = m[rows].sum(1)
    return out


def intervals(counts: Counts, resamples: int = RESAMPLES, seed: int = 0, level: float = LEVEL) -> dict:
    """{score: [low, high]}: the percentile bootstrap interval of every headline score."""
    if counts.n == 0:
        return {}
    (sums,) = resampled_sums([counts.matrix], resamples, seed)
    tail = (1 - level) / 2 * 100
    return {
        name: [float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))]
        for name, values in scores(counts, sums).items()
    }


def counts_of(kind: str, frame, labels: Sequence[str] | None = None) -> Counts:
    """Counts from a predictions table (text: gold / predicted labels; token: space-separated tags)."""
    if kind == "text":
        return unit_counts("text", frame["gold"].astype(str), frame["predicted"].astype(str), labels)
    gold = [str(g).split() for g in frame["gold"]]
    predicted = [str(p).split() for p in frame["predicted"]]
    return unit_counts("token", gold, predicted)


# ---------------------------------------------------------------- paired comparisons


@dataclass
class Paired:
    """How run B differs from run A on one score, over the same examples."""

    score: str
    a: float
    b: float
    low: float  # the difference's 95% interval (paired bootstrap)
    high: float
    p_value: float
    test: str  # "McNemar" | "paired bootstrap"

    @property
    def difference(self) -> float:
        return self.b - self.a


def mcnemar(right_a: np.ndarray, right_b: np.ndarray) -> tuple[int, int, float]:
    """(A right and B wrong, A wrong and B right, exact two-sided p-value)."""
    from scipy.stats import binomtest

    only_a = int(np.sum(right_a & ~right_b))
    only_b = int(np.sum(~right_a & right_b))
    if only_a + only_b == 0:
        return only_a, only_b, 1.0
    return only_a, only_b, float(binomtest(min(only_a, only_b), only_a + only_b, 0.5).pvalue)


def paired(a: Counts, b: Counts, score: str, resamples: int = RESAMPLES, seed: int = 0) -> Paired:
    """B against A on `score`; the counts must describe the same examples in the same order."""
    if a.n != b.n:
        raise ValueError(tr("paired scores need the same examples in both runs"))
    point_a, point_b = float(scores(a)[score]), float(scores(b)[score])
    sums_a, sums_b = resampled_sums([a.matrix, b.matrix], resamples, seed)
    deltas = scores(b, sums_b)[score] - scores(a, sums_a)[score]
    low, high = (float(np.percentile(deltas, q)) for q in ((1 - LEVEL) / 2 * 100, (1 + LEVEL) / 2 * 100))
    if score in ("accuracy", "token_accuracy") and a.kind == "text":
        _, _, p = mcnemar(a.matrix[:, 0].astype(bool), b.matrix[:, 0].astype(bool))
        return Paired(score, point_a, point_b, low, high, p, "McNemar")
    if point_a == point_b and np.all(deltas == 0):
        p = 1.0
    else:
        p = min(1.0, 2 * min(np.mean(deltas <= 0), np.mean(deltas >= 0)))
        p = max(p, 1 / resamples)
    return Paired(score, point_a, point_b, low, high, float(p), "paired bootstrap")


# How each paired test is named in a sentence (Paired.test keeps the English name).
TEST_NAMES = {"McNemar": N_("McNemar"), "paired bootstrap": N_("paired bootstrap")}


def chance_words(p_value: float) -> str:
    """How often chance alone would give a difference this large, in words."""
    if p_value < 0.001:
        return tr("less than 1 time in 1,000")
    if p_value < 0.01:
        return tr("less than 1 time in 100")
    times = max(1, round(p_value * 100))
    return trn("about {n} time in 100", "about {n} times in 100", times)


def in_words(result: Paired, name_a: str, name_b: str, title: str) -> str:
    """'B is better than A on accuracy: …. A difference this large would happen by chance …'."""
    diff = result.difference
    detail = tr(
        "{name_b} {b} against {name_a} {a} ({diff} points; 95% interval of the difference {low} to {high})",
        name_b=name_b,
        b=f"{result.b:.3f}",
        name_a=name_a,
        a=f"{result.a:.3f}",
        diff=f"{diff * 100:+.1f}",
        low=f"{result.low * 100:+.1f}",
        high=f"{result.high * 100:+.1f}",
    )
    chance = tr(
        "a difference this large would happen by chance {how_often}", how_often=chance_words(result.p_value)
    )
    test = tr(
        "{test}, p = {p}",
        test=tr(TEST_NAMES[result.test]) if result.test in TEST_NAMES else result.test,
        p=f"{result.p_value:.2g}",
    )
    title = tr(title)  # a score's title (a catalogue id) or key
    if result.p_value < 0.05 and diff != 0:
        better, worse = (name_b, name_a) if diff > 0 else (name_a, name_b)
        return tr(
            "{better} is better than {worse} on {title}: {detail}. Without a real difference, {chance} ({test}).",
            better=better,
            worse=worse,
            title=title,
            detail=detail,
            chance=chance,
            test=test,
        )
    return tr(
        "{name_a} and {name_b} are not clearly different on {title}: {detail}. With no real difference, "
        "{chance} ({test}), too often to tell them apart.",
        name_a=name_a,
        name_b=name_b,
        title=title,
        detail=detail,
        chance=chance,
        test=test,
    )


def run_intervals(run) -> dict:
    """{score: [low, high]} over a run's test predictions; kept in intervals.json until they change."""
    folder = run.folder
    stamp = folder.predictions_stamp()
    if stamp is None:
        return {}
    saved = folder.intervals()
    if saved.get("predictions_mtime_ns") == stamp:
        return saved.get("intervals", {})
    frame = folder.predictions()
    if frame is None or "gold" not in frame.columns or frame.empty:
        return {}
    kind = run.adapter.interval_unit
    found = intervals(counts_of(kind, frame, run.labels if kind == "text" else None))
    folder.write_intervals(
        {"predictions_mtime_ns": stamp, "resamples": RESAMPLES, "level": LEVEL, "intervals": found}
    )
    return found


def interval_text(interval: list[float] | None, percent: bool = True) -> str:
    """'95%: 87.0–95.1' (percent) or '95%: 0.870–0.951'."""
    if not interval:
        return ""
    low, high = interval
    return f"95%: {low:.1%}–{high:.1%}".replace("%–", "–") if percent else f"95%: {low:.3f}–{high:.3f}"
