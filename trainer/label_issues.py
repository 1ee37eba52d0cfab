"""Likely label mistakes, by confident learning on out-of-sample predicted probabilities.

The probabilities must come from a model that did not train on the example (cross-validated, or the
test split): a model scored on its own training data agrees with every label it memorised.

Rule (Northcutt et al., "Confident Learning", the confident-joint off-diagonal): each class j has a
threshold t_j = mean predicted probability of j over the examples labelled j. An example labelled g is
a likely issue if p_g < t_g and some other class k has p_k >= t_k; the suggested label is the such k
with the highest p_k. Issues are ranked by self-confidence (p_g, ascending) or by normalized margin
(p_g - max_{k != g} p_k, ascending).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

RANKINGS = ("self_confidence", "normalized_margin")


@dataclass
class LabelIssue:
    """One example whose given label looks wrong."""

    index: int
    given: str
    suggested: str
    given_prob: float
    suggested_prob: float
    score: float  # label quality in [0, 1]: lower = more suspicious

    def to_dict(self) -> dict:
        return asdict(self)


def class_thresholds(given: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """(C,) per-class thresholds: mean prob of class j over examples labelled j (inf if none)."""
    n_classes = probabilities.shape[1]
    out = np.full(n_classes, np.inf)
    for j in range(n_classes):
        rows = given == j
        if rows.any():
            out[j] = probabilities[rows, j].mean()
    return out


def label_quality(
    given: np.ndarray, probabilities: np.ndarray, ranking: str = "self_confidence"
) -> np.ndarray:
    """(N,) score per example, lower = more likely mislabelled."""
    if ranking not in RANKINGS:
        raise ValueError(f"ranking must be one of {', '.join(RANKINGS)}, not {ranking!r}")
    rows = np.arange(len(given))
    self_conf = probabilities[rows, given]
    if ranking == "self_confidence":
        return self_conf
    others = probabilities.copy()
    others[rows, given] = -np.inf
    return (self_conf - others.max(axis=1) + 1.0) / 2.0  # margin in [-1, 1] mapped to [0, 1]


def find_label_issues(
    labels: Sequence[str],
    probabilities: np.ndarray,
    class_names: Sequence[str],
    ranking: str = "self_confidence",
) -> list[LabelIssue]:
    """Examples whose given label is probably wrong, most suspicious first."""
    probs = np.asarray(probabilities, dtype=np.float64)
    names = list(class_names)
    if probs.ndim != 2 or probs.shape != (len(labels), len(names)):
        raise ValueError(f"probabilities must have shape ({len(labels)}, {len(names)}), got {probs.shape}")
    unknown = sorted(set(labels) - set(names))
    if unknown:
        raise ValueError(f"Labels not among the classes: {', '.join(map(str, unknown))}")
    if len(labels) == 0:
        return []
    given = np.array([names.index(label) for label in labels])
    thresholds = class_thresholds(given, probs)
    above = probs >= thresholds[None, :]  # (N, C)
    rows = np.arange(len(given))
    above[rows, given] = False
    suspicious = (probs[rows, given] < thresholds[given]) & above.any(axis=1)
    quality = label_quality(given, probs, ranking)
    issues = []
    for i in np.flatnonzero(suspicious):
        candidates = np.where(above[i], probs[i], -np.inf)
        k = int(candidates.argmax())
        issues.append(
            LabelIssue(
                int(i),
                names[given[i]],
                names[k],
                float(probs[i, given[i]]),
                float(probs[i, k]),
                float(quality[i]),
            )
        )
    issues.sort(key=lambda issue: (issue.score, issue.index))
    return issues


ISSUE_COLUMNS = ["row", "text", "given label", "suggested label", "label quality"]


def issues_frame(predictions: pd.DataFrame, labels: list[str]) -> pd.DataFrame | None:
    """Likely mislabeled rows of a predictions table (row, text, given, suggested, quality), worst first.

    `predictions` is predictions.csv (gold and one p_<label> column per class); None without probabilities.
    """
    columns = [f"p_{label}" for label in labels]
    if not len(predictions) or not all(c in predictions.columns for c in columns):
        return None
    probs = predictions[columns].to_numpy(dtype=np.float64)
    given = predictions["gold"].astype(str)
    keep = given.isin(labels).to_numpy()
    rows = np.flatnonzero(keep)
    issues = find_label_issues(list(given[keep]), probs[keep], labels)
    text = "tokens" if "tokens" in predictions.columns and "text" not in predictions.columns else "text"
    records = [
        {
            "row": int(rows[issue.index]),
            "text": predictions.iloc[int(rows[issue.index])][text],
            "given label": issue.given,
            "suggested label": issue.suggested,
            "label quality": float(issue.score),
        }
        for issue in issues
    ]
    return pd.DataFrame(records, columns=ISSUE_COLUMNS)
