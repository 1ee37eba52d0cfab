"""The rate limit: requests per minute per token, one count for every worker process of a service.

Each worker is its own process, so a count in memory would let `--workers N` allow N times the limit. The
buckets live in one SQLite file under the runs folder (`<runs>/.access/serve-rate.sqlite`, mode 0600),
and each request takes its token from the bucket in one `BEGIN IMMEDIATE` transaction, which SQLite
serialises between processes. Time is `time.monotonic`, one clock for every process of the machine.

With INSIGHT_DATABASE_URL set (`limiter`), the buckets live on that PostgreSQL server instead, so the
replicas of a service on several machines share one count per token; a token's bucket is changed in one
transaction under its advisory lock, and time is the server's clock, one clock for every machine.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

from trainer.runs.folder import access_dir

TIMEOUT_S = 10.0  # how long a worker waits for another's transaction before the request fails


def rate_file(runs_dir: Path) -> Path:
    return access_dir(runs_dir) / "serve-rate.sqlite"


def allowed(buckets: dict[str, list[float]], name: str, per_minute: int, now: float | None = None) -> bool:
    """A token bucket per token: `per_minute` requests, refilled evenly; takes one if there is one. `now`:
    the clock every counter of these buckets reads (this machine's monotonic clock by default)."""
    now = time.monotonic() if now is None else now
    tokens, last = buckets.get(name, [float(per_minute), now])
    # a bucket from before a reboot has a `last` ahead of the clock: refill from now, never below
    tokens = min(float(per_minute), tokens + max(0.0, now - last) * per_minute / 60)
    if tokens < 1:
        buckets[name] = [tokens, now]
        return False
    buckets[name] = [tokens - 1, now]
    return True


class SharedRate:
    """`per_minute` requests per token for one service (`scope`, its port), counted in `path` for all
    of its workers."""

    def __init__(self, path: Path, per_minute: int, scope: str = "") -> None:
        self.path, self.per_minute, self.scope = Path(path), per_minute, scope
        self.lock = threading.Lock()  # one connection per limiter, used by one thread at a time
        self.path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))  # private before SQLite writes to it
        self.con = sqlite3.connect(
            self.path, timeout=TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS buckets (scope TEXT, name TEXT, tokens REAL, last REAL, "
            "PRIMARY KEY (scope, name))"
        )

    def allow(self, name: str) -> bool:
        """Whether `name` may make one more request now (and if so, it is counted)."""
        with self.lock:
            self.con.execute("BEGIN IMMEDIATE")  # the write lock first: no two workers read the same count
            try:
                row = self.con.execute(
                    "SELECT tokens, last FROM buckets WHERE scope = ? AND name = ?", (self.scope, name)
                ).fetchone()
                buckets = {name: [float(row[0]), float(row[1])]} if row else {}
                ok = allowed(buckets, name, self.per_minute)
                self.con.execute(
                    "INSERT OR REPLACE INTO buckets VALUES (?, ?, ?, ?)", (self.scope, name, *buckets[name])
                )
                self.con.execute("COMMIT")
            except BaseException:
                self.con.execute("ROLLBACK")
                raise
        return ok

    def close(self) -> None:
        with self.lock:
            self.con.close()


class ServerRate:
    """The buckets of SharedRate on the PostgreSQL server at `address`: one count for every replica."""

    def __init__(self, address: str, per_minute: int, scope: str = "") -> None:
        from trainer.runs import postgres

        self.address, self.per_minute, self.scope = address, per_minute, scope
        self.lock = threading.Lock()  # one connection per limiter, used by one thread at a time
        self.con = None
        with postgres.transaction(address, "insight-rate-table") as con:
            con.execute("CREATE TABLE IF NOT EXISTS public.insight_rate (scope TEXT, name TEXT, tokens DOUBLE "
                        "PRECISION, last DOUBLE PRECISION, PRIMARY KEY (scope, name))")  # fmt: skip

    def _connection(self):
        from trainer.runs import postgres

        if self.con is None or self.con.closed:
            self.con = postgres.connect_raw(self.address)
        return self.con

    def allow(self, name: str) -> bool:
        from trainer.runs import postgres

        with self.lock:
            raw = self._connection()
            try:
                with raw.transaction():
                    con = postgres.Connection(raw)
                    postgres.lock(con, f"rate:{self.scope}:{name}")
                    (now,) = con.execute(
                        "SELECT extract(epoch FROM clock_timestamp())::double precision"
                    ).fetchone()
                    row = con.execute("SELECT tokens, last FROM public.insight_rate WHERE scope = ? AND name = ?",
                                      [self.scope, name]).fetchone()  # fmt: skip
                    buckets = {name: [float(row[0]), float(row[1])]} if row else {}
                    ok = allowed(buckets, name, self.per_minute, now)
                    con.execute("INSERT INTO public.insight_rate VALUES (?, ?, ?, ?) ON CONFLICT (scope, name) DO "
                                "UPDATE SET tokens = excluded.tokens, last = excluded.last",
                                [self.scope, name, *buckets[name]])  # fmt: skip
            except Exception:
                raw.close()  # a connection that failed is not used again
                raise
        return ok

    def close(self) -> None:
        with self.lock:
            if self.con is not None:
                self.con.close()


def limiter(runs_dir: Path, per_minute: int, scope: str = "") -> SharedRate | ServerRate:
    """The rate limit of one service: on the PostgreSQL server when INSIGHT_DATABASE_URL names one, else in
    the runs folder's SQLite file."""
    from trainer.runs import postgres

    address = postgres.url()
    return (
        ServerRate(address, per_minute, scope)
        if address
        else SharedRate(rate_file(runs_dir), per_minute, scope)
    )
