"""What the Monitors page reads of a monitor besides its trend and alerts: the texts behind an alert, the
rows to label, the latest batches' confidence against the run's validation texts, what retention kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trainer.monitor.monitor import Monitor


def examples(monitor: Monitor, alert: dict, limit: int = 8) -> list[str]:
    """Texts behind an alert: its bucket, group and label (texts past retention are gone)."""
    unit, start = monitor.settings.bucket, pd.Timestamp(alert["bucket_start"])
    group = alert.get("group")
    where = " AND grp = ?" if group else ""
    with monitor.store.connect() as con:
        rows = con.execute(f"SELECT body FROM scored WHERE date_trunc('{unit}', happened) = ? AND predicted = ? "
                           f"AND body IS NOT NULL{where} ORDER BY confidence DESC LIMIT {int(limit)}",
                           [start.to_pydatetime(), alert["label"], *([group] if group else [])]).fetchall()  # fmt: skip
    return [r[0] for r in rows]


def texts_in(
    monitor: Monitor, start: pd.Timestamp, end: pd.Timestamp, group: str | None, limit: int = 12
) -> list[str]:
    where = " AND grp = ?" if group else ""
    with monitor.store.connect() as con:
        rows = con.execute(f"SELECT body FROM scored WHERE happened >= ? AND happened < ? AND body IS NOT NULL"
                           f"{where} ORDER BY row_key LIMIT {int(limit)}",
                           [start.to_pydatetime(), end.to_pydatetime(), *([group] if group else [])]).fetchall()  # fmt: skip
    return [r[0] for r in rows]


def least_certain(monitor: Monitor, limit: int = 200) -> pd.DataFrame:
    """The stored rows the model was least sure of, for the labelling round trip."""
    with monitor.store.connect() as con:
        return con.execute("SELECT happened AS time, grp AS \"group\", body AS text, predicted, confidence "
                           f"FROM scored WHERE body IS NOT NULL ORDER BY confidence, row_key LIMIT {int(limit)}").df()  # fmt: skip


def confidences(monitor: Monitor, last_batches: int = 2) -> np.ndarray:
    with monitor.store.connect() as con:
        rows = con.execute("SELECT confidence FROM scored WHERE batch > (SELECT coalesce(max(id), 0) FROM batches) - ?",
                           [int(last_batches)]).fetchall()  # fmt: skip
    return np.array([r[0] for r in rows], dtype=np.float64)


def drift(monitor: Monitor, last_batches: int = 2) -> Any:
    """How the latest batches' confidence compares with the run's validation texts (trainer.evaluate.drift)."""
    from trainer.evaluate.drift import drift
    from trainer.runs import load_run
    from trainer.runs.trust import reference

    confidence = confidences(monitor, last_batches)
    validation, cut = reference(load_run(Path(monitor.settings.run)))
    expected = float((validation < cut).mean()) if len(validation) else 0.0
    untrusted = float((confidence < cut).mean()) if len(confidence) else 0.0
    return drift(confidence, validation, untrusted, expected)


def texts_kept(monitor: Monitor) -> tuple[int, int]:
    """(rows whose text is kept, rows)."""
    with monitor.store.connect() as con:
        return tuple(int(v) for v in con.execute("SELECT count(body), count(*) FROM scored").fetchone())


def side_by_side(monitor: Monitor) -> pd.DataFrame:
    """Each label's share per bucket over all groups, under the current run and under the rescoring run:
    columns bucket, label, n, share, total, and group set to "current" or "rescored"."""
    from trainer.evaluate.trends import ALL_GROUPS, shares

    side = monitor.compare_counts()
    overall = side[side["group"] == ALL_GROUPS]
    return shares(overall.assign(group=overall["run"]).drop(columns="run"))
