"""The runs folder: creating, listing, finding and reloading runs, and which ones are still alive.

A run's status is what its folder says, except that an active run whose process is gone is
*interrupted*, and a submitted run waiting its turn stays *queued* whoever queued it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from trainer.files import locks
from trainer.files.atomic import temp_beside
from trainer.i18n import tr
from trainer.runs.folder import (
    ACTIVE,
    DEFAULT_RUNS_DIR,
    INTERRUPTED,
    QUEUED,
    RunFolder,
    private_files,
    read_json,
)
from trainer.runs.records import RunStatus
from trainer.tasks import Task, get_task

# Runs this process is executing right now (registered by JobManager). A run marked running by
# this very process but not registered here was left behind by an earlier manager: interrupted.
_live: set[str] = set()
_live_lock = threading.Lock()


def mark_live(run_dir: Path, live: bool) -> None:
    """Register or unregister a run folder as being executed by this process."""
    with _live_lock:
        (_live.add if live else _live.discard)(str(Path(run_dir).resolve()))


def _is_live(run_dir: Path) -> bool:
    with _live_lock:
        return str(Path(run_dir).resolve()) in _live


def slugify(name: str) -> str:
    """A folder-safe version of a user's run name."""
    slug = re.sub(r"[^\w.-]+", "-", name.strip(), flags=re.UNICODE).strip("-.")
    return slug[:60] or "run"


def create_run(runs_dir: Path, name: str) -> Path:
    """Make a new, uniquely named run folder `<date>-<time>-<name>` with status queued."""
    runs_dir = Path(runs_dir)
    with private_files():  # a run folder is the service's user's only: 0700, its files 0600
        runs_dir.mkdir(parents=True, exist_ok=True)
        stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{slugify(name)}"
        for i in range(1000):
            path = runs_dir / (stem if i == 0 else f"{stem}-{i + 1}")
            try:
                path.mkdir(mode=0o700)
            except FileExistsError:
                continue
            path.chmod(0o700)  # whatever the umask was
            RunFolder(path).write_status(QUEUED, name=name, created=time.time())
            return path
    raise RuntimeError(f"could not create a run folder in {runs_dir}")


def write_status(run_dir: Path, status: str, **fields: Any) -> dict:
    """Update status.json of `run_dir` (see `RunFolder.write_status`)."""
    return RunFolder(run_dir).write_status(status, **fields)


def effective_status(run_dir: Path, status: RunStatus) -> str:
    """The stored status, or 'interrupted' when the process that was running it is gone.

    A submitted job waiting its turn (queued, with `queued_at`) stays queued on disk whoever queued
    it: the next job manager to look at the runs folder starts it.
    """
    state = status.status
    if state not in ACTIVE or (state == QUEUED and status.queued_at):
        return state
    pid = status.pid
    if pid == os.getpid() and status.host in (None, locks.this_host()):
        return state if _is_live(run_dir) else INTERRUPTED
    return state if locks.alive(pid, status.pid_started, status.host) else INTERRUPTED


@dataclass
class RunInfo:
    """One line of the run list."""

    id: str
    path: Path
    name: str
    status: str
    task: str | None
    model: str | None
    created: float | None
    finished: float | None
    metric_name: str | None
    metric: float | None
    error: str | None
    device: str | None = None

    @property
    def has_model(self) -> bool:
        return RunFolder(self.path).has_model


@dataclass
class Run:
    """Everything a run folder holds, loaded lazily where large."""

    path: Path
    info: RunInfo
    config: dict = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)
    report: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)

    @property
    def folder(self) -> RunFolder:
        return RunFolder(self.path)

    @property
    def model_dir(self) -> Path:
        return self.folder.model_dir

    @property
    def has_model(self) -> bool:
        return self.folder.has_model

    @property
    def task(self) -> str:
        return self.adapter.name

    @property
    def adapter(self) -> Task:
        """The run's task adapter (text classification for folders that do not say)."""
        return get_task(self.config.get("task"))

    def predictions(self) -> pd.DataFrame | None:
        """The test-split predictions table, if written."""
        return self.folder.predictions()

    def split(self, name: str) -> pd.DataFrame | None:
        """A data split ('train', 'validation', 'test') as saved at training time."""
        return self.folder.split(name)


def run_info(run_dir: Path) -> RunInfo:
    """Summarise one run folder (never raises on a damaged folder)."""
    info, status = _read_info(RunFolder(run_dir))
    info.status = effective_status(info.path, status)
    return info


def _read_info(folder: RunFolder) -> tuple[RunInfo, RunStatus]:
    """A run's line as its files say (the stored status), and its status record."""
    status = folder.read_status()
    config = read_json(folder.config_file, {}) or {}
    metrics = folder.metrics()
    task = config.get("task")
    final = metrics.get("test") or metrics.get("validation") or {}
    metric_name, metric = get_task(task).headline(final) if final else (None, None)
    info = RunInfo(
        id=folder.path.name,
        path=folder.path,
        name=status.name or folder.path.name,
        status=status.status,
        task=task,
        model=config.get("model"),
        created=status.created,
        finished=status.finished,
        metric_name=metric_name,
        metric=metric,
        error=status.error,
        device=status.device,
    )
    return info, status


# What list_runs read of each run folder, keyed on the stat of the files its line comes from (status.json,
# config.json, metrics.json): every writer replaces them by a rename, so a changed file has a new inode,
# and an entry is kept only once its files are older than RACY_SECONDS, so two writes within one tick of
# the file system's clock are never mistaken for one. A live run's files change every second: it is read
# again at every listing, and an active run's process is checked every time. Guarded by a lock: the app's
# pages list runs from several threads.
RACY_SECONDS = 2.0
_lines: dict[str, tuple[tuple, RunInfo, RunStatus]] = {}
_lines_lock = threading.Lock()


def stat_key(path: str | Path) -> tuple[int, int, int] | None:
    """What changes when a file is written again (mtime, size, inode), or None when it is missing."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def settled(stamps: tuple) -> bool:
    """Whether every stamped file is older than RACY_SECONDS (so a later change shows in its stamp)."""
    limit = time.time_ns() - int(RACY_SECONDS * 1e9)
    return all(stamp is None or stamp[0] < limit for stamp in stamps)


# The files a run's line is read from (RunFolder's status_file, config_file, metrics_file), joined as
# strings: a listing of thousands of runs spends most of its time making paths otherwise.
LINE_FILES = ("status.json", "config.json", "metrics.json")


def _copy(info: RunInfo) -> RunInfo:
    """A copy of a cached line (callers may change theirs), made without copy.copy's overhead."""
    new = RunInfo.__new__(RunInfo)
    new.__dict__.update(info.__dict__)
    return new


def _line(key: str, status_stamp: tuple) -> tuple[RunInfo, bool]:
    """The run's line, from the cache when its files have not changed since it was read; and whether it
    was newly cached."""
    stamps = (status_stamp, *(stat_key(os.path.join(key, name)) for name in LINE_FILES[1:]))
    with _lines_lock:
        cached = _lines.get(key)
    added = False
    if cached is not None and cached[0] == stamps:
        info, status = _copy(cached[1]), cached[2]
    else:
        info, status = _read_info(RunFolder(key))
        if settled(stamps):
            with _lines_lock:
                _lines[key] = (stamps, _copy(info), status)
            added = True
    if status.status in ACTIVE:
        info.status = effective_status(info.path, status)
    return info, added


# The cached lines of a runs folder, kept on disk too so that a new process (the command line, an app
# after a restart) lists thousands of runs without reading each: <runs>/.listing.json, private. It is only
# a cache: an entry is used only while its files' stat is the one it was read with, so a stale, damaged
# or foreign index costs a read of those runs and nothing else. Read once per runs folder per process;
# written (temp file + rename) after a listing that cached new lines.
INDEX_FILE, INDEX_VERSION = ".listing.json", 1
_indexed: set[str] = set()


def _load_index(runs_dir: str) -> None:
    with _lines_lock:
        if runs_dir in _indexed:
            return
        _indexed.add(runs_dir)
    data = read_json(Path(runs_dir) / INDEX_FILE, {}) or {}
    if not isinstance(data, dict) or data.get("version") != INDEX_VERSION:
        return
    loaded = {}
    for name, entry in (data.get("runs") or {}).items():
        try:
            key = os.path.join(runs_dir, name)
            stamps = tuple(tuple(stamp) if stamp is not None else None for stamp in entry["stamps"])
            info = RunInfo(**{**entry["info"], "id": name, "path": Path(key)})
            loaded[key] = (stamps, info, RunStatus.from_dict(entry["status"]))
        except (KeyError, TypeError, ValueError):
            continue  # an entry this version cannot read: that run is read from its files
    with _lines_lock:
        for key, value in loaded.items():
            _lines.setdefault(key, value)


def _save_index(runs_dir: str) -> None:
    with _lines_lock:
        lines = {k: v for k, v in _lines.items() if os.path.dirname(k) == runs_dir}
    runs = {
        os.path.basename(key): {
            "stamps": stamps,
            "info": {k: v for k, v in info.__dict__.items() if k not in ("id", "path")},
            "status": status.to_dict(),
        }
        for key, (stamps, info, status) in lines.items()
    }
    path = Path(runs_dir) / INDEX_FILE
    tmp = temp_beside(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"version": INDEX_VERSION, "runs": runs}, out, ensure_ascii=False)
        os.replace(tmp, path)
    except (OSError, TypeError, ValueError):  # a cache: a full disk or a read-only folder costs speed only
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def list_runs(runs_dir: Path = DEFAULT_RUNS_DIR) -> list[RunInfo]:
    """Every run under `runs_dir`, newest first (a link to a run elsewhere is not one of them).

    Cheap when called again: a run folder whose files have not changed is not read again (see _lines);
    an active run's process is checked every time, so no status shown is stale."""
    runs_dir = Path(runs_dir)
    try:
        entries = list(os.scandir(runs_dir))
    except OSError:
        return []
    _load_index(str(runs_dir))
    infos, seen, added = [], set(), False
    for entry in entries:
        try:
            if not entry.is_dir() or (entry.is_symlink() and not inside(Path(entry.path), runs_dir)):
                continue
        except OSError:
            continue
        status_stamp = stat_key(os.path.join(entry.path, LINE_FILES[0]))
        if status_stamp is None:
            continue
        seen.add(entry.path)
        info, new = _line(entry.path, status_stamp)
        infos.append(info)
        added = added or new
    if _forget_missing(runs_dir, seen) or added:
        _save_index(str(runs_dir))
    return sorted(infos, key=lambda r: r.created or 0, reverse=True)


def _forget_missing(runs_dir: Path, seen: set[str]) -> bool:
    """Drop the cached lines of run folders of this runs folder that are gone (deleted runs); any dropped?"""
    parent = str(runs_dir)
    with _lines_lock:
        gone = [k for k in _lines if os.path.dirname(k) == parent and k not in seen]
        for key in gone:
            del _lines[key]
    return bool(gone)


def load_run(run_dir: Path) -> Run:
    """Reload a run folder; raises FileNotFoundError with a plain message if it is not one."""
    folder = RunFolder(run_dir)
    if not folder.status_file.exists():
        raise FileNotFoundError(tr("{path} is not a run folder (it has no status.json).", path=folder.path))
    return Run(
        path=folder.path,
        info=run_info(folder.path),
        config=folder.config(),
        labels=folder.labels(),
        report=folder.report(),
        metrics=folder.metrics(),
        history=folder.history(),
    )


def inside(path: Path, folder: Path) -> bool:
    """Whether `path` (symbolic links resolved) lies inside `folder`."""
    return Path(path).resolve().is_relative_to(Path(folder).resolve())


def find_run(ref: str | Path, runs_dir: Path = DEFAULT_RUNS_DIR, anywhere: bool = False) -> Path:
    """A run given as a folder path, a run id or a run name, inside `runs_dir` (symbolic links resolved).

    A path or name that would lead outside the runs folder (`..`, an absolute path elsewhere, a link)
    is refused: a typed name can never make the app read or write elsewhere. `anywhere` (the command
    line, which runs as the machine's own user): the path of a run folder, such as the one `fit` prints,
    works wherever it lies; it must still be a run folder, not any folder.
    """
    runs_dir = Path(runs_dir)
    if anywhere and (Path(ref) / "status.json").is_file() and (Path(ref) / "config.json").is_file():
        return Path(ref)
    for candidate in (Path(ref), runs_dir / str(ref)):
        if (candidate / "status.json").exists():
            if not inside(candidate, runs_dir) or Path(candidate).resolve() == runs_dir.resolve():
                raise FileNotFoundError(
                    tr(
                        "{ref} is not inside the runs folder {folder}. Give a run id from `python -m trainer "
                        "runs`, or point --runs-dir at the folder that holds it.",
                        ref=ref,
                        folder=runs_dir,
                    )
                )
            return candidate
    matches = [r.path for r in list_runs(runs_dir) if r.name == str(ref)]
    if matches:
        return matches[0]
    raise FileNotFoundError(
        tr("No run called {ref}. Give a run folder or an id from `python -m trainer runs`.", ref=ref)
    )
