"""Create, open, list and delete monitors; add a batch of new text to one.

A batch: the file is read in chunks under the app's file limits; each row gets a key (its id column, else a
hash of its time, group and text); rows whose key the monitor already holds, or that repeat within the
batch, are counted once; rows with no readable date, or dated in the future, are refused and counted apart;
each chunk's new rows are scored with the monitor's run (their label probabilities kept too) and set aside
under the batch's token, then stored with the batch in one transaction. Then the buckets the batch touched, and the ones it completed, are tested
against their baselines (the rule of trainer.evaluate.trends, the same as Apply's; a bucket still filling is
tested at a part of its level, trainer.evaluate.trends.Looks) and alerts not raised before are stored as new,
and sent to the webhook if there is one. Rows older than the monitor's retention lose their text but keep
their counts (counted back from the clock). Another run can rescore the stored texts beside the current one, and take over.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trainer.evaluate.trends import (
    ALL_GROUPS,
    BASELINE,
    BUCKETS,
    Looks,
    Moments,
    alerts,
    moments_from_counts,
    parse_times,
)
from trainer.i18n import tr
from trainer.monitor import rows as batch_rows
from trainer.monitor.database import Store
from trainer.monitor.rows import fingerprint, row_keys  # noqa: F401 - where callers have found them
from trainer.monitor.scorers import Scorer, score_all, scorer_of
from trainer.runs.folder import monitors_dir

# matched whole (fullmatch): letters of any script (评论监控), digits, . _ -
NAME_RE = re.compile(r"[^\W_][\w.-]{0,63}")


class MonitorError(ValueError):
    """A monitor request that cannot be done; the message says why."""


@dataclass
class Settings:
    name: str
    run: str  # the run folder that scores its rows
    text_column: str
    time_column: str
    group_column: str | None = None
    id_column: str | None = None
    bucket: str = "week"
    owner: str = ""
    webhook: str | None = None
    created: float = 0.0
    labels: list[str] | None = None  # the run's labels, in the order of each row's stored probabilities
    keep_days: int | None = None  # texts older than this many days (before now) are dropped, counts kept


@dataclass
class Batch:
    rows_read: int
    added: int
    duplicates: int
    new_alerts: list[dict]
    webhook_error: str | None = None
    future: int = 0  # rows dated after now (and a day's slack): refused
    undated: int = 0  # rows whose date could not be read: refused


STALE = 7 * 86400  # rows set aside by a batch that never finished are dropped after this many seconds


def _path(runs_dir: Path, name: str) -> Path:
    """A monitor's file: the one place a name becomes a path, for every access (create, open, delete).
    Refused unless the name is a monitor name and the file stays inside the monitors folder."""
    folder = monitors_dir(runs_dir)
    path = folder / f"{name}.duckdb"
    if not isinstance(name, str) or not NAME_RE.fullmatch(name) or path.resolve().parent != folder.resolve():
        raise MonitorError(tr("{name} cannot be a monitor name: use letters, digits, '.', '_' or '-'.",
                              name=repr(name)))  # fmt: skip
    return path


def create(runs_dir: Path, settings: Settings) -> Monitor:
    path = _path(runs_dir, settings.name)
    if settings.bucket not in BUCKETS:
        raise MonitorError(tr("The bucket must be one of {buckets}, not {bucket}.", buckets=", ".join(BUCKETS),
                              bucket=repr(settings.bucket)))  # fmt: skip
    if path.exists():
        raise MonitorError(tr("There is already a monitor called {name}.", name=settings.name))
    settings.created = settings.created or time.time()
    Store(path).write_settings({"monitor": asdict(settings)})
    return Monitor(runs_dir, settings.name)


def names(runs_dir: Path) -> list[str]:
    folder = monitors_dir(runs_dir)
    found = folder.glob("*.duckdb") if folder.is_dir() else []
    return sorted(p.stem for p in found if NAME_RE.fullmatch(p.stem) and not p.is_symlink())


def delete(runs_dir: Path, name: str) -> None:
    monitor = Monitor(runs_dir, name)
    monitor.store.path.unlink()
    monitor.store.path.with_name(monitor.store.path.name + ".wal").unlink(missing_ok=True)
    monitor.store.lock.unlink(missing_ok=True)


class Monitor:
    def __init__(self, runs_dir: Path, name: str) -> None:
        self.runs_dir, self.name = Path(runs_dir), name
        self.store = Store(_path(runs_dir, name))
        self._settings: Settings | None = None
        self.clock: Callable[[], float] = time.time  # now, for retention and rows dated in the future
        if not self.store.path.exists():
            raise MonitorError(
                tr("There is no monitor called {name}. See `python -m trainer monitor list`.", name=name)
            )
        self._settings = self.settings  # now, before any connection holds the file's lock

    @property
    def settings(self) -> Settings:
        """Read once per Monitor (reading takes the file's lock, which a caller inside a transaction holds)."""
        if self._settings is None:
            self._settings = Settings(**self.store.settings()["monitor"])
        return self._settings

    def set_webhook(self, url: str | None) -> None:
        """Refused unless it is an http(s) address whose host resolves to public addresses only (or allowed)."""
        from trainer.monitor import webhook

        if url:
            try:
                webhook.check(url)
            except webhook.Refused as exc:
                raise MonitorError(str(exc)) from None
        self._write(webhook=url or None)

    def _write(self, **changes: Any) -> None:
        values = asdict(self.settings) | changes
        self.store.write_settings({"monitor": values})
        self._settings = Settings(**values)

    def set_retention(self, days: int | None) -> None:
        if days is not None and days < 1:
            raise MonitorError(tr("Keep texts for at least 1 day (or say no limit)."))
        self._write(keep_days=days)

    def _score(self, texts: list[str], scorer: Scorer | None) -> tuple[list, list, list]:
        if scorer is None:
            scorer, labels = scorer_of(self.settings.run)
            if labels != self.settings.labels:
                self._write(labels=labels)
        return score_all(texts, scorer)

    def add(
        self, source: Path, scorer: Scorer | None = None, chunk_rows: int = 2000, label: str | None = None
    ) -> Batch:
        """Add one file as a batch, a chunk at a time: score its new rows and store them, test the buckets."""
        path = Path(source)
        chunks = batch_rows.file_chunks(path, self.settings, chunk_rows)
        return self.add_chunks(chunks, scorer, label or path.name, fingerprint(path))

    def add_frame(self, frame: pd.DataFrame, scorer: Scorer | None, label: str, print_: str) -> Batch:
        """Add rows (with the monitor's columns) as one batch, remembered by `print_` (a file's fingerprint)."""
        return self.add_chunks([frame], scorer, label, print_)

    def add_chunks(
        self, chunks: Iterable[pd.DataFrame], scorer: Scorer | None, label: str, print_: str
    ) -> Batch:
        """Each chunk's new rows scored and set aside under this batch's token (the monitor's lock held only
        to check and to write), then stored as one batch in one transaction (_store)."""
        token, now = secrets.token_hex(8), pd.Timestamp(self.clock(), unit="s")
        read = future = undated = 0
        try:
            for chunk in (c for c in chunks if len(c)):
                read += len(chunk)
                refused = self._stage(chunk, scorer, token, now)
                future, undated = future + refused[0], undated + refused[1]
            if not read:
                return Batch(0, 0, 0, [])
            return self._store(token, now, label, print_, (read, future, undated))
        except BaseException:
            with contextlib.suppress(Exception), self.store.transaction() as con:
                con.execute("DELETE FROM pending WHERE token = ?", [token])  # what this batch set aside
            raise

    def _stage(
        self, chunk: pd.DataFrame, scorer: Scorer | None, token: str, now: pd.Timestamp
    ) -> tuple[int, int]:
        """Score the chunk's rows that are new (not stored, not set aside) and set them aside; returns the
        rows refused for their date: (dated in the future, no readable date)."""
        settings = self.settings
        frame = chunk.assign(row_key=row_keys(chunk, settings)).drop_duplicates("row_key")
        with self.store.connect() as con:
            con.register("incoming", frame[["row_key"]])
            known = {k for (k,) in con.execute(
                "SELECT row_key FROM incoming WHERE row_key IN (SELECT row_key FROM scored) OR row_key IN "
                "(SELECT row_key FROM pending WHERE token = ?)", [token]).fetchall()}  # fmt: skip
        new = frame[~frame["row_key"].isin(known)]
        times = parse_times(new[settings.time_column].astype(str))
        undated, future = batch_rows.date_verdicts(times, now)
        keep = ~(undated | future).to_numpy()
        new, times = new[keep], times[keep]
        if len(new):
            texts = new[settings.text_column].astype(str).tolist()
            labels, confidence, probs = self._score(texts, scorer)
            rows = pd.DataFrame({
                "row_key": new["row_key"].to_numpy(), "happened": times.to_numpy(),
                "grp": new[settings.group_column].astype(str).to_numpy() if settings.group_column else "",
                "body": texts, "predicted": labels, "confidence": confidence, "probs": probs,
            })  # fmt: skip
            with self.store.transaction() as con:
                con.register("fresh", rows)
                con.execute("INSERT INTO pending SELECT ?, ?, row_key, happened, grp, body, predicted, confidence, "
                            "CAST(probs AS DOUBLE PRECISION[]) FROM fresh ON CONFLICT DO NOTHING", [token, time.time()])  # fmt: skip
        return int(future.sum()), int(undated.sum())

    def _store(
        self, token: str, now: pd.Timestamp, label: str, print_: str, counted: tuple[int, int, int]
    ) -> Batch:
        """The rows set aside under `token` stored as one batch; its alerts found, retention applied, sent."""
        settings, (read, future, undated) = self.settings, counted
        with self.store.transaction() as con:
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
                f"SELECT DISTINCT date_trunc('{settings.bucket}', happened) FROM pending WHERE token = ?", [token]).fetchall()}  # fmt: skip
            con.execute("INSERT INTO scored SELECT row_key, ?, happened, grp, body, predicted, confidence, probs "
                        "FROM pending WHERE token = ? ON CONFLICT DO NOTHING", [batch, token])  # fmt: skip
            con.execute("DELETE FROM pending WHERE token = ? OR started < ?", [token, time.time() - STALE])
            fresh_alerts = self._new_alerts(con, batch, touched)
            self._retain(con, now)
        webhook_error = None
        if fresh_alerts and settings.webhook:
            from trainer.monitor.notify import post

            webhook_error = post(settings.webhook, fresh_alerts, self.name)
        return Batch(
            read, added, read - added - future - undated, fresh_alerts, webhook_error, future, undated
        )

    def counts(self, con: Any = None) -> pd.DataFrame:
        """Rows per (bucket, group, label), with every group together as ALL_GROUPS: one SQL query."""
        if con is None:
            with self.store.connect() as con:
                return self.counts(con)
        unit = self.settings.bucket
        query = (f"SELECT date_trunc('{unit}', happened) AS bucket, grp AS \"group\", predicted AS label, count(*) AS n "
                 "FROM scored GROUP BY 1, 2, 3 UNION ALL "
                 f"SELECT date_trunc('{unit}', happened), '{ALL_GROUPS}', predicted, count(*) FROM scored GROUP BY 1, 3")  # fmt: skip
        frame = con.execute(query).df()
        if not self.settings.group_column:
            frame = frame[frame["group"] == ALL_GROUPS]
        frame["bucket"] = pd.to_datetime(frame["bucket"])
        return frame.sort_values(["group", "bucket", "label"]).reset_index(drop=True)

    def _moments(self, con: Any, due: set[pd.Timestamp]) -> tuple[list[str], dict]:
        """Per (group, bucket) moments: counts of predicted labels for the whole history (one SQL query),
        and from each row's probabilities for the buckets the rule will test (`due`) and their baselines."""
        counts = self.counts(con)
        known = list(self.settings.labels or [])
        labels, per = moments_from_counts(counts, known + sorted(set(counts["label"]) - set(known)))
        index = {label: i for i, label in enumerate(labels)}
        if not known or not due:
            return labels, per
        series: dict[str, list[pd.Timestamp]] = {}
        for group, bucket in per:
            series.setdefault(group, []).append(bucket)
        since = min(due)
        for starts in series.values():  # each series' baseline reaches back BASELINE of its own buckets
            starts.sort()
            later = [i for i, b in enumerate(starts) if b >= min(due)]
            if later:
                since = min(since, starts[max(0, later[0] - BASELINE)])
        rows = con.execute(f"SELECT date_trunc('{self.settings.bucket}', happened) AS bucket, grp, predicted, probs "
                           "FROM scored WHERE happened >= ?", [since.to_pydatetime()]).df()  # fmt: skip
        if rows.empty:
            return labels, per
        matrix = np.zeros((len(rows), len(labels)))
        have = (
            rows["probs"].map(lambda p: isinstance(p, (list, np.ndarray)) and len(p) == len(known)).to_numpy()
        )
        if have.any():
            matrix[have, : len(known)] = np.stack(rows.loc[have, "probs"].map(np.asarray).to_list())
        missing = np.flatnonzero(~have)
        matrix[missing, rows["predicted"].iloc[missing].map(index).to_numpy(dtype=np.int64)] = 1.0
        rows["bucket"] = pd.to_datetime(rows["bucket"])
        groups = [("grp", rows["grp"].astype(str))] if self.settings.group_column else []
        for _, keys in [*groups, ("all", pd.Series(ALL_GROUPS, index=rows.index))]:
            for (group, bucket), where in (
                pd.DataFrame({"g": keys, "b": rows["bucket"]}).groupby(["g", "b"]).indices.items()
            ):
                predicted = rows["predicted"].iloc[where].map(index).to_numpy(dtype=np.int64)
                per[(str(group), pd.Timestamp(bucket))] = Moments.of(matrix[where], predicted)
        return labels, per

    def _new_alerts(self, con: Any, batch: int, touched: set) -> list[dict]:
        """Test the buckets the batch touched and the ones it completed; store and return the new alerts."""
        unit = self.settings.bucket
        (latest,) = con.execute(f"SELECT max(date_trunc('{unit}', happened)) FROM scored").fetchone()
        if latest is None:
            return []
        latest = pd.Timestamp(latest)
        looks = Looks({(g, pd.Timestamp(b)): (bool(d), int(o)) for b, g, d, o in
                       con.execute("SELECT bucket_start, grp, done, others FROM looks").fetchall()})  # fmt: skip
        touched = {pd.Timestamp(t) for t in touched}
        completed = {b for (g, b), (done, _) in looks.state.items() if not done and b < latest}
        due = touched | completed
        if not due:
            return []
        labels, per = self._moments(con, due)
        before = dict(looks.state)

        def level(group: str, bucket: pd.Timestamp) -> float:
            if bucket not in touched and looks.state.get((group, bucket), (False, 0))[0]:
                return 0.0  # complete and looked at already: nothing new to test
            return looks.spend(group, bucket, complete=bucket < latest)

        found = alerts(moments=(labels, per), only=due, level=level)
        for (group, bucket), (done, others) in looks.state.items():
            if before.get((group, bucket)) != (done, others):
                con.execute("INSERT INTO looks VALUES (?, ?, ?, ?) ON CONFLICT (bucket_start, grp) DO UPDATE "
                            "SET done = excluded.done, others = excluded.others",
                            [bucket.date(), group, done, others])  # fmt: skip
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
            fresh.append(_alert_dict(*values))
        return fresh

    def _retain(self, con: Any, now: pd.Timestamp) -> int:
        """Drop the texts of rows dated more than keep_days before now (the clock, never a row's date, which
        a row dated in the future would push on); their counts stay."""
        days = self.settings.keep_days
        if not days:
            return 0
        cutoff = now - pd.Timedelta(days=days)
        (count,) = con.execute("SELECT count(*) FROM scored WHERE body IS NOT NULL AND happened < ?",
                               [cutoff.to_pydatetime()]).fetchone()  # fmt: skip
        con.execute(
            "UPDATE scored SET body = NULL WHERE body IS NOT NULL AND happened < ?", [cutoff.to_pydatetime()]
        )
        return int(count)

    def rescore(self, run: str | Path, scorer: Scorer | None = None, chunk: int = 2000) -> int:
        """Score every stored text with another run, beside the current scores (nothing switches yet).
        Rows whose text retention dropped keep only the current run's score. Returns the rows rescored."""
        labels = None
        if scorer is None:
            scorer, labels = scorer_of(run)
        with self.store.connect() as con:
            rows = con.execute(
                "SELECT row_key, body FROM scored WHERE body IS NOT NULL ORDER BY row_key"
            ).fetchall()
        keys, texts = [r[0] for r in rows], [r[1] for r in rows]
        predicted, confidence, probs = score_all(texts, scorer, chunk)
        fresh = pd.DataFrame(
            {"row_key": keys, "predicted": predicted, "confidence": confidence, "probs": probs}
        )
        with self.store.transaction() as con:
            con.execute("DELETE FROM rescored")
            con.register("fresh", fresh)
            con.execute("INSERT INTO rescored SELECT row_key, ?, predicted, confidence, "
                        "CAST(probs AS DOUBLE PRECISION[]) FROM fresh", [str(run)])  # fmt: skip
            con.execute("DELETE FROM settings WHERE key = 'rescored'")
            con.execute("INSERT INTO settings VALUES ('rescored', ?)",
                        [json.dumps({"run": str(run), "labels": labels, "when": time.time()})])  # fmt: skip
        return len(fresh)

    def rescored_run(self) -> str | None:
        value = self.store.settings().get("rescored")
        return value["run"] if value else None

    def compare_counts(self) -> pd.DataFrame:
        """The counts per (bucket, group, label) under the current run and under the rescoring run, with a
        column `run` ("current" or "rescored"): the two trends side by side before switching."""
        unit = self.settings.bucket
        with self.store.connect() as con:
            current = self.counts(con).assign(run="current")
            query = (f"SELECT date_trunc('{unit}', s.happened) AS bucket, s.grp AS \"group\", "
                     "coalesce(r.predicted, s.predicted) AS label, count(*) AS n FROM scored s "
                     "LEFT JOIN rescored r ON r.row_key = s.row_key GROUP BY 1, 2, 3")  # fmt: skip
            other = con.execute(query).df()
        if other.empty:
            return current
        total = other.groupby(["bucket", "label"], as_index=False)["n"].sum().assign(group=ALL_GROUPS)
        other = pd.concat([other, total], ignore_index=True) if self.settings.group_column else total
        other["bucket"] = pd.to_datetime(other["bucket"])
        return pd.concat([current, other.assign(run="rescored")], ignore_index=True)

    def switch(self) -> int:
        """Make the rescoring run the monitor's run: its scores replace the current ones, and the history's
        alerts are raised again under it (marked seen: they are the past, not news). Returns the alerts."""
        value = self.store.settings().get("rescored")
        if not value:
            raise MonitorError(
                tr("Nothing to switch to: rescore {name} with another run first.", name=self.name)
            )
        with self.store.transaction() as con:
            con.execute("UPDATE scored SET predicted = r.predicted, confidence = r.confidence, probs = r.probs "
                        "FROM rescored r WHERE scored.row_key = r.row_key")  # fmt: skip
            con.execute("DELETE FROM rescored")
            con.execute("DELETE FROM alerts")
            con.execute("DELETE FROM looks")
            con.execute("DELETE FROM settings WHERE key = 'rescored'")
            values = asdict(self.settings) | {"run": value["run"], "labels": value["labels"]}
            con.execute("DELETE FROM settings WHERE key = 'monitor'")
            con.execute("INSERT INTO settings VALUES ('monitor', ?)", [json.dumps(values)])
            self._settings = Settings(**values)
            starts = {b for (b,) in con.execute(
                f"SELECT DISTINCT date_trunc('{self.settings.bucket}', happened) FROM scored").fetchall()}  # fmt: skip
            (batch,) = con.execute("SELECT coalesce(max(id), 0) FROM batches").fetchone()
            found = self._new_alerts(con, int(batch), {pd.Timestamp(b) for b in starts})
            con.execute("UPDATE alerts SET seen = TRUE")
        return len(found)

    def alerts(self, new_only: bool = False) -> list[dict]:
        with self.store.connect() as con:
            rows = con.execute("SELECT * FROM alerts" + (" WHERE NOT seen" if new_only else "") +
                               " ORDER BY bucket_start, grp, label").fetchall()  # fmt: skip
        return [_alert_dict(*row) for row in rows]

    def mark_seen(self) -> int:
        with self.store.transaction() as con:
            (count,) = con.execute("SELECT count(*) FROM alerts WHERE NOT seen").fetchone()
            con.execute("UPDATE alerts SET seen = TRUE WHERE NOT seen")
        return int(count)

    def batches(self) -> list[dict]:
        with self.store.connect() as con:
            rows = con.execute("SELECT id, received, source, rows_read, rows_added, coalesce(rows_future, 0), "
                               "coalesce(rows_undated, 0) FROM batches ORDER BY id").fetchall()  # fmt: skip
        keys = ("id", "received", "source", "rows_read", "rows_added", "rows_future", "rows_undated")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def seen_fingerprints(self) -> set[str]:
        with self.store.connect() as con:
            return {f for (f,) in con.execute("SELECT fingerprint FROM batches").fetchall()}

    def row_count(self) -> int:
        with self.store.connect() as con:
            return int(con.execute("SELECT count(*) FROM scored").fetchone()[0])

    def export_csv(self) -> tuple[bytes, int]:
        """Every stored row as CSV, built in memory (nothing is left in a shared folder), and the rows."""
        from trainer.data.safe_csv import csv_bytes

        with self.store.connect() as con:
            frame = con.execute("SELECT happened AS time, grp AS \"group\", body AS text, predicted, confidence, batch "
                                "FROM scored ORDER BY happened").df()  # fmt: skip
        return csv_bytes(frame), len(frame)

    def export(self, out: Path) -> int:
        """Every stored row as CSV, written to `out` (the caller's own path) readable by its owner only."""
        data, count = self.export_csv()
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return count


def _alert_dict(start, group, label, direction, share, base, n, hits, p, partial, batch, seen) -> dict:
    return {"bucket_start": str(start), "group": None if group == ALL_GROUPS else group, "label": label,
            "direction": direction, "share": round(float(share), 4), "baseline_share": round(float(base), 4),
            "n": int(n), "count": int(hits), "p_value": float(p), "partial": bool(partial), "batch": int(batch),
            "new": not bool(seen)}  # fmt: skip
