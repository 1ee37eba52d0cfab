"""Create, open, list and delete monitors; add a batch of new text to one. The orchestration only: the
SQL is trainer.monitor.database, the statistics trainer.monitor.statistics, the webhook
trainer.monitor.notify.

A batch: the file is read in chunks under the app's file limits; each row gets a key (its id column, else a
hash of its time, group and text); rows whose key the monitor already holds, or that repeat within the
batch, are counted once; rows with no readable date, or dated in the future, are refused and counted apart;
each chunk's new rows are scored with the monitor's run (their label probabilities kept too), or come
scored already (add_scored: the HTTP service's answers), and are set aside under the batch's token, then
stored with the batch in one transaction. Then the buckets the batch touched, and the ones it completed,
are tested against their baselines (the rule of trainer.evaluate.trends, the same as Apply's; a bucket
still filling is tested at a part of its level, trainer.evaluate.trends.Looks) and alerts not raised
before are stored as new, and sent to the webhook if there is one. Rows older than the monitor's retention
lose their text but keep their counts (counted back from the clock). Another run can rescore the stored
texts beside the current one, and take over.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from trainer.evaluate.trends import BUCKETS, Looks, parse_times
from trainer.i18n import tr
from trainer.monitor import notify, pg_store, statistics
from trainer.monitor import rows as batch_rows
from trainer.monitor.database import Store
from trainer.monitor.pg_store import PostgresStore
from trainer.monitor.rows import fingerprint, row_keys
from trainer.monitor.scorers import Scorer, as_columns, score_all, scorer_of
from trainer.runs import postgres
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
    variant: str | None = (
        None  # the run's compressed variant that scores (trainer.runs.variants); None: its model
    )


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
# a batch's new rows (the monitor's columns, row_key) -> their labels, confidences and probability rows
Scores = Callable[[pd.DataFrame], tuple[list, list, list]]


def _path(runs_dir: Path, name: str) -> Path:
    """A monitor's file: the one place a name becomes a path, for every access (create, open, delete).
    Refused unless the name is a monitor name and the file stays inside the monitors folder."""
    folder = monitors_dir(runs_dir)
    path = folder / f"{name}.duckdb"
    if not isinstance(name, str) or not NAME_RE.fullmatch(name) or path.resolve().parent != folder.resolve():
        raise MonitorError(tr("{name} cannot be a monitor name: use letters, digits, '.', '_' or '-'.",
                              name=repr(name)))  # fmt: skip
    return path


def _store(runs_dir: Path, name: str) -> Store:
    """Where a monitor lives: the PostgreSQL server INSIGHT_DATABASE_URL names, else its DuckDB file in the
    runs folder. The name is checked either way."""
    path = _path(runs_dir, name)
    address = postgres.url()
    return PostgresStore(address, name) if address else Store(path)


def create(runs_dir: Path, settings: Settings) -> Monitor:
    store = _store(runs_dir, settings.name)
    if settings.bucket not in BUCKETS:
        raise MonitorError(tr("The bucket must be one of {buckets}, not {bucket}.", buckets=", ".join(BUCKETS),
                              bucket=repr(settings.bucket)))  # fmt: skip
    settings.created = settings.created or time.time()
    values = {"monitor": asdict(settings)}
    if isinstance(store, PostgresStore):  # the schema, the tables and the settings in one transaction
        if not store.create(settings.created, values):
            raise MonitorError(tr("There is already a monitor called {name}.", name=settings.name))
    elif store.exists():
        raise MonitorError(tr("There is already a monitor called {name}.", name=settings.name))
    else:
        store.write_settings(values)
    return Monitor(runs_dir, settings.name)


def move_to_server(runs_dir: Path, name: str) -> dict[str, int]:
    """Copy the monitor `name` from its DuckDB file into the PostgreSQL server INSIGHT_DATABASE_URL names
    (the file is kept); returns the rows copied per table."""
    address, path = postgres.url(), _path(runs_dir, name)
    if not address:
        raise MonitorError(tr("Set {variable} to the PostgreSQL server to move the monitor to.",
                              variable=postgres.ENV))  # fmt: skip
    if not Store(path).exists():
        raise MonitorError(tr("There is no monitor file called {name} in this runs folder.", name=name))
    copied = pg_store.move(path, address, name)
    if copied is None:
        raise MonitorError(tr("The PostgreSQL server has a monitor called {name} already.", name=name))
    return copied


def names(runs_dir: Path) -> list[str]:
    if address := postgres.url():
        return [n for n in pg_store.names(address) if NAME_RE.fullmatch(n)]
    folder = monitors_dir(runs_dir)
    found = folder.glob("*.duckdb") if folder.is_dir() else []
    return sorted(p.stem for p in found if NAME_RE.fullmatch(p.stem) and not p.is_symlink())


def delete(runs_dir: Path, name: str) -> None:
    Monitor(runs_dir, name).store.delete_files()


class Monitor:
    def __init__(self, runs_dir: Path, name: str) -> None:
        self.runs_dir, self.name = Path(runs_dir), name
        self.store = _store(runs_dir, name)
        self._settings: Settings | None = None
        self.clock: Callable[[], float] = time.time  # now, for retention and rows dated in the future
        if not self.store.exists():
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

    def _save_settings(self, con: Any = None, **changes: Any) -> None:
        values = asdict(self.settings) | changes
        self.store.write_settings({"monitor": values}, con)
        self._settings = Settings(**values)

    def set_webhook(self, url: str | None) -> None:
        """Refused unless it is an http(s) address whose host resolves to public addresses only (or allowed)."""
        if url and (why := notify.refusal(url)):
            raise MonitorError(why)
        self._save_settings(webhook=url or None)

    def set_retention(self, days: int | None) -> None:
        if days is not None and days < 1:
            raise MonitorError(tr("Keep texts for at least 1 day (or say no limit)."))
        self._save_settings(keep_days=days)

    def set_labels(self, labels: list[str] | None) -> None:
        """The run's labels, in the order of the probabilities stored from now on (written only if they
        changed)."""
        if labels != self.settings.labels:
            self._save_settings(labels=labels)

    # adding a batch

    def add(
        self, source: Path, scorer: Scorer | None = None, chunk_rows: int = 2000, label: str | None = None
    ) -> Batch:
        """Add one file as a batch, a chunk at a time: score its new rows and store them, test the buckets."""
        path = Path(source)
        chunks = batch_rows.file_chunks(path, self.settings, chunk_rows)
        return self.add_chunks(chunks, scorer, label or path.name, fingerprint(path))

    def add_chunks(
        self, chunks: Iterable[pd.DataFrame], scorer: Scorer | None, label: str, print_: str
    ) -> Batch:
        """Each chunk's new rows scored (with `scorer`, else the monitor's run) and set aside under this
        batch's token, then stored as one batch in one transaction."""
        return self._add(chunks, self._scores_of(scorer), label, print_)

    def add_scored(
        self,
        frame: pd.DataFrame,
        labels: Sequence[str],
        confidences: Sequence[float],
        probabilities: Sequence[Sequence[float]] | None,
        label: str,
        print_: str,
    ) -> Batch:
        """Add rows the monitor's run has scored already (the HTTP service's answers) as one batch: row i's
        label, confidence and probabilities (in the order of settings.labels; None: none kept) are stored as
        given, nothing is scored again."""
        frame = frame.reset_index(drop=True)
        columns = as_columns(labels, confidences, probabilities)
        if any(len(column) != len(frame) for column in columns):
            raise ValueError("one result per row")

        def given(new: pd.DataFrame) -> tuple[list, list, list]:
            return tuple([column[i] for i in new.index] for column in columns)  # the rows' own positions

        return self._add([frame], given, label, print_)

    def _scores_of(self, scorer: Scorer | None) -> Scores:
        """A batch's new rows scored by `scorer`, else by the monitor's run (whose labels are then saved)."""

        def score(new: pd.DataFrame) -> tuple[list, list, list]:
            nonlocal scorer
            if scorer is None:
                scorer, labels = scorer_of(self.settings.run, variant=self.settings.variant)
                self.set_labels(labels)
            return score_all(new[self.settings.text_column].astype(str).tolist(), scorer)

        return score

    def _add(self, chunks: Iterable[pd.DataFrame], scores: Scores, label: str, print_: str) -> Batch:
        """The chunks' new rows scored and set aside under this batch's token (the monitor's lock held only
        to check and to write), then stored as one batch; on any failure what it set aside goes."""
        token, now = secrets.token_hex(8), pd.Timestamp(self.clock(), unit="s")
        read = future = undated = 0
        try:
            for chunk in (c for c in chunks if len(c)):
                read += len(chunk)
                refused = self._stage(chunk, scores, token, now)
                future, undated = future + refused[0], undated + refused[1]
            if not read:
                return Batch(0, 0, 0, [])
            return self._land(token, now, (label, print_), (read, future, undated))
        except BaseException:
            with contextlib.suppress(Exception):
                self.store.drop_pending(token)  # what this batch set aside
            raise

    def _stage(self, chunk: pd.DataFrame, scores: Scores, token: str, now: pd.Timestamp) -> tuple[int, int]:
        """Score the chunk's rows that are new (not stored, not set aside) and set them aside; returns the
        rows refused for their date: (dated in the future, no readable date)."""
        settings = self.settings
        frame = chunk.assign(row_key=row_keys(chunk, settings)).drop_duplicates("row_key")
        new = frame[~frame["row_key"].isin(self.store.known_keys(frame["row_key"], token))]
        times = parse_times(new[settings.time_column].astype(str))
        undated, future = batch_rows.date_verdicts(times, now)
        keep = ~(undated | future).to_numpy()
        new, times = new[keep], times[keep]
        if len(new):
            labels, confidence, probs = scores(new)
            self.store.set_aside(token, pd.DataFrame({
                "row_key": new["row_key"].to_numpy(), "happened": times.to_numpy(),
                "grp": new[settings.group_column].astype(str).to_numpy() if settings.group_column else "",
                "body": new[settings.text_column].astype(str).to_numpy(), "predicted": labels,
                "confidence": confidence, "probs": probs,
            }))  # fmt: skip
        return int(future.sum()), int(undated.sum())

    def _land(
        self, token: str, now: pd.Timestamp, source: tuple[str, str], counted: tuple[int, int, int]
    ) -> Batch:
        """The rows set aside under `token` stored as one batch; its alerts found, retention applied, sent."""
        read, future, undated = counted
        with self.store.transaction() as con:
            batch, added, touched = self.store.land_batch(
                con, token, self.settings.bucket, source, counted, STALE
            )
            fresh_alerts = self._new_alerts(con, batch, touched)
            self._retain(con, now)
        webhook_error = notify.post(self.settings.webhook, fresh_alerts, self.name)
        return Batch(
            read, added, read - added - future - undated, fresh_alerts, webhook_error, future, undated
        )

    def _new_alerts(self, con: Any, batch: int, touched: set) -> list[dict]:
        """Test the buckets the batch touched and the ones it completed; store and return the new alerts."""
        unit, grouped = self.settings.bucket, bool(self.settings.group_column)
        latest = self.store.latest_bucket(con, unit)
        if latest is None:
            return []
        looks = Looks(self.store.looks(con))
        touched = {pd.Timestamp(t) for t in touched}
        due = statistics.due_buckets(looks, touched, latest)
        if not due:
            return []
        moments = statistics.bucket_moments(
            self.store.counts(unit, grouped, con), list(self.settings.labels or []), due,
            lambda since: self.store.probability_rows(con, unit, since), grouped,
        )  # fmt: skip
        found, changed = statistics.find_alerts(moments, looks, touched, due, latest)
        self.store.save_looks(con, changed)
        return self.store.add_alerts(con, found, batch, latest)

    def _retain(self, con: Any, now: pd.Timestamp) -> int:
        """Drop the texts of rows dated more than keep_days before now (the clock, never a row's date, which
        a row dated in the future would push on); their counts stay."""
        days = self.settings.keep_days
        return self.store.drop_texts_before(con, now - pd.Timedelta(days=days)) if days else 0

    # another run

    def rescore(self, run: str | Path, scorer: Scorer | None = None, chunk: int = 2000) -> int:
        """Score every stored text with another run, beside the current scores (nothing switches yet).
        Rows whose text retention dropped keep only the current run's score. Returns the rows rescored."""
        labels = None
        if scorer is None:
            scorer, labels = scorer_of(run)
        keys, texts = self.store.kept_texts()
        predicted, confidence, probs = score_all(texts, scorer, chunk)
        fresh = pd.DataFrame(
            {"row_key": keys, "predicted": predicted, "confidence": confidence, "probs": probs}
        )
        self.store.save_rescored(fresh, str(run), labels)
        return len(fresh)

    def rescored_run(self) -> str | None:
        value = self.store.settings().get("rescored")
        return value["run"] if value else None

    def compare_counts(self) -> pd.DataFrame:
        """The counts per (bucket, group, label) under the current run and under the rescoring run, with a
        column `run` ("current" or "rescored"): the two trends side by side before switching."""
        return self.store.compare_counts(self.settings.bucket, bool(self.settings.group_column))

    def switch(self) -> int:
        """Make the rescoring run the monitor's run: its scores replace the current ones, and the history's
        alerts are raised again under it (marked seen: they are the past, not news). Returns the alerts."""
        value = self.store.settings().get("rescored")
        if not value:
            raise MonitorError(
                tr("Nothing to switch to: rescore {name} with another run first.", name=self.name)
            )
        with self.store.transaction() as con:
            self.store.take_rescored(con)
            self._save_settings(con, run=value["run"], labels=value["labels"])
            starts = self.store.bucket_starts(con, self.settings.bucket)
            found = self._new_alerts(con, self.store.last_batch(con), starts)
            self.store.mark_seen(con)
        return len(found)

    # reading

    def counts(self, con: Any = None) -> pd.DataFrame:
        """Rows per (bucket, group, label), with every group together as ALL_GROUPS."""
        return self.store.counts(self.settings.bucket, bool(self.settings.group_column), con)

    def alerts(self, new_only: bool = False) -> list[dict]:
        return self.store.alerts(new_only)

    def mark_seen(self) -> int:
        return self.store.mark_seen()

    def batches(self) -> list[dict]:
        return self.store.batches()

    def seen_fingerprints(self) -> set[str]:
        return self.store.fingerprints()

    def row_count(self) -> int:
        return self.store.row_count()

    def export_csv(self) -> tuple[bytes, int]:
        """Every stored row as CSV, built in memory (nothing is left in a shared folder), and the rows."""
        from trainer.data.safe_csv import csv_bytes

        frame = self.store.rows_frame()
        return csv_bytes(frame), len(frame)

    def export(self, out: Path) -> int:
        """Every stored row as CSV, written to `out` (the caller's own path) readable by its owner only."""
        data, count = self.export_csv()
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return count
