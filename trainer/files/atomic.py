"""JSON files of a run folder, written atomically (temp file + rename) and read forgivingly."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any


def temp_beside(path: Path, suffix: str = ".tmp") -> Path:
    """A temporary name next to `path`, unique to this process and thread, so two writers of one run
    never write into each other's file before their renames."""
    path = Path(path)
    return path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}{suffix}")


def replace_folder(new: Path, target: Path) -> None:
    """Put the folder `new` at `target` in one step, so `target` is never missing; the folder that was
    there ends up at `new`'s path (delete it afterwards). Linux swaps both names at once
    (renameat2 RENAME_EXCHANGE); elsewhere the old folder is moved aside first, for a moment."""
    if not target.exists():
        os.replace(new, target)
        return
    if _exchange(new, target):
        return
    aside = temp_beside(target, ".old")
    os.replace(target, aside)
    os.replace(new, target)
    os.replace(aside, new)


def _exchange(a: Path, b: Path) -> bool:
    import ctypes

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def write_json(path: Path, data: Any, private: bool = False) -> None:
    """Write JSON atomically (temp file fsynced, then renamed, then the folder fsynced), so neither a crash
    nor a power cut leaves half a file or an empty one. `private`: readable by this user only from the
    first byte (the temp file is created 0600)."""
    path = Path(path)
    tmp = temp_beside(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o666)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(json.dumps(data, indent=2, ensure_ascii=False, default=_json_default))
        out.flush()
        os.fsync(out.fileno())  # the bytes are on disk before the new name points at them
    os.replace(tmp, path)
    _fsync_folder(path.parent)  # and the rename itself survives a power cut


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # a file system that cannot sync a folder: the rename is as durable as it gets
        pass
    finally:
        os.close(fd)


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def read_json(path: Path, default: Any = None) -> Any:
    """Read JSON, or `default` when the file is missing or unreadable."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default
