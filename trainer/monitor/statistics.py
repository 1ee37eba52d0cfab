"""A monitor's statistics, without SQL: which buckets a batch makes due for testing, each (group, bucket)'s
moments from the stored rows' label probabilities, the alert rule of trainer.evaluate.trends run over them
at the level each look may spend (trainer.evaluate.trends.Looks), and how the latest batches' confidence
compares with the run's validation texts (trainer.evaluate.drift)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trainer.evaluate.trends import ALL_GROUPS, BASELINE, Alert, Looks, Moments, alerts, moments_from_counts

Key = tuple[str, pd.Timestamp]  # (group, bucket start)


def due_buckets(looks: Looks, touched: set[pd.Timestamp], latest: pd.Timestamp) -> set[pd.Timestamp]:
    """The buckets to test: those a batch touched, and those it completed (a later bucket now holds rows)."""
    completed = {b for (_, b), (done, _) in looks.state.items() if not done and b < latest}
    return touched | completed


def baseline_since(keys: list[Key], due: set[pd.Timestamp]) -> pd.Timestamp:
    """The earliest bucket start the test of `due` reads: each series' baseline reaches back BASELINE of
    its own buckets."""
    series: dict[str, list[pd.Timestamp]] = {}
    for group, bucket in keys:
        series.setdefault(group, []).append(bucket)
    since = min(due)
    for starts in series.values():
        starts.sort()
        later = [i for i, b in enumerate(starts) if b >= min(due)]
        if later:
            since = min(since, starts[max(0, later[0] - BASELINE)])
    return since


def probability_moments(
    rows: pd.DataFrame, known: list[str], labels: list[str], grouped: bool
) -> dict[Key, Moments]:
    """Per (group, bucket) moments from each row's probabilities (`rows`: bucket, grp, predicted, probs, the
    probabilities in the order of `known`); a row with none counts as its predicted label. Every group
    together is ALL_GROUPS; the groups apart only where the monitor has a group column."""
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(rows), len(labels)))
    have = rows["probs"].map(lambda p: isinstance(p, (list, np.ndarray)) and len(p) == len(known)).to_numpy()
    if have.any():
        matrix[have, : len(known)] = np.stack(rows.loc[have, "probs"].map(np.asarray).to_list())
    missing = np.flatnonzero(~have)
    matrix[missing, rows["predicted"].iloc[missing].map(index).to_numpy(dtype=np.int64)] = 1.0
    buckets = pd.to_datetime(rows["bucket"])
    groups = [rows["grp"].astype(str)] if grouped else []
    per: dict[Key, Moments] = {}
    for keys in [*groups, pd.Series(ALL_GROUPS, index=rows.index)]:
        for (group, bucket), where in (
            pd.DataFrame({"g": keys, "b": buckets}).groupby(["g", "b"]).indices.items()
        ):
            predicted = rows["predicted"].iloc[where].map(index).to_numpy(dtype=np.int64)
            per[(str(group), pd.Timestamp(bucket))] = Moments.of(matrix[where], predicted)
    return per


def bucket_moments(
    counts: pd.DataFrame,
    known: list[str],
    due: set[pd.Timestamp],
    rows_since: Callable[[pd.Timestamp], pd.DataFrame],
    grouped: bool,
) -> tuple[list[str], dict[Key, Moments]]:
    """The labels, and per (group, bucket) moments: from the counts of predicted labels for the whole
    history, and from each row's probabilities (`known`: their labels, in order) for the buckets the rule
    will test (`due`) and their baselines (`rows_since(start)`: the stored rows dated `start` or later)."""
    labels, per = moments_from_counts(counts, known + sorted(set(counts["label"]) - set(known)))
    if not known or not due:
        return labels, per
    rows = rows_since(baseline_since(list(per), due))
    if not rows.empty:
        per.update(probability_moments(rows, known, labels, grouped))
    return labels, per


def find_alerts(
    moments: tuple[list[str], dict[Key, Moments]],
    looks: Looks,
    touched: set[pd.Timestamp],
    due: set[pd.Timestamp],
    latest: pd.Timestamp,
) -> tuple[list[Alert], dict[Key, tuple[bool, int]]]:
    """The alerts of the `due` buckets, each tested at the level its look may spend (a bucket complete and
    looked at already, and not touched since, spends nothing); and the looks that changed, to store."""
    before = dict(looks.state)

    def level(group: str, bucket: pd.Timestamp) -> float:
        if bucket not in touched and looks.state.get((group, bucket), (False, 0))[0]:
            return 0.0  # complete and looked at already: nothing new to test
        return looks.spend(group, bucket, complete=bucket < latest)

    found = alerts(moments=moments, only=due, level=level)
    changed = {key: state for key, state in looks.state.items() if before.get(key) != state}
    return found, changed


def confidence_drift(confidence: np.ndarray, run: str | Path) -> Any:
    """How `confidence` (the latest batches') compares with the run's validation texts: the verdict of
    trainer.evaluate.drift, with the share under the run's trust cut against the validation texts' share."""
    from trainer.evaluate.drift import drift
    from trainer.runs import load_run
    from trainer.runs.trust import reference

    validation, cut = reference(load_run(Path(run)))
    expected = float((validation < cut).mean()) if len(validation) else 0.0
    untrusted = float((confidence < cut).mean()) if len(confidence) else 0.0
    return drift(confidence, validation, untrusted, expected)
