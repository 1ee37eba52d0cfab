"""The scorers a monitor stores rows with: a run's model (labels, confidences and label probabilities),
or an Apply scoring's results read back; and scoring a list of texts a chunk at a time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from trainer.i18n import tr

# texts -> (labels, confidences) or (labels, confidences, probabilities in the monitor's label order)
Scorer = Callable[[list[str]], tuple]


class ScoresMissing(ValueError):
    """An Apply scoring has no score for a text (the file changed since it was scored)."""


def scorer_of(
    run: str | Path, cluster: str | None = None, variant: str | None = None
) -> tuple[Scorer, list[str] | None]:
    """A run's scorer, and the labels its probabilities come in (None where a text has none: entities).
    With a Ray cluster's address (`cluster`, else INSIGHT_RAY_ADDRESS) the texts are scored there; with
    `variant`, by the run's accepted compressed variant of that name."""
    from trainer.runs.cluster import ClusterScorer, address
    from trainer.runs.predictor import RunModel

    if where := address(cluster):
        on_cluster = ClusterScorer(run, where, variant)
        return on_cluster, on_cluster.labels

    model = RunModel.load(Path(run), variant=variant)
    labels = model.probability_labels

    def score(texts: list[str]) -> tuple:
        scored = model.score(texts)
        if scored.probabilities is None:
            return scored.labels, scored.confidence.tolist()
        return scored.labels, scored.confidence.tolist(), scored.probabilities

    return score, labels


def reuse_scores(scored_file: Path, text_column: str, labels: list[str] | None) -> Scorer:
    """A scorer that reads an Apply scoring's results (the same run gives the same text the same score), so
    "Keep watching this" turns a scored file into a monitor without scoring it again."""
    frame = pd.read_csv(scored_file, dtype=str, keep_default_na=False)
    columns = [f"p_{label}" for label in labels or []]
    have = bool(columns) and all(c in frame.columns for c in columns)
    table = frame.set_index(text_column, drop=False)
    table = table[~table.index.duplicated()]

    def score(texts: list[str]) -> tuple:
        rows = table.reindex(texts)
        if rows["predicted"].isna().any():
            missing = texts[int(np.flatnonzero(rows["predicted"].isna().to_numpy())[0])]
            raise ScoresMissing(
                tr("The scored file has no score for the text {text}.", text=repr(missing[:60]))
            )
        confidence = rows["confidence"].astype(float).tolist()
        if not have:
            return rows["predicted"].tolist(), confidence
        return rows["predicted"].tolist(), confidence, rows[columns].astype(float).to_numpy()

    return score


def as_columns(labels, confidences, probabilities=None) -> tuple[list, list, list]:
    """What a scorer gives (or the service answered) as the columns a monitor stores: labels, confidences as
    floats, and each text's probabilities as floats (None each where there are none)."""
    rows = [None] * len(labels) if probabilities is None else [list(map(float, row)) for row in probabilities]
    return list(labels), [float(c) for c in confidences], rows


def score_all(texts: list[str], scorer: Scorer, chunk: int = 2000) -> tuple[list, list, list]:
    """Labels, confidences and probability rows (None each where the scorer gives none), `chunk` at a time."""
    predicted, confidence, probs = [], [], []
    for start in range(0, len(texts), chunk):
        labels, confidences, rows = as_columns(*scorer(texts[start : start + chunk]))
        predicted += labels
        confidence += confidences
        probs += rows
    return predicted, confidence, probs
