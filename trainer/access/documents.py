"""Where the access state lives: the accounts, the tokens, the sign-in marker and the audit log's head are
JSON documents, the audit log a list of lines.

Without INSIGHT_DATABASE_URL each is a file in `<runs>/.access` (mode 0600), written atomically under its
file lock. With it, they are rows on that PostgreSQL server (`insight_documents`, `insight_audit`) and a
change is one transaction under the document's advisory lock, so every app server and service replica of a
team reads and changes the same accounts and tokens, and a removed account or a revoked token is refused
on every machine at its next request.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from trainer.files import locks
from trainer.files.atomic import write_json
from trainer.runs import postgres
from trainer.runs.folder import access_dir

TABLES = (
    "CREATE TABLE IF NOT EXISTS public.insight_documents (name TEXT PRIMARY KEY, body TEXT NOT NULL, "
    "changed DOUBLE PRECISION NOT NULL)",
    "CREATE TABLE IF NOT EXISTS public.insight_audit (seq BIGSERIAL PRIMARY KEY, line TEXT NOT NULL)",
)
_READY: set[str] = set()  # the servers this process has made the tables on


def server() -> str | None:
    """The PostgreSQL server's URL, its tables made once per process; None: the files."""
    address = postgres.url()
    if address and address not in _READY:
        with postgres.transaction(address, "insight-access-tables") as con:
            for statement in TABLES:
                con.execute(statement)
        _READY.add(address)
    return address


class Document:
    """One JSON document: `<runs>/.access/<filename>`, or the row of that name on the server."""

    def __init__(self, runs_dir: Path, filename: str) -> None:
        self.path = access_dir(runs_dir) / filename
        self.name = filename
        self.address = server()

    def text(self) -> str | None:
        """The document as written; None when there is none. A file that cannot be read raises OSError.

        On the server, a document it lacks while the runs folder has its file (accounts and tokens made
        before INSIGHT_DATABASE_URL was set) is copied there first: sign-in set up on one machine stays set
        up, and its tokens keep working, when the team moves to the server."""
        if self.address:
            with postgres.connection(self.address) as con:
                row = con.execute(
                    "SELECT body FROM public.insight_documents WHERE name = ?", [self.name]
                ).fetchone()
                if row is None and self.path.is_file():
                    con.execute("INSERT INTO public.insight_documents VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
                                [self.name, self.path.read_text(encoding="utf-8"), time.time()])  # fmt: skip
                    row = con.execute("SELECT body FROM public.insight_documents WHERE name = ?",
                                      [self.name]).fetchone()  # fmt: skip
            return row[0] if row else None
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def exists(self) -> bool:
        return self.text() is not None if self.address else self.path.exists()

    def stamp(self) -> Any:
        """Changes whenever the document does (for readers that keep it in memory)."""
        if self.address:
            with postgres.connection(self.address) as con:
                row = con.execute(
                    "SELECT changed FROM public.insight_documents WHERE name = ?", [self.name]
                ).fetchone()
            return row
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return (stat.st_mtime_ns, stat.st_size, stat.st_ino)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """One writer at a time: the file's lock, or the document's advisory lock on the server."""
        if self.address:
            with postgres.transaction(self.address, f"insight-document:{self.name}"):
                yield
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with locks.locked(self.path.with_suffix(".lock")):
                yield

    def write(self, data: Any) -> None:
        """The whole document replaced (under `locked()` where others may change it)."""
        if self.address:
            import json

            with postgres.connection(self.address) as con:
                con.execute("INSERT INTO public.insight_documents VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE "
                            "SET body = excluded.body, changed = excluded.changed",
                            [self.name, json.dumps(data, ensure_ascii=False), time.time()])  # fmt: skip
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_json(self.path, data, private=True)

    def set_aside(self) -> None:
        """A damaged document kept aside under another name, never overwritten."""
        if self.address:
            with postgres.connection(self.address) as con:
                con.execute("UPDATE public.insight_documents SET name = ? WHERE name = ?",
                            [f"{self.name}.damaged-{int(time.time())}", self.name])  # fmt: skip
        elif self.path.exists() and self.path.stat().st_size:
            self.path.replace(self.path.with_name(f"{self.path.name}.damaged-{int(time.time())}"))
