"""The audit log: who signed in, started, cancelled, shared, downloaded or deleted what, and when.

One JSON object per line in `<runs>/.access/audit.jsonl`, appended under a file lock with O_APPEND, never
rewritten. Admins read it on the Audit page or with `python -m trainer audit`.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from trainer.runs import procs
from trainer.runs.folder import access_dir


def log_file(runs_dir: Path) -> Path:
    return access_dir(runs_dir) / "audit.jsonl"


def record(runs_dir: Path, who: str, action: str, target: str = "", **details: Any) -> None:
    """Append one event. Never raises: a full disk must not stop the action being audited."""
    event = {"time": time.time(), "who": who, "action": action, "target": target, **details}
    try:
        path = log_file(runs_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(event, ensure_ascii=False, default=str) + "\n").encode("utf-8")
        with procs.locked(access_dir(runs_dir) / "audit.lock"):
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
    except OSError:
        pass


def events(runs_dir: Path, last: int | None = None) -> list[dict]:
    """The events, oldest first (the `last` ones); a damaged line is skipped."""
    path = log_file(runs_dir)
    if not path.exists():
        return []
    found = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict):
            found.append(event)
    return found[-last:] if last else found
