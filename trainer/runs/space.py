"""The space runs take, and deleting what a user no longer needs: whole runs, scorings, uploads, checkpoints.

Nothing that a live process is using is deleted: a queued or running fine-tune, a background
computation that is running, a scoring being computed, or an upload such a scoring reads. Each refusal
is a `Busy` with one sentence saying what to do. A symbolic link is removed as a link, never followed.
"""

from __future__ import annotations

import errno
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

from trainer.files import locks
from trainer.i18n import N_, tr
from trainer.runs.folder import ACTIVE, QUEUED, RUNNING, RunFolder
from trainer.runs.listing import effective_status, inside, settled, stat_key
from trainer.runs.scoring import Scoring, scorings

# Why an active run cannot be deleted, per status (run_busy).
BUSY_RUN = {
    QUEUED: N_(
        '"{name}" is queued. Cancel it first (python -m trainer cancel, or Cancel on the Train page).'
    ),
    RUNNING: N_(
        '"{name}" is running. Cancel it first (python -m trainer cancel, or Cancel on the Train page).'
    ),
}


class Busy(Exception):
    """Something cannot be deleted now: a process is using it."""


@dataclass
class Item:
    """One deletable part of a run: its scorings, the files uploaded to score, its checkpoints."""

    kind: str  # "scoring" | "upload" | "checkpoints"
    name: str
    path: Path
    size: int  # bytes
    busy: str | None = None  # why it cannot be deleted now


def size_of(path: Path) -> int:
    """Bytes in the files under `path` (links counted as links, not followed)."""
    path = Path(path)
    try:
        if path.is_symlink() or path.is_file():
            return path.lstat().st_size
    except OSError:
        return 0
    total = 0
    for root, _dirs, files in os.walk(path):  # os.walk does not follow links to folders
        for name in files:
            try:
                total += (Path(root) / name).lstat().st_size
            except OSError:
                continue
    return total


# A run folder's size as last counted, with the folders it has and their stamps: a file added, removed or
# replaced (every writer renames) changes its folder's stamp, so the run is counted again when one
# changes (a file growing in place, a job's log, is counted at its folder's next change); only sizes whose
# folders are older than listing.RACY_SECONDS are kept (a live run is counted anew each time). Guarded by
# a lock: the app checks quotas from several threads.
_sizes: dict[str, tuple[tuple[str, ...], tuple, int]] = {}
_sizes_lock = threading.Lock()


def run_size(path: Path) -> int:
    """size_of(path) for a run folder, counted again only when one of its folders changed."""
    key = str(path)
    with _sizes_lock:
        cached = _sizes.get(key)
    if cached is not None and tuple(stat_key(d) for d in cached[0]) == cached[1]:
        return cached[2]
    path = Path(path)
    if path.is_symlink() or not path.is_dir():
        return size_of(path)
    folders, total = [], 0
    for root, _dirs, files in os.walk(path):  # as size_of: links counted as links, not followed
        folders.append(root)
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    stamps = tuple(stat_key(d) for d in folders)
    with _sizes_lock:
        if settled(stamps) and None not in stamps:
            _sizes[key] = (tuple(folders), stamps, total)
        else:
            _sizes.pop(key, None)
    return total


DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
# How libraries word a full disk when they do not raise OSError (safetensors: "StorageFull", torch.save:
# "file write failed"): the last two only count when the disk is nearly full indeed.
DISK_FULL_WORDS = ("no space left on device", "disk quota exceeded", "storagefull")
WRITE_FAILED_WORDS = ("file write failed", "failed writing file")
NEARLY_FULL_BYTES = 64 * 1024 * 1024


def disk_full(exc: BaseException | None, path: Path) -> bool:
    """Whether `exc` (or an exception it came from) means the disk under `path` is full or over quota."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS:
            return True
        text = str(exc).lower()
        if any(words in text for words in DISK_FULL_WORDS):
            return True
        if any(words in text for words in WRITE_FAILED_WORDS) and _free_bytes(path) < NEARLY_FULL_BYTES:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _free_bytes(path: Path) -> int:
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return 0


def human_size(size: int) -> str:
    """'0 B', '812 KB', '3.4 MB', '1.2 GB'."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}" if size < 100 * scale else f"{size / scale:.0f} {unit}"
    return f"{size} B"


def _computation_running(folder: RunFolder, name: str) -> bool:
    state = folder.read_computation(name)
    return bool(state and state.active and locks.alive(state.pid, state.pid_started, state.host))


def _running_computations(folder: RunFolder) -> list[str]:
    directory = folder.computations_dir
    names = [p.stem for p in directory.glob("*.json")] if directory.is_dir() else []
    return [name for name in names if _computation_running(folder, name)]


def run_busy(run_dir: Path) -> str | None:
    """Why run `run_dir` cannot be deleted now, or None."""
    folder = RunFolder(run_dir)
    record = folder.read_status()
    status, name = effective_status(folder.path, record), record.name or folder.path.name
    if status in ACTIVE:
        said = BUSY_RUN[status] if status in BUSY_RUN else BUSY_RUN[RUNNING]
        return tr(said, name=name)
    working = _running_computations(folder)
    if working:
        return tr(
            '"{name}" is busy with {job} in the background. Stop it first, or wait until it finishes.',
            name=name,
            job=working[0],
        )
    return None


def _scoring_busy(folder: RunFolder, scoring: Scoring) -> str | None:
    if _computation_running(folder, f"score-{scoring.name}"):
        return tr('The scoring "{name}" is running. Stop it on the Apply page first.', name=scoring.name)
    return None


def _upload_busy(folder: RunFolder, path: Path) -> str | None:
    for scoring in scorings(folder.path):
        if _scoring_busy(folder, scoring) and Path(scoring.spec().source).resolve() == path.resolve():
            return tr('"{name}" is being scored right now. Stop that scoring first.', name=path.name)
    return None


def run_items(run_dir: Path) -> list[Item]:
    """The deletable parts of a run, largest first."""
    folder = RunFolder(run_dir)
    items = []
    for scoring in scorings(folder.path):
        if inside(scoring.path, folder.path):
            busy = _scoring_busy(folder, scoring)
            items.append(Item("scoring", scoring.name, scoring.path, size_of(scoring.path), busy))
    uploads = folder.uploads_dir
    for path in sorted(uploads.iterdir()) if uploads.is_dir() else []:
        if path.is_file() and not path.name.startswith(".") and inside(path, folder.path):
            items.append(Item("upload", path.name, path, size_of(path), _upload_busy(folder, path)))
    if folder.checkpoints_dir.is_dir():
        busy = run_busy(folder.path)
        items.append(
            Item("checkpoints", "checkpoints", folder.checkpoints_dir, size_of(folder.checkpoints_dir), busy)
        )
    return sorted(items, key=lambda i: i.size, reverse=True)


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path)


def delete_run(run_dir: Path, runs_dir: Path) -> int:
    """Delete a whole run (a link to one: the link only); returns the bytes freed. Raises Busy."""
    path = Path(run_dir)
    if not (path / "status.json").exists() or path.resolve() == Path(runs_dir).resolve():
        raise FileNotFoundError(tr("{path} is not a run folder.", path=path))
    busy = run_busy(path)
    if busy:
        raise Busy(busy)
    freed = size_of(path) if not path.is_symlink() else 0
    _remove(path)
    with _sizes_lock:
        _sizes.pop(str(path), None)
    return freed


def delete_item(run_dir: Path, kind: str, name: str) -> int:
    """Delete one scoring, upload or the checkpoints of a run; returns the bytes freed. Raises Busy, or
    FileNotFoundError when the run has no such thing."""
    found = [i for i in run_items(run_dir) if i.kind == kind and (i.name == name or kind == "checkpoints")]
    if not found:
        listed = ", ".join(i.name for i in run_items(run_dir) if i.kind == kind) or tr("none")
        raise FileNotFoundError(
            tr(
                'This run has no {kind} called "{name}" (it has: {listed}).',
                kind=kind,
                name=name,
                listed=listed,
            )
        )
    item = found[0]
    if item.busy:
        raise Busy(item.busy)
    _remove(item.path)
    return item.size
