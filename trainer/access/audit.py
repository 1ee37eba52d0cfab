"""The audit log: who signed in, started, cancelled, shared, downloaded or deleted what, and when.

One JSON object per line in `<runs>/.access/audit.jsonl`, appended under a file lock with O_APPEND, never
rewritten; or, with INSIGHT_DATABASE_URL set, one row per line of `insight_audit` on that PostgreSQL server
(appended in one transaction with its head, under the log's advisory lock), one log for every machine. Admins read it on the Audit page or with `python -m trainer audit`.

Each line is chained to the one before it: its "prev" is the SHA-256 (hex) of the previous line's exact
bytes (without the newline), and the first line's is GENESIS. `audit.head` beside the log keeps the log's
size and the hash of its last line after each append, so a cut or edited tail is caught as well.
`verify` names the first line that does not follow; a log written before the chain existed (lines with no
"prev") is read as it was, and the chain is checked from its first chained line on. The chain shows an
edit made without recomputing every later hash; whoever can rewrite the whole folder can rewrite both.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainer.access.documents import server
from trainer.files import locks
from trainer.files.atomic import write_json
from trainer.i18n import tr, trn
from trainer.runs import postgres
from trainer.runs.folder import access_dir

GENESIS = "0" * 64  # the "prev" of the first line of a log
_BLOCK = 4096
LOCK = "insight-audit"  # the advisory lock of the log on the server
HEAD = "audit.head"  # the head's document on the server


def log_file(runs_dir: Path) -> Path:
    return access_dir(runs_dir) / "audit.jsonl"


def head_file(runs_dir: Path) -> Path:
    """The log's size and its last line's hash after the last append (catches a cut or edited tail)."""
    return access_dir(runs_dir) / "audit.head"


def line_hash(line: bytes) -> str:
    """The hash the next line carries as its "prev": SHA-256 of the line's bytes, newline excluded."""
    return hashlib.sha256(line).hexdigest()


def _last_line(fd: int, size: int) -> bytes:
    """The file's last line (without its newline), read backwards from the end; b"" for an empty file."""
    end = size - 1 if size and os.pread(fd, 1, size - 1) == b"\n" else size
    start, tail = end, b""  # tail: the bytes from start to end
    while start > 0:
        step = min(_BLOCK, start)
        start -= step
        tail = os.pread(fd, step, start) + tail
        cut = tail.rfind(b"\n")
        if cut >= 0:
            return tail[cut + 1 :]
    return tail


def record(runs_dir: Path, who: str, action: str, target: str = "", **details: Any) -> None:
    """Append one event, chained to the last line. Never raises: a full disk must not stop the action
    being audited."""
    event = {"time": time.time(), "who": who, "action": action, "target": target, **details}
    try:
        address = server()
        if address:
            _append_on_server(address, event)
            return
        path = log_file(runs_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        with locks.locked(access_dir(runs_dir) / "audit.lock"):  # the last line and the append, together
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                size = os.fstat(fd).st_size
                last = _last_line(fd, size)
                event["prev"] = line_hash(last) if size else GENESIS
                body = json.dumps(event, ensure_ascii=False, default=str).encode("utf-8")
                unfinished = size and os.pread(fd, 1, size - 1) != b"\n"  # a torn last line stays its own
                data = (b"\n" if unfinished else b"") + body + b"\n"
                os.write(fd, data)
            finally:
                os.close(fd)
            write_json(head_file(runs_dir), {"size": size + len(data), "last": line_hash(body)}, private=True)
    except Exception:  # noqa: BLE001 - a full disk or a lost server must not stop the action audited
        pass


def _append_on_server(address: str, event: dict) -> None:
    """The event chained to the server's last line and appended with the new head, in one transaction."""
    with postgres.transaction(address, LOCK) as con:
        last = con.execute("SELECT line FROM public.insight_audit ORDER BY seq DESC LIMIT 1").fetchone()
        head = _head_on_server(con)
        event["prev"] = line_hash(last[0].encode("utf-8")) if last else GENESIS
        body = json.dumps(event, ensure_ascii=False, default=str)
        con.execute("INSERT INTO public.insight_audit (line) VALUES (?)", [body])
        size = int((head or {}).get("size") or 0) + len(body.encode("utf-8")) + 1
        con.execute("INSERT INTO public.insight_documents VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                    "body = excluded.body, changed = excluded.changed",
                    [HEAD, json.dumps({"size": size, "last": line_hash(body.encode("utf-8"))}), time.time()])  # fmt: skip


def _head_on_server(con: postgres.Connection) -> dict | None:
    row = con.execute("SELECT body FROM public.insight_documents WHERE name = ?", [HEAD]).fetchone()
    try:
        head = json.loads(row[0]) if row else None
    except ValueError:
        return None
    return head if isinstance(head, dict) else None


def _log(runs_dir: Path) -> tuple[bytes, dict | None] | None:
    """The log's bytes and its head, read together (no half-written append); None when there is no log."""
    address = server()
    if address:
        with postgres.transaction(address, LOCK) as con:
            lines = [
                line
                for (line,) in con.execute("SELECT line FROM public.insight_audit ORDER BY seq").fetchall()
            ]
            head = _head_on_server(con)
        return ("".join(f"{line}\n" for line in lines).encode("utf-8"), head) if lines or head else None
    path = log_file(runs_dir)
    if not path.exists():
        return None
    with locks.locked(access_dir(runs_dir) / "audit.lock"):
        return path.read_bytes(), _read_head(runs_dir)


def events(runs_dir: Path, last: int | None = None) -> list[dict]:
    """The events, oldest first (the `last` ones); a damaged line is skipped."""
    log = _log(runs_dir)
    if log is None:
        return []
    found = []
    for line in log[0].decode("utf-8", errors="replace").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict):
            found.append(event)
    return found[-last:] if last else found


@dataclass(frozen=True)
class Verdict:
    """What `verify` found: intact or not, the first broken line (1-based) and one sentence saying so."""

    intact: bool
    lines: int
    chain_from: int | None  # the first chained line (after the lines written before the chain), or None
    broken: int | None
    sentence: str


def _prev_of(line: bytes) -> str | None:
    try:
        event = json.loads(line.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError is a ValueError
        return None
    prev = event.get("prev") if isinstance(event, dict) else None
    return prev if isinstance(prev, str) else None


def verify(runs_dir: Path) -> Verdict:
    """Check the chain line by line, then the tail against audit.head."""
    log = _log(runs_dir)
    if log is None:
        return Verdict(True, 0, None, None, _intact(0, None))
    raw, head = log
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    chain_from = None
    for number, line in enumerate(lines, start=1):
        prev = _prev_of(line)
        if chain_from is None:
            if prev is None:
                continue  # written before lines were chained
            chain_from = number
        expected = line_hash(lines[number - 2]) if number > 1 else GENESIS
        if prev is None:
            return _broken(lines, chain_from, number, tr(
                "Line {line} of the audit log is not a chained event: it was edited, inserted or damaged.",
                line=number))  # fmt: skip
        if prev != expected:
            return _broken(lines, chain_from, number, tr(
                "Line {line} of the audit log does not follow line {previous}: a line was edited, removed "
                "or moved there.", line=number, previous=number - 1))  # fmt: skip
    said = _tail_problem(raw, lines, head)
    if said:
        return _broken(lines, chain_from, *said)
    return Verdict(True, len(lines), chain_from, None, _intact(len(lines), chain_from))


def _read_head(runs_dir: Path) -> dict | None:
    try:
        head = json.loads(head_file(runs_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return head if isinstance(head, dict) else None


def _tail_problem(raw: bytes, lines: list[bytes], head: dict | None) -> tuple[int, str] | None:
    """Whether the log's end is the one the last append left (size and last line)."""
    if head is None or not isinstance(head.get("size"), int):
        return None
    if len(raw) < head["size"]:
        return len(lines), tr(
            "The audit log was cut after line {line}: lines recorded after it are missing.", line=len(lines)
        )
    if len(raw) > head["size"]:
        extra = raw[: head["size"]].count(b"\n") + 1
        return extra, tr("Line {line} of the audit log was not written by Insight: it was added by hand.",
                         line=extra)  # fmt: skip
    if lines and line_hash(lines[-1]) != head.get("last"):
        return len(lines), tr(
            "Line {line} of the audit log was edited after it was written.", line=len(lines)
        )
    return None


def _broken(lines: list[bytes], chain_from: int | None, number: int, sentence: str) -> Verdict:
    return Verdict(False, len(lines), chain_from, number, sentence)


def _intact(count: int, chain_from: int | None) -> str:
    if count == 0:
        return tr("the audit log is empty")
    if chain_from is None:
        return trn(
            "The audit log's {n} line was written before lines were chained: it cannot be checked. The next "
            "event starts the chain.",
            "The audit log's {n} lines were written before lines were chained: they cannot be checked. The "
            "next event starts the chain.",
            count,
        )
    if chain_from == 1:
        return trn("The audit log is intact: {n} chained line.", "The audit log is intact: {n} chained lines.",
                   count)  # fmt: skip
    return tr(
        "The audit log is intact from line {first} to line {last}; lines 1 to {before} were written before "
        "lines were chained and cannot be checked.",
        first=chain_from,
        last=count,
        before=chain_from - 1,
    )
