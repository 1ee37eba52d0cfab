"""Create, open, list and delete monitors; add a batch of new text to one.

A batch: the file is read in chunks; each row gets a key (its id column, else a hash of its time, group
and text); rows whose key the monitor already holds, or that repeat within the batch, are counted once;
the new rows are scored with the monitor's run and stored with the batch in one transaction. Then the
buckets the batch touched are tested against their baselines (the rule of trainer.apply.trends, the same
as Apply's) and alerts not raised before are stored as new, and sent to the webhook if there is one.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from trainer.apply.trends import ALL_GROUPS, BUCKETS, alerts, bucket_starts, parse_times
from trainer.monitor.store import Store
from trainer.runs.folder import monitors_dir

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
Scorer = Callable[[list[str]], tuple[list[str], list[float]]]  # texts -> (labels, confidences)


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


@dataclass
class Batch:
    rows_read: int
    added: int
    duplicates: int
    new_alerts: list[dict]
    webhook_error: str | None = None


def _path(runs_dir: Path, name: str) -> Path:
    return monitors_dir(runs_dir) / f"{name}.duckdb"


def create(runs_dir: Path, settings: Settings) -> Monitor:
    if not NAME_RE.match(settings.name):
        raise MonitorError(
            f"{settings.name!r} cannot be a monitor name: use letters, digits, '.', '_' or '-'."
        )
    if settings.bucket not in BUCKETS:
        raise MonitorError(f"The bucket must be one of {', '.join(BUCKETS)}, not {settings.bucket!r}.")
    path = _path(runs_dir, settings.name)
    if path.exists():
        raise MonitorError(f"There is already a monitor called {settings.name}.")
    settings.created = settings.created or time.time()
    Store(path).write_settings({"monitor": asdict(settings)})
    return Monitor(runs_dir, settings.name)


def names(runs_dir: Path) -> list[str]:
    folder = monitors_dir(runs_dir)
    return sorted(p.stem for p in folder.glob("*.duckdb")) if folder.is_dir() else []


def delete(runs_dir: Path, name: str) -> None:
    monitor = Monitor(runs_dir, name)
    monitor.store.path.unlink()
    monitor.store.path.with_name(monitor.store.path.name + ".wal").unlink(missing_ok=True)
    monitor.store.lock.unlink(missing_ok=True)


def fingerprint(path: Path) -> str:
    """A file as a batch remembers it (name, size, modification time): a folder adds the files it has not."""
    stat = Path(path).stat()
    return f"{Path(path).name}|{stat.st_size}|{stat.st_mtime_ns}"


def row_keys(frame: pd.DataFrame, settings: Settings) -> pd.Series:
    """A row's identity: its id column, else a hash of its time, group and text."""
    if settings.id_column:
        return frame[settings.id_column].astype(str)
    parts = frame[settings.time_column].astype(str) + "\x1f"
    if settings.group_column:
        parts = parts + frame[settings.group_column].astype(str)
    parts = parts + "\x1f" + frame[settings.text_column].astype(str)
    return parts.map(lambda s: hashlib.sha1(s.encode("utf-8")).hexdigest())


class Monitor:
    def __init__(self, runs_dir: Path, name: str) -> None:
        self.runs_dir, self.name = Path(runs_dir), name
        self.store = Store(_path(runs_dir, name))
        self._settings: Settings | None = None
        if not self.store.path.exists():
            raise MonitorError(f"There is no monitor called {name}. See `python -m trainer monitor list`.")
        self._settings = self.settings  # now, before any connection holds the file's lock

    @property
    def settings(self) -> Settings:
        """Read once per Monitor (reading takes the file's lock, which a caller inside a transaction holds)."""
        if self._settings is None:
            self._settings = Settings(**self.store.settings()["monitor"])
        return self._settings

    def set_webhook(self, url: str | None) -> None:
        if url and not url.startswith(("http://", "https://")):
            raise MonitorError("A webhook is an http:// or https:// address.")
        values = asdict(self.settings)
        values["webhook"] = url or None
        self.store.write_settings({"monitor": values})
        self._settings = Settings(**values)

    def _scorer(self) -> Scorer:
        from trainer.runs.model import RunModel

        model = RunModel.load(Path(self.settings.run))
        task = model.adapter

        def score(texts: list[str]) -> tuple[list[str], list[float]]:
            inputs = [task.read_input(t) for t in texts]
            preds, _ = model.outputs(inputs)
            confidence = task.input_confidence(preds)
            return [task.trend_label(preds, i) for i in range(len(inputs))], [float(c) for c in confidence]

        return score

    def add(
        self, source: Path, scorer: Scorer | None = None, chunk_rows: int = 2000, label: str | None = None
    ) -> Batch:
        """Add one file as a batch: score its new rows and store them, test the buckets it touched."""
        from trainer.data import stream

        settings = self.settings
        path = Path(source)
        frames = []
        for chunk in stream.chunks(path, chunk_rows):
            missing = [c for c in (settings.text_column, settings.time_column, settings.group_column,
                                   settings.id_column) if c and c not in chunk.columns]  # fmt: skip
            if missing:
                raise MonitorError(f'"{path.name}" has no column "{missing[0]}" (this monitor reads '
                                   f"{settings.text_column}, {settings.time_column}). Columns found: "
                                   f"{', '.join(chunk.columns)}.")  # fmt: skip
            frames.append(chunk)
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        read = len(frame)
        if frame.empty:
            return Batch(0, 0, 0, [])
        frame = frame.assign(row_key=row_keys(frame, settings)).drop_duplicates("row_key")
        with self.store.connect() as con:
            con.register("incoming", frame[["row_key"]])
            known = {k for (k,) in con.execute(
                "SELECT s.row_key FROM scored s JOIN incoming i ON s.row_key = i.row_key").fetchall()}  # fmt: skip
        new = frame[~frame["row_key"].isin(known)]
        times = parse_times(new[settings.time_column].astype(str))
        new = new[times.notna().to_numpy()]
        times = times[times.notna()]
        texts = new[settings.text_column].astype(str).tolist()
        labels, confidence = (scorer or self._scorer())(texts) if texts else ([], [])
        rows = pd.DataFrame({
            "row_key": new["row_key"].to_numpy(), "happened": times.to_numpy(),
            "grp": new[settings.group_column].astype(str).to_numpy() if settings.group_column else "",
            "body": texts, "predicted": labels, "confidence": confidence,
        })  # fmt: skip
        with self.store.transaction() as con:
            (batch,) = con.execute("SELECT coalesce(max(id), 0) + 1 FROM batches").fetchone()
            con.execute("INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?)",
                        [batch, time.time(), label or path.name, fingerprint(path),
                         read, len(rows)])  # fmt: skip
            con.register("fresh", rows)
            con.execute("INSERT INTO scored SELECT row_key, ?, happened, grp, body, predicted, confidence FROM fresh "
                        "ON CONFLICT DO NOTHING", [batch])  # fmt: skip
            touched = (
                set(bucket_starts(pd.Series(rows["happened"]), settings.bucket).dt.date)
                if len(rows)
                else set()
            )
            fresh_alerts = self._new_alerts(con, batch, touched)
        webhook_error = None
        if fresh_alerts and settings.webhook:
            from trainer.monitor.notify import post

            webhook_error = post(settings.webhook, fresh_alerts, self.name)
        return Batch(read, len(rows), read - len(rows), fresh_alerts, webhook_error)

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

    def _new_alerts(self, con: Any, batch: int, touched: set) -> list[dict]:
        found = alerts(self.counts(con))
        (latest,) = con.execute(
            f"SELECT max(date_trunc('{self.settings.bucket}', happened)) FROM scored"
        ).fetchone()
        latest = pd.Timestamp(latest).date() if latest is not None else None
        fresh = []
        for alert in found:
            start = pd.Timestamp(alert.bucket_start).date()
            if start not in touched:
                continue
            group = alert.group or ALL_GROUPS
            exists = con.execute("SELECT 1 FROM alerts WHERE bucket_start = ? AND grp = ? AND label = ? AND direction = ?",
                                 [start, group, alert.label, alert.direction]).fetchone()  # fmt: skip
            if exists:
                continue
            con.execute("INSERT INTO alerts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [start, group, alert.label, alert.direction, alert.share, alert.baseline_share, alert.n,
                         alert.count, alert.p_value, start == latest, batch, False])  # fmt: skip
            fresh.append(_alert_dict(start, group, alert.label, alert.direction, alert.share, alert.baseline_share,
                                     alert.n, alert.count, alert.p_value, start == latest, batch, False))  # fmt: skip
        return fresh

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
            rows = con.execute(
                "SELECT id, received, source, rows_read, rows_added FROM batches ORDER BY id"
            ).fetchall()
        return [
            dict(zip(("id", "received", "source", "rows_read", "rows_added"), r, strict=True)) for r in rows
        ]

    def seen_fingerprints(self) -> set[str]:
        with self.store.connect() as con:
            return {f for (f,) in con.execute("SELECT fingerprint FROM batches").fetchall()}

    def row_count(self) -> int:
        with self.store.connect() as con:
            return int(con.execute("SELECT count(*) FROM scored").fetchone()[0])

    def export(self, out: Path) -> int:
        with self.store.connect() as con:
            frame = con.execute("SELECT happened AS time, grp AS \"group\", body AS text, predicted, confidence, batch "
                                "FROM scored ORDER BY happened").df()  # fmt: skip
        from trainer.data.safe_csv import csv_bytes

        Path(out).write_bytes(csv_bytes(frame))
        return len(frame)


def _alert_dict(start, group, label, direction, share, base, n, hits, p, partial, batch, seen) -> dict:
    return {"bucket_start": str(start), "group": None if group == ALL_GROUPS else group, "label": label,
            "direction": direction, "share": round(float(share), 4), "baseline_share": round(float(base), 4),
            "n": int(n), "count": int(hits), "p_value": float(p), "partial": bool(partial), "batch": int(batch),
            "new": not bool(seen)}  # fmt: skip
