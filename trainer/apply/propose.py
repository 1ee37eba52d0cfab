"""The next rows to label (issue 32, first part): where a label helps the model most, and not ten near-copies
of one doubtful text.

Uncertainty with diversity, as cluster-margin active learning does it:
1. every pool row is scored by the run (RunModel.score): its uncertainty is one minus the margin between the
   first and the second label's probability (an entity run: one minus the sentence's mean confidence);
2. the most uncertain rows, CANDIDATES times as many as asked, are grouped by k-means (scikit-learn) on the
   fine-tuned model's vectors into as many groups as rows asked;
3. each group gives its most uncertain row, the most uncertain groups first.
Texts that appear twice in the pool are proposed once; rows of the run's own training split are refused
(they are labelled already).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trainer.data.errors import DataError
from trainer.i18n import tr, trn

CANDIDATES = 5  # the most uncertain rows considered, as a multiple of the rows asked


@dataclass
class Proposal:
    row: int  # the row's position among the pool's rows with text (0-based)
    text: str
    predicted: str
    uncertainty: float


def uncertainty(scored) -> np.ndarray:
    """One minus the margin of the first two labels (text), or one minus the mean confidence (sentences)."""
    if scored.probabilities is not None and scored.probabilities.shape[1] > 1:
        top = np.sort(scored.probabilities, axis=1)
        return 1.0 - (top[:, -1] - top[:, -2])
    return 1.0 - np.asarray(scored.confidence, dtype=float)


def _shown(x) -> str:
    return " ".join(x) if isinstance(x, (list, tuple)) else str(x)


def refuse_training_rows(texts: list[str], training: set[str]) -> None:
    """DataError when the pool holds rows the run trained on (with how many and one of them)."""
    inside = [t for t in texts if t in training]
    if inside:
        raise DataError(trn("{n} row of the pool is in the run's training data already, such as \"{text}\": "
                            "leave the rows it learned from out of the pool.",
                            "{n} rows of the pool are in the run's training data already, such as \"{text}\": "
                            "leave the rows it learned from out of the pool.", len(inside), text=inside[0][:60]))  # fmt: skip


def propose(model, inputs: list, n: int, training: set[str] = frozenset(), seed: int = 0) -> list[Proposal]:
    """The next `n` rows of `inputs` (texts, or sentences as word lists) to label."""
    from sklearn.cluster import KMeans

    if n < 1:
        raise DataError(tr("Ask for at least one row to label."))
    texts = [_shown(x) for x in inputs]
    refuse_training_rows(texts, set(training))
    first = {}
    for i, t in enumerate(texts):
        first.setdefault(t, i)
    rows = np.array(sorted(first.values()))  # each distinct text once
    scored = model.score([texts[i] for i in rows])
    doubt = uncertainty(scored)
    order = np.argsort(-doubt, kind="stable")[: max(n, CANDIDATES * n)]
    if len(order) <= n:
        chosen = list(order)
    else:
        vectors = np.asarray(scored.vectors, dtype=float)[order]
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12
        groups = KMeans(n_clusters=n, n_init=3, random_state=seed).fit_predict(vectors)
        best = {}
        for k, g in zip(order, groups, strict=True):  # order is most uncertain first
            best.setdefault(int(g), int(k))
        chosen = sorted(best.values(), key=lambda k: -doubt[k])
    return [Proposal(int(rows[k]), texts[rows[k]], scored.labels[k], float(doubt[k])) for k in chosen]
