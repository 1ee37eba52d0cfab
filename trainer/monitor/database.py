"""One monitor's DuckDB file: settings, batches, scored rows, alerts, the looks taken at each bucket, and
the rows of a second run's rescoring; and every query and write on it (the rest of trainer.monitor holds
no SQL).

Every write happens in one transaction under the monitor's file lock, so a batch killed half-way leaves
nothing of itself (DuckDB's write-ahead log rolls the open transaction back when the file is opened
again) and adding it again completes it. The SQL keeps to what DuckDB and PostgreSQL both accept
(`INSERT ... ON CONFLICT DO NOTHING`, `date_trunc`, plain types), so a team that outgrows one file can
attach a PostgreSQL database (`ATTACH 'dbname=insight' AS pg (TYPE postgres)`) and run the same queries.

A method that takes `con` runs on that connection (inside the caller's transaction) when one is given,
else on a connection of its own.

The monitors folder is private to the service's user (0700) and so is every file of a monitor (0600): a
monitor holds every text it was sent.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from trainer.evaluate.trends import ALL_GROUPS, BUCKETS
from trainer.files.duckdb_file import LockedDuckDB

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS settings (key VARCHAR PRIMARY KEY, value VARCHAR)",
    "CREATE TABLE IF NOT EXISTS batches (id INTEGER PRIMARY KEY, received DOUBLE, source VARCHAR, "
    "fingerprint VARCHAR, rows_read INTEGER, rows_added INTEGER)",
    "ALTER TABLE batches ADD COLUMN IF NOT EXISTS rows_future INTEGER",  # refused: dated in the future
    "ALTER TABLE batches ADD COLUMN IF NOT EXISTS rows_undated INTEGER",  # refused: no readable date
    "CREATE TABLE IF NOT EXISTS scored (row_key VARCHAR PRIMARY KEY, batch INTEGER, happened TIMESTAMP, "
    "grp VARCHAR, body VARCHAR, predicted VARCHAR, confidence DOUBLE, probs DOUBLE PRECISION[])",
    "ALTER TABLE scored ADD COLUMN IF NOT EXISTS probs DOUBLE PRECISION[]",
    "CREATE TABLE IF NOT EXISTS alerts (bucket_start DATE, grp VARCHAR, label VARCHAR, direction VARCHAR, "
    "share DOUBLE, baseline_share DOUBLE, n INTEGER, hits INTEGER, p_value DOUBLE, partial BOOLEAN, "
    "batch INTEGER, seen BOOLEAN, PRIMARY KEY (bucket_start, grp, label, direction))",
    "CREATE TABLE IF NOT EXISTS looks (bucket_start DATE, grp VARCHAR, done BOOLEAN, others INTEGER, "
    "PRIMARY KEY (bucket_start, grp))",
    "CREATE TABLE IF NOT EXISTS rescored (row_key VARCHAR PRIMARY KEY, run VARCHAR, predicted VARCHAR, "
    "confidence DOUBLE, probs DOUBLE PRECISION[])",
    # a batch's scored rows set aside, chunk by chunk, until the batch is stored in one transaction
    "CREATE TABLE IF NOT EXISTS pending (token VARCHAR, started DOUBLE, row_key VARCHAR, happened TIMESTAMP, "
    "grp VARCHAR, body VARCHAR, predicted VARCHAR, confidence DOUBLE, probs DOUBLE PRECISION[], "
    "PRIMARY KEY (token, row_key))",
)


BATCH_KEYS = ("id", "received", "source", "rows_read", "rows_added", "rows_future", "rows_undated")


def _unit(unit: str) -> str:
    """A bucket unit, checked before it is written into a query (date_trunc's first argument)."""
    if unit not in BUCKETS:
        raise ValueError(f"not a bucket: {unit!r}")
    return unit


def _grouped(frame: pd.DataFrame, grouped: bool) -> pd.DataFrame:
    """Counts with every group together (ALL_GROUPS) kept alone where the monitor has no group column."""
    return frame if grouped else frame[frame["group"] == ALL_GROUPS]


def alert_dict(start, group, label, direction, share, base, n, hits, p, partial, batch, seen) -> dict:
    """A row of the alerts table as the app, the command line and the webhook show it."""
    return {"bucket_start": str(start), "group": None if group == ALL_GROUPS else group, "label": label,
            "direction": direction, "share": round(float(share), 4), "baseline_share": round(float(base), 4),
            "n": int(n), "count": int(hits), "p_value": float(p), "partial": bool(partial), "batch": int(batch),
            "new": not bool(seen)}  # fmt: skip


class Store(LockedDuckDB):
    schema = SCHEMA

    @contextlib.contextmanager
    def _on(self, con: Any) -> Iterator[Any]:
        """`con` where the caller holds one (its transaction), else a connection of this call's own."""
        if con is not None:
            yield con
        else:
            with self.connect() as own:
                yield own

    def exists(self) -> bool:
        return self.path.exists()

    def size_bytes(self) -> int:
        """What the monitor's file and write-ahead log take on disk (for the disk quota)."""
        from trainer.runs.space import size_of

        return size_of(self.path) + size_of(self.path.with_name(self.path.name + ".wal"))

    def delete_files(self) -> None:
        """The monitor's file, its write-ahead log and its lock."""
        self.path.unlink()
        self.path.with_name(self.path.name + ".wal").unlink(missing_ok=True)
        self.lock.unlink(missing_ok=True)

    # settings

    def settings(self) -> dict[str, Any]:
        with self.connect() as con:
            return {k: json.loads(v) for k, v in con.execute("SELECT key, value FROM settings").fetchall()}

    def write_settings(self, values: dict[str, Any], con: Any = None) -> None:
        if con is None:
            with self.transaction() as con:
                return self.write_settings(values, con)
        for key, value in values.items():
            con.execute("DELETE FROM settings WHERE key = ?", [key])
            con.execute("INSERT INTO settings VALUES (?, ?)", [key, json.dumps(value)])

    # a batch: rows set aside under its token, then stored together

    def known_keys(self, keys: pd.Series, token: str) -> set[str]:
        """Which of `keys` the monitor stores already, or this batch (`token`) has set aside."""
        with self.connect() as con:
            con.register("incoming", pd.DataFrame({"row_key": keys.to_numpy()}))
            return {k for (k,) in con.execute(
                "SELECT row_key FROM incoming WHERE row_key IN (SELECT row_key FROM scored) OR row_key IN "
                "(SELECT row_key FROM pending WHERE token = ?)", [token]).fetchall()}  # fmt: skip

    def set_aside(self, token: str, rows: pd.DataFrame) -> None:
        """Scored rows (row_key, happened, grp, body, predicted, confidence, probs) kept for this batch."""
        with self.transaction() as con:
            con.register("fresh", rows)
            con.execute("INSERT INTO pending SELECT ?, ?, row_key, happened, grp, body, predicted, confidence, "
                        "CAST(probs AS DOUBLE PRECISION[]) FROM fresh ON CONFLICT DO NOTHING", [token, time.time()])  # fmt: skip

    def drop_pending(self, token: str) -> None:
        with self.transaction() as con:
            con.execute("DELETE FROM pending WHERE token = ?", [token])

    def land_batch(
        self,
        con: Any,
        token: str,
        unit: str,
        source: tuple[str, str],
        counted: tuple[int, int, int],
        stale: float,
    ) -> tuple[int, int, set[pd.Timestamp]]:
        """Store the rows set aside under `token` as a new batch (its source: label and fingerprint; counted:
        rows read, dated in the future, undated); rows set aside more than `stale` seconds ago by a batch that
        never finished are dropped. Returns (the batch's id, rows added, the bucket starts it touched)."""
        (read, future, undated), (label, print_) = counted, source
        # counted under the lock: another batch of the same rows may have landed while these scored
        (staged, landed) = con.execute(
            "SELECT count(*), count(s.row_key) FROM pending p LEFT JOIN scored s ON s.row_key = p.row_key "
            "WHERE p.token = ?", [token]).fetchone()  # fmt: skip
        added = int(staged) - int(landed)
        (batch,) = con.execute("SELECT coalesce(max(id), 0) + 1 FROM batches").fetchone()
        con.execute("INSERT INTO batches (id, received, source, fingerprint, rows_read, rows_added, rows_future, "
                    "rows_undated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [batch, time.time(), label, print_, read, added, future, undated])  # fmt: skip
        touched = {pd.Timestamp(b) for (b,) in con.execute(
            f"SELECT DISTINCT date_trunc('{_unit(unit)}', happened) FROM pending WHERE token = ?", [token]).fetchall()}  # fmt: skip
        con.execute("INSERT INTO scored SELECT row_key, ?, happened, grp, body, predicted, confidence, probs "
                    "FROM pending WHERE token = ? ON CONFLICT DO NOTHING", [batch, token])  # fmt: skip
        con.execute("DELETE FROM pending WHERE token = ? OR started < ?", [token, time.time() - stale])
        return int(batch), added, touched

    def drop_texts_before(self, con: Any, cutoff: pd.Timestamp) -> int:
        """Retention: the texts of rows dated before `cutoff` dropped, their counts kept; returns how many."""
        (count,) = con.execute("SELECT count(*) FROM scored WHERE body IS NOT NULL AND happened < ?",
                               [cutoff.to_pydatetime()]).fetchone()  # fmt: skip
        con.execute(
            "UPDATE scored SET body = NULL WHERE body IS NOT NULL AND happened < ?", [cutoff.to_pydatetime()]
        )
        return int(count)

    # counts, and what the alert rule reads and writes

    def counts(self, unit: str, grouped: bool, con: Any = None) -> pd.DataFrame:
        """Rows per (bucket, group, label), with every group together as ALL_GROUPS: one SQL query."""
        unit = _unit(unit)
        query = (f"SELECT date_trunc('{unit}', happened) AS bucket, grp AS \"group\", predicted AS label, count(*) AS n "
                 "FROM scored GROUP BY 1, 2, 3 UNION ALL "
                 f"SELECT date_trunc('{unit}', happened), '{ALL_GROUPS}', predicted, count(*) FROM scored GROUP BY 1, 3")  # fmt: skip
        with self._on(con) as con:
            frame = _grouped(con.execute(query).df(), grouped)
        frame["bucket"] = pd.to_datetime(frame["bucket"])
        return frame.sort_values(["group", "bucket", "label"]).reset_index(drop=True)

    def bucket_starts(self, con: Any, unit: str) -> set[pd.Timestamp]:
        """The start of every bucket that holds a row."""
        return {pd.Timestamp(b) for (b,) in con.execute(
            f"SELECT DISTINCT date_trunc('{_unit(unit)}', happened) FROM scored").fetchall()}  # fmt: skip

    def latest_bucket(self, con: Any, unit: str) -> pd.Timestamp | None:
        (latest,) = con.execute(f"SELECT max(date_trunc('{_unit(unit)}', happened)) FROM scored").fetchone()
        return None if latest is None else pd.Timestamp(latest)

    def probability_rows(self, con: Any, unit: str, since: pd.Timestamp) -> pd.DataFrame:
        """Rows dated `since` or later: bucket, grp, predicted, probs (a list, or None where none was kept)."""
        return con.execute(f"SELECT date_trunc('{_unit(unit)}', happened) AS bucket, grp, predicted, probs "
                           "FROM scored WHERE happened >= ?", [since.to_pydatetime()]).df()  # fmt: skip

    def looks(self, con: Any) -> dict[tuple[str, pd.Timestamp], tuple[bool, int]]:
        """(group, bucket start) -> (looked at complete, looks taken while it filled)."""
        return {(g, pd.Timestamp(b)): (bool(d), int(o)) for b, g, d, o in
                con.execute("SELECT bucket_start, grp, done, others FROM looks").fetchall()}  # fmt: skip

    def save_looks(self, con: Any, changed: dict[tuple[str, pd.Timestamp], tuple[bool, int]]) -> None:
        for (group, bucket), (done, others) in changed.items():
            con.execute("INSERT INTO looks VALUES (?, ?, ?, ?) ON CONFLICT (bucket_start, grp) DO UPDATE "
                        "SET done = excluded.done, others = excluded.others",
                        [bucket.date(), group, done, others])  # fmt: skip

    def add_alerts(self, con: Any, found: list, batch: int, latest: pd.Timestamp) -> list[dict]:
        """Store the alerts (trainer.evaluate.trends.Alert) not raised before, found by `batch` (an alert of
        the latest bucket, still filling, is partial); returns them as alert_dict gives them."""
        fresh = []
        for alert in found:
            start = pd.Timestamp(alert.bucket_start)
            group = alert.group or ALL_GROUPS
            exists = con.execute("SELECT 1 FROM alerts WHERE bucket_start = ? AND grp = ? AND label = ? AND direction = ?",
                                 [start.date(), group, alert.label, alert.direction]).fetchone()  # fmt: skip
            if exists:
                continue
            values = [start.date(), group, alert.label, alert.direction, alert.share, alert.baseline_share, alert.n,
                      alert.count, alert.p_value, start >= latest, batch, False]  # fmt: skip
            con.execute("INSERT INTO alerts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values)
            fresh.append(alert_dict(*values))
        return fresh

    def alerts(self, new_only: bool = False) -> list[dict]:
        with self.connect() as con:
            rows = con.execute("SELECT * FROM alerts" + (" WHERE NOT seen" if new_only else "") +
                               " ORDER BY bucket_start, grp, label").fetchall()  # fmt: skip
        return [alert_dict(*row) for row in rows]

    def mark_seen(self, con: Any = None) -> int:
        """Every alert marked seen; returns how many were not."""
        if con is None:
            with self.transaction() as con:
                return self.mark_seen(con)
        (count,) = con.execute("SELECT count(*) FROM alerts WHERE NOT seen").fetchone()
        con.execute("UPDATE alerts SET seen = TRUE WHERE NOT seen")
        return int(count)

    # a second run's scores beside the current ones

    def kept_texts(self) -> tuple[list[str], list[str]]:
        """(row keys, texts) of the rows whose text retention has not dropped, by row key."""
        with self.connect() as con:
            rows = con.execute(
                "SELECT row_key, body FROM scored WHERE body IS NOT NULL ORDER BY row_key"
            ).fetchall()
        return [r[0] for r in rows], [r[1] for r in rows]

    def save_rescored(self, rows: pd.DataFrame, run: str, labels: list[str] | None) -> None:
        """The rescoring run's scores (row_key, predicted, confidence, probs), replacing any before."""
        with self.transaction() as con:
            con.execute("DELETE FROM rescored")
            con.register("fresh", rows)
            con.execute("INSERT INTO rescored SELECT row_key, ?, predicted, confidence, "
                        "CAST(probs AS DOUBLE PRECISION[]) FROM fresh", [run])  # fmt: skip
            self.write_settings({"rescored": {"run": run, "labels": labels, "when": time.time()}}, con)

    def compare_counts(self, unit: str, grouped: bool) -> pd.DataFrame:
        """The counts per (bucket, group, label) under the current run and under the rescoring run, with a
        column `run` ("current" or "rescored")."""
        with self.connect() as con:
            current = self.counts(unit, grouped, con).assign(run="current")
            query = (f"SELECT date_trunc('{_unit(unit)}', s.happened) AS bucket, s.grp AS \"group\", "
                     "coalesce(r.predicted, s.predicted) AS label, count(*) AS n FROM scored s "
                     "LEFT JOIN rescored r ON r.row_key = s.row_key GROUP BY 1, 2, 3")  # fmt: skip
            other = con.execute(query).df()
        if other.empty:
            return current
        total = other.groupby(["bucket", "label"], as_index=False)["n"].sum().assign(group=ALL_GROUPS)
        other = pd.concat([other, total], ignore_index=True) if grouped else total
        other["bucket"] = pd.to_datetime(other["bucket"])
        return pd.concat([current, other.assign(run="rescored")], ignore_index=True)

    def take_rescored(self, con: Any) -> None:
        """The rescoring run's scores replace the current ones; the alerts and looks of the old scores, and
        the rescoring's note, go."""
        con.execute("UPDATE scored SET predicted = r.predicted, confidence = r.confidence, probs = r.probs "
                    "FROM rescored r WHERE scored.row_key = r.row_key")  # fmt: skip
        for table in ("rescored", "alerts", "looks"):
            con.execute(f"DELETE FROM {table}")
        con.execute("DELETE FROM settings WHERE key = 'rescored'")

    # what people read

    def batches(self) -> list[dict]:
        with self.connect() as con:
            rows = con.execute("SELECT id, received, source, rows_read, rows_added, coalesce(rows_future, 0), "
                               "coalesce(rows_undated, 0) FROM batches ORDER BY id").fetchall()  # fmt: skip
        return [dict(zip(BATCH_KEYS, r, strict=True)) for r in rows]

    def last_batch(self, con: Any) -> int:
        (batch,) = con.execute("SELECT coalesce(max(id), 0) FROM batches").fetchone()
        return int(batch)

    def fingerprints(self) -> set[str]:
        with self.connect() as con:
            return {f for (f,) in con.execute("SELECT fingerprint FROM batches").fetchall()}

    def row_count(self) -> int:
        with self.connect() as con:
            return int(con.execute("SELECT count(*) FROM scored").fetchone()[0])

    def rows_frame(self) -> pd.DataFrame:
        """Every stored row (time, group, text, predicted, confidence, batch), oldest first."""
        with self.connect() as con:
            return con.execute("SELECT happened AS time, grp AS \"group\", body AS text, predicted, confidence, "
                               "batch FROM scored ORDER BY happened").df()  # fmt: skip

    def examples(
        self, unit: str, start: pd.Timestamp, label: str, group: str | None, limit: int
    ) -> list[str]:
        """Texts of a bucket (and group) the run gave `label`, surest first."""
        where = " AND grp = ?" if group else ""
        with self.connect() as con:
            rows = con.execute(f"SELECT body FROM scored WHERE date_trunc('{_unit(unit)}', happened) = ? AND predicted = ? "
                               f"AND body IS NOT NULL{where} ORDER BY confidence DESC LIMIT {int(limit)}",
                               [start.to_pydatetime(), label, *([group] if group else [])]).fetchall()  # fmt: skip
        return [r[0] for r in rows]

    def texts_in(self, start: pd.Timestamp, end: pd.Timestamp, group: str | None, limit: int) -> list[str]:
        where = " AND grp = ?" if group else ""
        with self.connect() as con:
            rows = con.execute(f"SELECT body FROM scored WHERE happened >= ? AND happened < ? AND body IS NOT NULL"
                               f"{where} ORDER BY row_key LIMIT {int(limit)}",
                               [start.to_pydatetime(), end.to_pydatetime(), *([group] if group else [])]).fetchall()  # fmt: skip
        return [r[0] for r in rows]

    def least_certain(self, limit: int) -> pd.DataFrame:
        with self.connect() as con:
            return con.execute("SELECT happened AS time, grp AS \"group\", body AS text, predicted, confidence "
                               f"FROM scored WHERE body IS NOT NULL ORDER BY confidence, row_key LIMIT {int(limit)}").df()  # fmt: skip

    def confidences(self, last_batches: int) -> np.ndarray:
        """The confidences of the rows of the latest `last_batches` batches."""
        with self.connect() as con:
            rows = con.execute("SELECT confidence FROM scored WHERE batch > (SELECT coalesce(max(id), 0) FROM batches) - ?",
                               [int(last_batches)]).fetchall()  # fmt: skip
        return np.array([r[0] for r in rows], dtype=np.float64)

    def texts_kept(self) -> tuple[int, int]:
        """(rows whose text is kept, rows)."""
        with self.connect() as con:
            kept, rows = con.execute("SELECT count(body), count(*) FROM scored").fetchone()
        return int(kept), int(rows)
