"""The on-disk run folder: create, write atomically, list, reload; detect interrupted runs.

A run folder is self-describing (see README, "Run folder"); nothing about a run lives elsewhere,
so runs survive restarts and can be copied between machines.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

QUEUED, RUNNING, FINISHED, FAILED, CANCELLED, INTERRUPTED = (
    "queued",
    "running",
    "finished",
    "failed",
    "cancelled",
    "interrupted",
)
ACTIVE = (QUEUED, RUNNING)
DEFAULT_RUNS_DIR = Path(os.environ.get("INSIGHT_RUNS_DIR", "runs"))

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


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (temp file + rename), so a crash never leaves half a file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=_json_default), encoding="utf-8")
    os.replace(tmp, path)


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


def slugify(name: str) -> str:
    """A folder-safe version of a user's run name."""
    slug = re.sub(r"[^\w.-]+", "-", name.strip(), flags=re.UNICODE).strip("-.")
    return slug[:60] or "run"


def create_run(runs_dir: Path, name: str) -> Path:
    """Make a new, uniquely named run folder `<date>-<time>-<name>` with status queued."""
    runs_dir = Path(runs_dir)
    runs_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{slugify(name)}"
    for i in range(1000):
        path = runs_dir / (stem if i == 0 else f"{stem}-{i + 1}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        write_status(path, QUEUED, name=name, created=time.time())
        return path
    raise RuntimeError(f"could not create a run folder in {runs_dir}")


def write_status(run_dir: Path, status: str, **fields: Any) -> dict:
    """Update status.json, keeping earlier fields; records this process as the writer."""
    path = Path(run_dir) / "status.json"
    data = read_json(path, {}) or {}
    data.update(fields)
    data.update(status=status, pid=os.getpid(), updated=time.time())
    write_json(path, data)
    return data


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def effective_status(run_dir: Path, status: dict) -> str:
    """The stored status, or 'interrupted' when the process that was running it is gone."""
    state = status.get("status", INTERRUPTED)
    if state not in ACTIVE:
        return state
    pid = status.get("pid")
    if pid == os.getpid():
        return state if _is_live(run_dir) else INTERRUPTED
    return state if isinstance(pid, int) and _pid_alive(pid) else INTERRUPTED


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
    def model_dir(self) -> Path:
        return self.path / "model"

    @property
    def has_model(self) -> bool:
        return (self.model_dir / "config.json").exists()

    @property
    def task(self) -> str:
        return self.config.get("task", "text-classification")

    def predictions(self) -> pd.DataFrame | None:
        """The test-split predictions table, if written."""
        path = self.path / "predictions.csv"
        return pd.read_csv(path, keep_default_na=False) if path.exists() else None

    def split(self, name: str) -> pd.DataFrame | None:
        """A data split ('train', 'validation', 'test') as saved at training time."""
        path = self.path / "data" / f"{name}.jsonl"
        return pd.read_json(path, lines=True, dtype=False) if path.exists() else None


def run_info(run_dir: Path) -> RunInfo:
    """Summarise one run folder (never raises on a damaged folder)."""
    from trainer.metrics import headline

    run_dir = Path(run_dir)
    status = read_json(run_dir / "status.json", {}) or {}
    config = read_json(run_dir / "config.json", {}) or {}
    metrics = read_json(run_dir / "metrics.json", {}) or {}
    task = config.get("task")
    final = metrics.get("test") or metrics.get("validation") or {}
    metric_name, metric = headline(final, task or "text-classification") if final else (None, None)
    return RunInfo(
        id=run_dir.name,
        path=run_dir,
        name=status.get("name", run_dir.name),
        status=effective_status(run_dir, status),
        task=task,
        model=config.get("model"),
        created=status.get("created"),
        finished=status.get("finished"),
        metric_name=metric_name,
        metric=metric,
        error=status.get("error"),
        device=status.get("device"),
    )


def list_runs(runs_dir: Path = DEFAULT_RUNS_DIR) -> list[RunInfo]:
    """Every run under `runs_dir`, newest first."""
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        return []
    folders = [p for p in runs_dir.iterdir() if p.is_dir() and (p / "status.json").exists()]
    return sorted((run_info(p) for p in folders), key=lambda r: r.created or 0, reverse=True)


def load_run(run_dir: Path) -> Run:
    """Reload a run folder; raises FileNotFoundError with a plain message if it is not one."""
    run_dir = Path(run_dir)
    if not (run_dir / "status.json").exists():
        raise FileNotFoundError(f"{run_dir} is not a run folder (it has no status.json).")
    return Run(
        path=run_dir,
        info=run_info(run_dir),
        config=read_json(run_dir / "config.json", {}) or {},
        labels=read_json(run_dir / "labels.json", []) or [],
        report=read_json(run_dir / "report.json", {}) or {},
        metrics=read_json(run_dir / "metrics.json", {}) or {},
        history=read_json(run_dir / "history.json", []) or [],
    )


def find_run(ref: str | Path, runs_dir: Path = DEFAULT_RUNS_DIR) -> Path:
    """A run given as a folder path or as a run id/name under `runs_dir`."""
    path = Path(ref)
    if (path / "status.json").exists():
        return path
    candidate = Path(runs_dir) / str(ref)
    if (candidate / "status.json").exists():
        return candidate
    matches = [r.path for r in list_runs(runs_dir) if r.name == str(ref)]
    if matches:
        return matches[0]
    raise FileNotFoundError(f"No run called {ref}. Give a run folder or an id from `python -m trainer runs`.")
