"""PostgreSQL for the state a team shares, when `INSIGHT_DATABASE_URL` names a server: several app servers
and service replicas on several machines then read and write one database. Without it, DuckDB files and
plain files keep that state on one machine, as before.

`Connection` lets the SQL written for DuckDB run unchanged on PostgreSQL through psycopg: `?` placeholders,
`register(name, frame)` (DuckDB reads a DataFrame as a table; here the frame is copied into a temporary
table with COPY) and `.df()` on a result. `pg_schema(statements)` turns DuckDB's `DOUBLE` into PostgreSQL's
`DOUBLE PRECISION`; everything else the stores write is SQL both accept.

Every write runs in one transaction that first takes a transaction-level advisory lock on its key, so two
processes on two machines writing one store take turns as two processes do on one DuckDB file's lock; a
process killed half-way holds nothing (the server rolls its transaction back and drops the lock).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from trainer.errors import PlainError
from trainer.i18n import tr

ENV = "INSIGHT_DATABASE_URL"
CONNECT_SECONDS = 10


class DatabaseError(PlainError):
    """The database server cannot be reached or refused what was asked; the message says why."""


def url() -> str | None:
    """The PostgreSQL server's URL when one is configured (postgresql://user@host:port/database)."""
    return os.environ.get(ENV) or None


def pg_schema(statements: Sequence[str]) -> tuple[str, ...]:
    """DuckDB's schema statements as PostgreSQL takes them (DOUBLE is DOUBLE PRECISION there)."""
    return tuple(re.sub(r"\bDOUBLE\b(?! PRECISION)", "DOUBLE PRECISION", s) for s in statements)


def _placeholders(sql: str) -> str:
    """DuckDB's `?` as psycopg's `%s` (and a literal `%` doubled), outside quoted literals."""
    parts = sql.split("'")
    for i in range(0, len(parts), 2):  # the even parts lie outside '...'
        parts[i] = parts[i].replace("%", "%%").replace("?", "%s")
    for i in range(1, len(parts), 2):
        parts[i] = parts[i].replace("%", "%%")
    return "'".join(parts)


def _python(value: Any) -> Any:
    """A frame's cell as psycopg writes it: numpy scalars and arrays as Python values, missing as NULL, and
    a NUL character (which PostgreSQL's text cannot hold, and DuckDB's can) as U+FFFD, the replacement
    character, so a text with one is stored rather than failing its whole batch."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, np.ndarray | list | tuple):
        return [_python(v) for v in value]
    if value is None or value is pd.NaT or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else pd.Timestamp(value).to_pydatetime()
    return value.item() if isinstance(value, np.generic) else value


WHOLE = ("integer", "bigint", "smallint")


def _whole(value: Any) -> int | None:
    """A cell of an integer column (DuckDB gives a column with missing values as floats)."""
    value = _python(value)
    return None if value is None else int(value)


def _column_type(column: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(column):
        return "BOOLEAN"
    if pd.api.types.is_integer_dtype(column):
        return "BIGINT"
    if pd.api.types.is_float_dtype(column):
        return "DOUBLE PRECISION"
    if pd.api.types.is_datetime64_any_dtype(column):
        return "TIMESTAMP"
    present = column.dropna()
    if len(present) and isinstance(present.iloc[0], np.ndarray | list | tuple):
        return "DOUBLE PRECISION[]"
    return "TEXT"


class Result:
    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor

    def fetchone(self) -> tuple | None:
        return self.cursor.fetchone()

    def fetchall(self) -> list[tuple]:
        return self.cursor.fetchall()

    def df(self) -> pd.DataFrame:
        columns = [c.name for c in self.cursor.description]
        return pd.DataFrame.from_records(self.cursor.fetchall(), columns=columns)


class Connection:
    """A psycopg connection that takes the calls DuckDB's connection takes (execute, register, df)."""

    def __init__(self, con: Any) -> None:
        self.con = con

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        import psycopg

        cursor = self.con.cursor()
        try:
            cursor.execute(_placeholders(sql), [_python(p) for p in params])
        except psycopg.Error as error:  # refused by the server (rights, a lost connection): said in words
            reason = (error.diag.message_primary if error.diag else None) or type(error).__name__
            raise DatabaseError(
                tr("The PostgreSQL server refused a change: {reason}.", reason=reason)
            ) from None
        return Result(cursor)

    def register(self, name: str, frame: pd.DataFrame, types: dict[str, str] | None = None) -> None:
        """`frame` as the temporary table `name` for the rest of this connection (as DuckDB's register);
        `types` names a column's SQL type where its values cannot tell (a column with no value)."""
        if not re.fullmatch(r"[a-z_]+", name) or not all(re.fullmatch(r"[a-z_]+", str(c)) for c in frame):
            raise ValueError(f"not a table or column name: {name!r}, {list(frame.columns)!r}")
        types = types or {}
        columns = ", ".join(f"{c} {types.get(c) or _column_type(frame[c])}" for c in frame.columns)
        self.con.execute(f"DROP TABLE IF EXISTS pg_temp.{name}")
        self.con.execute(f"CREATE TEMPORARY TABLE {name} ({columns})")
        values = [[_whole(v) if (types.get(c) or "").lower() in WHOLE else _python(v) for v in frame[c].tolist()]
                  for c in frame.columns]  # fmt: skip
        with self.con.cursor().copy(f"COPY {name} ({', '.join(frame.columns)}) FROM STDIN") as copy:
            for row in zip(*values, strict=True):
                copy.write_row(row)

    def column_types(self, table: str) -> dict[str, str]:
        """The SQL type of each column of `table` (on the connection's search path)."""
        rows = self.execute("SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
                            "WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped", [table])  # fmt: skip
        return dict(rows.fetchall())


def connect_raw(address: str, **options: Any) -> Any:
    """A psycopg connection to `address`, or DatabaseError in one sentence when the server cannot be reached
    (its host and port named, never the URL's password)."""
    import psycopg

    try:
        given = psycopg.conninfo.conninfo_to_dict(address)
    except psycopg.ProgrammingError:  # its reason may quote the URL, password included: never shown
        raise DatabaseError(tr("{variable} is not a PostgreSQL URL that can be read (postgresql://USER:PASSWORD"
                               "@HOST:PORT/DATABASE; special characters in the password percent-encoded).",
                               variable=ENV)) from None  # fmt: skip
    try:
        return psycopg.connect(address, connect_timeout=CONNECT_SECONDS, **options)
    except psycopg.Error as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        where = f"{given.get('host', 'localhost')}, port {given.get('port', 5432)}"
        reason = first.rsplit(": ", 1)[-1].rstrip(".")
        if given.get("password"):
            reason = reason.replace(given["password"], "***")
        raise DatabaseError(tr("Cannot reach the PostgreSQL server that {variable} names ({where}): {reason}.",
                               variable=ENV, where=where, reason=reason)) from None  # fmt: skip


def lock(con: Connection, key: str) -> None:
    """The advisory lock of `key`, held by `con`'s transaction until it ends (one holder at a time)."""
    con.execute("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", [key])


@contextlib.contextmanager
def connection(address: str, search_path: str | None = None) -> Iterator[Connection]:
    """A connection of its own that commits each statement (for reads), on `search_path` when given."""
    options = {"options": f"-c search_path={search_path}"} if search_path else {}
    con = connect_raw(address, autocommit=True, **options)
    try:
        yield Connection(con)
    finally:
        con.close()


@contextlib.contextmanager
def transaction(address: str, lock_key: str, search_path: str | None = None) -> Iterator[Connection]:
    """One transaction holding the advisory lock of `lock_key`: committed at the end of the block, rolled
    back on any error (and by the server if this process dies)."""
    options = {"options": f"-c search_path={search_path}"} if search_path else {}
    con = connect_raw(address, **options)
    try:
        with con.transaction():
            held = Connection(con)
            lock(held, lock_key)
            yield held
    finally:
        con.close()
