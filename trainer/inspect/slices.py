"""Weak slices (issue 31, first part): the groups of test examples on which the model is wrong more often
than on the rest, beyond what chance explains.

A slice is every test example sharing one feature value:
- a word (or two words in a row) that at least `min_rows` examples hold, whole words only (no punctuation,
  pieces or common words: trainer.data.common_words);
- a length band (the quartiles of the word counts);
- the true label;
- entity runs: an entity type the sentence holds, and an entity length (1, 2, 3 or more words) it holds;
- the likely label issues found in the test split;
- a file a person gives (trainer.inspect.given_file): each group of each of its other columns
  ("column:source" = "web"; dates and numbers in four bands).

For each slice: its error rate (an entity run: the share of sentences with a wrong tag, and beside it the
slice's entity F1 by seqeval, which has no test of its own) with a Wilson 95%
interval, which holds its coverage for small counts; a one-sided Fisher exact test of the slice against
the rest of the test split; and a q-value by Benjamini-Hochberg over every slice tried. A slice is flagged
when its q-value is at most `alpha` (5% by default): among flagged slices, at most 1 in 20 is expected to
be chance, however many were tried.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from trainer.evaluate.metrics import entity_spans

ALPHA = 0.05
MIN_ROWS = 10  # a slice needs this many examples to be tested
MOST_WORDS = 400  # the most frequent words and word pairs tried (the rest have few examples anyway)


@dataclass
class Slice:
    feature: str  # "word" | "length" | "label" | "entity_type" | "label_issue"
    value: str
    n: int
    errors: int
    error_rate: float
    ci_low: float
    ci_high: float
    p_value: float
    q_value: float = 1.0
    flagged: bool = False
    entity_f1: float | None = None  # entity runs: the slice's entity F1 (seqeval), beside its error rate

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class SliceReport:
    overall_error_rate: float
    n: int
    alpha: float
    slices: list[Slice]  # flagged first, then by p-value

    @property
    def flagged(self) -> list[Slice]:
        return [s for s in self.slices if s.flagged]


def wilson(errors: int, n: int) -> tuple[float, float]:
    """The Wilson score 95% interval of errors/n."""
    from scipy.stats import binomtest

    if n == 0:
        return 0.0, 1.0
    ci = binomtest(errors, n).proportion_ci(confidence_level=0.95, method="wilson")
    return float(ci.low), float(ci.high)


def _words(text: str) -> list[str]:
    from trainer.data.common_words import left_out
    from trainer.data.word_rule import word_spans

    return [w.lower() for w in (text[a:b] for a, b in word_spans(text)) if left_out(w) is None]


def word_features(
    texts: Sequence[str], min_rows: int, most: int = MOST_WORDS
) -> dict[tuple[str, str], np.ndarray]:
    """Each word and each pair of words in a row held by at least `min_rows` texts (the `most` commonest)."""
    held: list[set[str]] = []
    for text in texts:
        words = _words(str(text))
        held.append(set(words) | {f"{a} {b}" for a, b in zip(words, words[1:], strict=False)})
    counts = Counter(w for row in held for w in row)
    common = [w for w, c in counts.most_common() if c >= min_rows and c <= len(held) - min_rows][:most]
    return {("word", w): np.array([w in row for row in held]) for w in common}


def length_features(texts: Sequence[str]) -> dict[tuple[str, str], np.ndarray]:
    """Four bands of length, in words, cut at the quartiles (bands that are empty or everything dropped)."""
    lengths = np.array([len(str(t).split()) for t in texts])
    if len(lengths) == 0:
        return {}
    cuts = sorted(set(np.quantile(lengths, [0.25, 0.5, 0.75]).round().astype(int).tolist()))
    edges = [int(lengths.min()) - 1, *cuts, int(lengths.max())]
    out = {}
    for low, high in zip(edges, edges[1:], strict=False):
        mask = (lengths > low) & (lengths <= high)
        if 0 < mask.sum() < len(lengths):
            out[("length", f"{low + 1}–{high}")] = mask  # words
    return out


def entity_length_features(gold: Sequence[str]) -> dict[tuple[str, str], np.ndarray]:
    """Sentences holding an entity of 1, 2, or 3 or more words (by their gold tags)."""
    lengths = [{min(b - a, 3) for a, b, _ in entity_spans(str(tags).split())} for tags in gold]
    names = {1: "1", 2: "2", 3: "3+"}
    return {("entity_length", names[n]): np.array([n in held for held in lengths]) for n in (1, 2, 3)}


def value_features(feature: str, values: Sequence[object]) -> dict[tuple[str, str], np.ndarray]:
    array = np.array([str(v) for v in values], dtype=object)
    return {(feature, v): array == v for v in sorted(set(array.tolist()))}


def find(errors: np.ndarray, candidates: dict[tuple[str, str], np.ndarray], alpha: float = ALPHA,
         min_rows: int = MIN_ROWS) -> SliceReport:  # fmt: skip
    """Test every candidate slice with at least `min_rows` examples against the rest; flag by BH at `alpha`."""
    from scipy.stats import false_discovery_control, fisher_exact

    errors = np.asarray(errors, dtype=bool)
    total, wrong = len(errors), int(errors.sum())
    found: list[Slice] = []
    for (feature, value), mask in candidates.items():
        n = int(mask.sum())
        if n < min_rows or n == total:
            continue
        k = int(errors[mask].sum())
        rest_n, rest_k = total - n, wrong - k
        p = float(fisher_exact([[k, n - k], [rest_k, rest_n - rest_k]], alternative="greater").pvalue)
        low, high = wilson(k, n)
        found.append(Slice(feature, value, n, k, k / n, low, high, min(p, 1.0)))
    if found:
        q = false_discovery_control([s.p_value for s in found], method="bh")
        for s, qv in zip(found, q, strict=True):
            s.q_value = float(qv)
            s.flagged = bool(qv <= alpha)
    found.sort(key=lambda s: (not s.flagged, s.p_value, -s.error_rate, s.feature, s.value))
    return SliceReport(wrong / total if total else 0.0, total, alpha, found)


def candidates(predictions: pd.DataFrame, entity_run: bool, issue_rows: Sequence[int] = (),
               min_rows: int = MIN_ROWS, columns: dict[str, Sequence[str]] | None = None,
               ) -> dict[tuple[str, str], np.ndarray]:  # fmt: skip
    """Every candidate slice of a predictions table (feature, value) -> which rows it holds."""
    column = "tokens" if entity_run and "tokens" in predictions else "text"
    texts = predictions[column].astype(str).tolist()
    gold = predictions["gold"].astype(str).tolist()
    found = {**word_features(texts, min_rows), **length_features(texts)}
    if entity_run:
        types = [{kind for _, _, kind in entity_spans(tags.split())} for tags in gold]
        for kind in sorted(set().union(*types)) if types else []:
            found[("entity_type", kind)] = np.array([kind in t for t in types])
        found.update(entity_length_features(gold))
    else:
        found.update(value_features("label", gold))
    for name, groups in (columns or {}).items():
        found.update({k: m for k, m in value_features(f"column:{name}", groups).items() if k[1]})
    if len(issue_rows):
        mask = np.zeros(len(texts), dtype=bool)
        mask[[i for i in issue_rows if 0 <= i < len(texts)]] = True
        found[("label_issue", "likely label issue")] = mask
    return found


def for_predictions(predictions: pd.DataFrame, entity_run: bool, issue_rows: Sequence[int] = (),
                    alpha: float = ALPHA, min_rows: int = MIN_ROWS,
                    columns: dict[str, Sequence[str]] | None = None) -> SliceReport:  # fmt: skip
    """The weak slices of a run's test predictions (predictions.csv: text or tokens, gold, predicted), and of
    `columns`' groups (column -> each row's group, "" for none) when given."""
    gold, predicted = predictions["gold"].astype(str), predictions["predicted"].astype(str)
    found = candidates(predictions, entity_run, issue_rows, min_rows, columns)
    report = find((gold != predicted).to_numpy(), found, alpha, min_rows)
    if entity_run:
        _entity_f1(report, found, gold.tolist(), predicted.tolist())
    return report


def _entity_f1(report: SliceReport, candidates: dict, gold: list[str], predicted: list[str]) -> None:
    """Each slice's entity F1 (seqeval, strict BIO off as in the run's metrics) over its sentences."""
    from seqeval.metrics import f1_score

    golds, preds = [g.split() for g in gold], [p.split() for p in predicted]
    for s in report.slices:
        rows = np.flatnonzero(candidates[(s.feature, s.value)])
        g, p = [golds[i] for i in rows], [preds[i] for i in rows]
        if all(len(a) == len(b) for a, b in zip(g, p, strict=True)):
            s.entity_f1 = float(f1_score(g, p, zero_division=0))


def for_file(model, path, column: str | None = None, alpha: float = ALPHA,
             min_rows: int = MIN_ROWS) -> SliceReport:  # fmt: skip
    """The weak slices of a labelled file a person gives, scored by the run's model, with its columns' groups
    among the candidates (DataError when it holds no labels the run knows)."""
    from trainer.data.errors import DataError
    from trainer.i18n import tr
    from trainer.inspect.given_file import read

    given = read(model, path, column)
    if given.gold is None:
        raise DataError(tr("{file} has no column of the labels this run knows ({labels}): slices need the right "
                           "answers to count the wrong ones.", file=Path(path).name,
                           labels=", ".join(map(str, model.labels[:8]))))  # fmt: skip
    frame = model.frame(given.inputs, model.predict(given.inputs), given.gold)
    return for_predictions(frame, model.adapter.unit == "sentence", (), alpha, min_rows, given.columns)


def _test_issue_rows(run) -> list[int]:
    """The positions in the test split of the run's likely label issues."""
    issues = run.folder.issues()
    return [] if issues is None else issues[issues["split"] == "test"]["index"].astype(int).tolist()


def for_run(run, alpha: float = ALPHA, min_rows: int = MIN_ROWS) -> SliceReport | None:
    """The weak slices of a run's test predictions, its likely label issues of the test split among the
    candidates; None when the run has no test predictions (yet)."""
    predictions = run.folder.predictions()
    if predictions is None or predictions.empty:
        return None
    return for_predictions(
        predictions, run.adapter.unit == "sentence", _test_issue_rows(run), alpha, min_rows
    )


def rows_of(run, feature: str, value: str, min_rows: int = MIN_ROWS) -> list[int]:
    """The positions in the test split (the rows of predictions.csv) of one slice's examples, the candidates
    built as `for_run` builds them; [] when the run has no test predictions or no such slice."""
    predictions = run.folder.predictions()
    if predictions is None or predictions.empty:
        return []
    found = candidates(predictions, run.adapter.unit == "sentence", _test_issue_rows(run), min_rows)
    mask = found.get((feature, value))
    return [] if mask is None else np.flatnonzero(mask).tolist()
