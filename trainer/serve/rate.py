"""The rate limit: requests per minute per token, one count for every worker process of a service.

Each worker is its own process, so a count in memory would let `--workers N` allow N times the limit. The
buckets live in one SQLite file under the runs folder (`<runs>/.access/serve-rate.sqlite`, mode 0600),
and each request takes its token from the bucket in one `BEGIN IMMEDIATE` transaction, which SQLite
serialises between processes. Time is `time.monotonic`, one clock for every process of the machine.
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


def allowed(buckets: dict[str, list[float]], name: str, per_minute: int) -> bool:
    """A token bucket per token: `per_minute` requests, refilled evenly; takes one if there is one."""
    now = time.monotonic()
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
