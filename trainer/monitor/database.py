"""One monitor's DuckDB file: settings, batches, scored rows, alerts, the looks taken at each bucket, and
the rows of a second run's rescoring.

Every write happens in one transaction under the monitor's file lock, so a batch killed half-way leaves
nothing of itself (DuckDB's write-ahead log rolls the open transaction back when the file is opened
again) and adding it again completes it. The SQL keeps to what DuckDB and PostgreSQL both accept
(`INSERT ... ON CONFLICT DO NOTHING`, `date_trunc`, plain types), so a team that outgrows one file can
attach a PostgreSQL database (`ATTACH 'dbname=insight' AS pg (TYPE postgres)`) and run the same queries.

The monitors folder is private to the service's user (0700) and so is every file of a monitor (0600): a
monitor holds every text it was sent.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from trainer.files import locks

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
FOLDER_MODE, FILE_MODE = 0o700, 0o600


def private(path: Path, mode: int = FILE_MODE) -> None:
    """Make `path` (if it is there) readable by the service's user only."""
    with contextlib.suppress(FileNotFoundError, PermissionError):
        if stat.S_IMODE(os.stat(path).st_mode) != mode:
            os.chmod(path, mode)


class Store:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.lock = self.path.with_name(f".{self.path.name}.lock")

    @contextlib.contextmanager
    def connect(self) -> Iterator[Any]:
        """A connection under the monitor's lock (DuckDB lets one process write a file at a time)."""
        import duckdb

        self.path.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        private(self.path.parent, FOLDER_MODE)
        with locks.locked(self.lock):
            private(self.lock)
            con = duckdb.connect(str(self.path))
            try:
                private(self.path)
                for statement in SCHEMA:
                    con.execute(statement)
                yield con
            finally:
                con.close()
                private(self.path.with_name(self.path.name + ".wal"))

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def settings(self) -> dict[str, Any]:
        with self.connect() as con:
            return {k: json.loads(v) for k, v in con.execute("SELECT key, value FROM settings").fetchall()}

    def write_settings(self, values: dict[str, Any]) -> None:
        with self.transaction() as con:
            for key, value in values.items():
                con.execute("DELETE FROM settings WHERE key = ?", [key])
                con.execute("INSERT INTO settings VALUES (?, ?)", [key, json.dumps(value)])
