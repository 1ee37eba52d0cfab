"""A DuckDB file private to the service's user and written by one process at a time: what a monitor
(trainer.monitor.database) and a labelling project (trainer.apply.label_project) each keep their rows in.

Every connection is opened under the file's `flock` lock (DuckDB lets one process write a file at a time;
the kernel drops the lock if the holder dies) and runs the caller's schema first; `transaction()` wraps a
block in one transaction, rolled back on any error, so a write killed half-way leaves nothing of itself.
The folder is 0700 and every file of it (the database, its write-ahead log, the lock) 0600: these files
hold the texts people sent.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from trainer.files import locks

FOLDER_MODE, FILE_MODE = 0o700, 0o600


def private(path: Path, mode: int = FILE_MODE) -> None:
    """Make `path` (if it is there) readable by the service's user only."""
    with contextlib.suppress(FileNotFoundError, PermissionError):
        if stat.S_IMODE(os.stat(path).st_mode) != mode:
            os.chmod(path, mode)


class LockedDuckDB:
    """One DuckDB file with its schema (statements run at every connection: CREATE ... IF NOT EXISTS)."""

    schema: Sequence[str] = ()

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.lock = self.path.with_name(f".{self.path.name}.lock")

    @contextlib.contextmanager
    def connect(self) -> Iterator[Any]:
        """A connection under the file's lock, its schema in place."""
        import duckdb

        self.path.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        private(self.path.parent, FOLDER_MODE)
        with locks.locked(self.lock):
            private(self.lock)
            con = duckdb.connect(str(self.path))
            try:
                private(self.path)
                for statement in self.schema:
                    con.execute(statement)
                yield con
            finally:
                con.close()
                private(self.path.with_name(self.path.name + ".wal"))

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        """A connection inside one transaction: committed at the end of the block, rolled back on error."""
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
