"""What the Monitors page and the command line read of a monitor besides its counts and alerts: the texts
behind an alert, the texts of a stretch of time, the rows to label, the latest batches' confidence against
the run's validation texts, what retention kept, and the two runs' label shares side by side."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from trainer.monitor import statistics
from trainer.monitor.monitor import Monitor


def examples(monitor: Monitor, alert: dict, limit: int = 8) -> list[str]:
    """Texts behind an alert: its bucket, group and label (texts past retention are gone)."""
    start = pd.Timestamp(alert["bucket_start"])
    return monitor.store.examples(monitor.settings.bucket, start, alert["label"], alert.get("group"), limit)


def texts_in(
    monitor: Monitor, start: pd.Timestamp, end: pd.Timestamp, group: str | None, limit: int = 12
) -> list[str]:
    return monitor.store.texts_in(start, end, group, limit)


def least_certain(monitor: Monitor, limit: int = 200) -> pd.DataFrame:
    """The stored rows the model was least sure of, for the labelling round trip."""
    return monitor.store.least_certain(limit)


def confidences(monitor: Monitor, last_batches: int = 2) -> np.ndarray:
    return monitor.store.confidences(last_batches)


def drift(monitor: Monitor, last_batches: int = 2) -> Any:
    """How the latest batches' confidence compares with the run's validation texts (trainer.evaluate.drift)."""
    return statistics.confidence_drift(monitor.store.confidences(last_batches), monitor.settings.run)


def texts_kept(monitor: Monitor) -> tuple[int, int]:
    """(rows whose text is kept, rows)."""
    return monitor.store.texts_kept()


def side_by_side(monitor: Monitor) -> pd.DataFrame:
    """Each label's share per bucket over all groups, under the current run and under the rescoring run:
    columns bucket, label, n, share, total, and group set to "current" or "rescored"."""
    from trainer.evaluate.trends import ALL_GROUPS, shares

    side = monitor.compare_counts()
    overall = side[side["group"] == ALL_GROUPS]
    return shares(overall.assign(group=overall["run"]).drop(columns="run"))
