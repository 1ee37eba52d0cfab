"""A monitor kept in PostgreSQL (when INSIGHT_DATABASE_URL is set): the same tables and the same SQL as its
DuckDB file (trainer.monitor.database.Store, through trainer.runs.postgres.Connection), in a schema of its
own, so app servers and service replicas on several machines add to one monitor and read it.

The table `insight_monitors` (in the database's public schema) names each monitor's schema. Every write
is one transaction holding the monitor's advisory lock: two processes adding batches at once take turns,
and a batch killed half-way leaves nothing (the server rolls its transaction back). Reads take no lock.
`move` copies a monitor's DuckDB file into the server in one transaction.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from trainer.monitor.database import SCHEMA, Store
from trainer.runs import postgres

REGISTRY = (
    "CREATE TABLE IF NOT EXISTS public.insight_monitors (name TEXT PRIMARY KEY, schema_name TEXT UNIQUE NOT NULL, "
    "created DOUBLE PRECISION)"
)
CATALOG_LOCK = "insight-monitors"  # creating and deleting monitors take turns
# the tables of a monitor, in the order a copy fills them (trainer.monitor.database.SCHEMA)
TABLES = ("settings", "batches", "scored", "alerts", "looks", "rescored", "pending")


_CURRENT: set[str] = set()  # the monitors' schemas this process has found up to date
ADD_COLUMN = re.compile(r"ALTER TABLE (\w+) ADD COLUMN IF NOT EXISTS (\w+)")


def _upgrade(con: postgres.Connection) -> None:
    """A monitor made by an older Insight gains the newer columns. Only a column that is missing is added:
    ALTER TABLE locks its table against every reader, even when the column is there already."""
    for statement in postgres.pg_schema(SCHEMA):
        found = ADD_COLUMN.match(statement)
        if found and found.group(2) not in con.column_types(found.group(1)):
            con.execute(statement)


def _registry_exists(con: postgres.Connection) -> bool:
    return con.execute("SELECT to_regclass('public.insight_monitors') IS NOT NULL").fetchone()[0]


def names(address: str) -> list[str]:
    with postgres.connection(address) as con:
        if not _registry_exists(con):
            return []
        return [
            n for (n,) in con.execute("SELECT name FROM public.insight_monitors ORDER BY name").fetchall()
        ]


class PostgresStore(Store):
    schema = postgres.pg_schema(SCHEMA)

    def __init__(self, address: str, name: str) -> None:
        self.address, self.name = address, name
        # a schema name of letters and digits whatever the monitor's name (评论监控 included)
        self.namespace = "monitor_" + hashlib.sha256(name.encode()).hexdigest()[:24]
        self.path = None  # nothing of it on this machine's disk

    def exists(self) -> bool:
        with postgres.connection(self.address) as con:
            if not _registry_exists(con):
                return False
            return (
                con.execute("SELECT 1 FROM public.insight_monitors WHERE name = ?", [self.name]).fetchone()
                is not None
            )

    @contextlib.contextmanager
    def connect(self) -> Iterator[Any]:
        with postgres.connection(self.address, self.namespace) as con:
            yield con

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        with postgres.transaction(self.address, self.namespace, self.namespace) as con:
            if self.namespace not in _CURRENT:
                _upgrade(con)
                _CURRENT.add(self.namespace)
            yield con

    def create(self, created: float, settings: dict[str, Any]) -> bool:
        """The monitor's schema, tables and settings, and its line in the registry, in one transaction;
        False if the name is taken."""
        import json

        with postgres.transaction(self.address, CATALOG_LOCK) as con:
            if not self._make(con, created):
                return False
            for key, value in settings.items():
                con.execute("INSERT INTO settings VALUES (?, ?)", [key, json.dumps(value)])
        _CURRENT.add(self.namespace)
        return True

    def _make(self, con: postgres.Connection, created: float) -> bool:
        """In the caller's transaction (holding CATALOG_LOCK): the monitor's line in the registry, its schema
        and empty tables, the connection left on that schema; False if the name is taken."""
        con.execute(REGISTRY)
        if con.execute("SELECT 1 FROM public.insight_monitors WHERE name = ?", [self.name]).fetchone():
            return False
        con.execute(
            "INSERT INTO public.insight_monitors VALUES (?, ?, ?)", [self.name, self.namespace, created]
        )
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {self.namespace}")
        con.execute(f"SET LOCAL search_path TO {self.namespace}")
        for statement in self.schema:
            con.execute(statement)
        return True

    def delete_files(self) -> None:
        """The monitor's schema (every row of it) and its line in the registry."""
        with postgres.transaction(self.address, CATALOG_LOCK) as con:
            con.execute(REGISTRY)
            con.execute(f"DROP SCHEMA IF EXISTS {self.namespace} CASCADE")
            con.execute("DELETE FROM public.insight_monitors WHERE name = ?", [self.name])

    def size_bytes(self) -> int:
        """What the monitor's tables take on the server (for the disk quota)."""
        with postgres.connection(self.address) as con:
            (size,) = con.execute(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relkind = 'r'",
                [self.namespace],
            ).fetchone()
        return int(size)


def move(source: Path, address: str, name: str) -> dict[str, int] | None:
    """Copy the monitor in the DuckDB file `source` into the server as `name`, every table in one
    transaction (a copy killed half-way leaves no monitor there). Returns the rows copied per table, or None
    where the server has a monitor of that name already. The DuckDB file is left as it was."""
    target = PostgresStore(address, name)
    duck = Store(source)
    with duck.connect() as reading:
        frames = {table: reading.execute(f"SELECT * FROM {table}").df() for table in TABLES}
    copied = {}
    with postgres.transaction(address, CATALOG_LOCK) as con:
        if not target._make(con, 0.0):
            return None
        for table, frame in frames.items():
            if len(frame):
                con.register("incoming", frame, con.column_types(table))
                columns = ", ".join(frame.columns)
                con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM incoming")
            copied[table] = len(frame)
    return copied
