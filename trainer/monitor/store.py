"""One monitor's DuckDB file: settings, batches, scored rows, alerts, the looks taken at each bucket, and
the rows of a second run's rescoring.

Every write happens in one transaction under the monitor's file lock, so a batch killed half-way leaves
nothing of itself (DuckDB's write-ahead log rolls the open transaction back when the file is opened
again) and adding it again completes it. The SQL keeps to what DuckDB and PostgreSQL both accept
(`INSERT ... ON CONFLICT DO NOTHING`, `date_trunc`, plain types), so a team that outgrows one file can
attach a PostgreSQL database (`ATTACH 'dbname=insight' AS pg (TYPE postgres)`) and run the same queries.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from trainer.runs import procs

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS settings (key VARCHAR PRIMARY KEY, value VARCHAR)",
    "CREATE TABLE IF NOT EXISTS batches (id INTEGER PRIMARY KEY, received DOUBLE, source VARCHAR, "
    "fingerprint VARCHAR, rows_read INTEGER, rows_added INTEGER)",
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
)


class Store:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.lock = self.path.with_name(f".{self.path.name}.lock")

    @contextlib.contextmanager
    def connect(self) -> Iterator[Any]:
        """A connection under the monitor's lock (DuckDB lets one process write a file at a time)."""
        import duckdb

        self.path.parent.mkdir(parents=True, exist_ok=True)
        with procs.locked(self.lock):
            con = duckdb.connect(str(self.path))
            try:
                for statement in SCHEMA:
                    con.execute(statement)
                yield con
            finally:
                con.close()

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
