"""The run folder and its one owner, `RunFolder`: it names every path under a run and reads and writes
its files (JSON atomically: temp file + rename, so a crash never leaves half a file).

A run folder is self-describing (see README, "Run folder"); nothing about a run lives elsewhere, so
runs survive restarts and can be copied between machines. Other modules never build a path under a
run themselves: they ask `RunFolder`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from trainer import procs
from trainer.tasks import Task, get_task

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
SPLITS = ("train", "validation", "test")

# Runs this process is executing right now (registered by JobManager). A run marked running by
# this very process but not registered here was left behind by an earlier manager: interrupted.
_live: set[str] = set()
_live_lock = threading.Lock()


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


class RunFolder:
    """One run folder: every path under it, and reading and writing each of its files.

    Files: status.json, config.json (the TrainConfig as asked), resolved.json (what fine-tuning chose:
    max length, epochs, device), labels.json, report.json, data/<split>.jsonl, history.json,
    progress.json (the latest step), cancel (a cancel request), metrics.json, predictions.csv,
    error.log, worker.log, model/, checkpoints/, embeddings/, projections/, attributions/, tasks/
    (background computations of this run: their progress and errors).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    # ------------------------------------------------------------ paths

    status_file = property(lambda self: self.path / "status.json")
    config_file = property(lambda self: self.path / "config.json")
    resolved_file = property(lambda self: self.path / "resolved.json")
    labels_file = property(lambda self: self.path / "labels.json")
    report_file = property(lambda self: self.path / "report.json")
    history_file = property(lambda self: self.path / "history.json")
    metrics_file = property(lambda self: self.path / "metrics.json")
    predictions_file = property(lambda self: self.path / "predictions.csv")
    error_log = property(lambda self: self.path / "error.log")
    worker_log = property(lambda self: self.path / "worker.log")
    progress_file = property(lambda self: self.path / "progress.json")
    cancel_file = property(lambda self: self.path / "cancel")
    tasks_dir = property(lambda self: self.path / "tasks")
    model_dir = property(lambda self: self.path / "model")
    checkpoints_dir = property(lambda self: self.path / "checkpoints")
    embeddings_dir = property(lambda self: self.path / "embeddings")
    projections_dir = property(lambda self: self.path / "projections")
    top_words_file = property(lambda self: self.path / "attributions" / "top_words.csv")

    def task_file(self, name: str) -> Path:
        """The state of background computation `name` of this run (see trainer.jobs.Tasks)."""
        return self.tasks_dir / f"{name}.json"

    def split_file(self, name: str) -> Path:
        return self.path / "data" / f"{name}.jsonl"

    def embedding_files(self, subset: str) -> dict[str, Path]:
        """The embedding map of `subset` ("test", "all"): vectors after and before, the examples."""
        base = self.embeddings_dir
        return {
            "after": base / f"{subset}-finetuned.npy",
            "before": base / f"{subset}-backbone.npy",
            "before_error": base / f"{subset}-backbone-error.txt",
            "frame": base / f"{subset}-examples.csv",
        }

    @property
    def has_model(self) -> bool:
        return (self.model_dir / "config.json").exists()

    # ------------------------------------------------------------ status

    def read_status(self) -> dict:
        return read_json(self.status_file, {}) or {}

    def write_status(self, status: str, **fields: Any) -> dict:
        """Update status.json, keeping earlier fields; records the process running it (default: this one)."""
        data = self.read_status()
        data.update(fields)
        pid = fields.get("pid", os.getpid())
        data.update(status=status, pid=pid, pid_started=procs.start_time(pid), updated=time.time())
        write_json(self.status_file, data)
        return data

    # ------------------------------------------------------------ the job's channel

    def request_cancel(self) -> None:
        """Ask the job to stop: it checks for this file at every optimisation step."""
        self.cancel_file.write_text(str(time.time()), encoding="utf-8")

    def cancel_requested(self) -> bool:
        return self.cancel_file.exists()

    def clear_cancel(self) -> None:
        self.cancel_file.unlink(missing_ok=True)

    def progress(self) -> dict:
        """The latest step event (step, max_steps, epoch, speed, ETA)."""
        return read_json(self.progress_file, {}) or {}

    def write_progress(self, event: dict) -> None:
        write_json(self.progress_file, event)

    def read_task(self, name: str) -> dict:
        return read_json(self.task_file(name), {}) or {}

    def write_task(self, name: str, **fields: Any) -> dict:
        """Update a background computation's state file, keeping earlier fields."""
        self.tasks_dir.mkdir(exist_ok=True)
        data = {**self.read_task(name), **fields, "updated": time.time()}
        write_json(self.task_file(name), data)
        return data

    def latest_checkpoint(self) -> Path | None:
        """The newest complete checkpoint (saved at the end of an epoch), to resume from."""
        found = [p for p in self.checkpoints_dir.glob("checkpoint-*") if (p / "trainer_state.json").exists()]
        return max(found, key=lambda p: int(p.name.rsplit("-", 1)[1]), default=None)

    def load_data(self) -> Any:
        """The PreparedData saved at submit time (config, labels, report and the exact splits)."""
        from trainer.data import PreparedData, Split, ValidationReport

        config = read_json(self.config_file, {}) or {}
        report_fields = {k: v for k, v in self.report().items() if k in ValidationReport.__dataclass_fields__}
        splits = {}
        for name in SPLITS:
            frame = self.split(name)
            if frame is None or frame.empty:
                splits[name] = Split(
                    [], [], [] if "tokens" in (frame.columns if frame is not None else []) else None
                )
            elif "tokens" in frame.columns:
                tokens = [str(t).split() for t in frame["tokens"]]
                splits[name] = Split(
                    [" ".join(t) for t in tokens], [str(t).split() for t in frame["tags"]], tokens
                )
            else:
                splits[name] = Split(frame["text"].astype(str).tolist(), frame["label"].astype(str).tolist())
        return PreparedData(
            task=get_task(config.get("task")).name,
            labels=self.labels(),
            report=ValidationReport(**report_fields),
            text_column=config.get("text_column"),
            label_column=config.get("label_column"),
            **splits,
        )

    # ------------------------------------------------------------ inputs (written when a job is submitted)

    def write_inputs(self, config: dict, data: Any) -> None:
        """config.json, labels.json, report.json and the exact splits, before training starts."""
        write_json(self.config_file, {**config, "task": data.task})
        write_json(self.labels_file, list(data.labels))
        report = data.report.to_dict() if hasattr(data.report, "to_dict") else {}
        write_json(self.report_file, report)
        (self.path / "data").mkdir(exist_ok=True)
        for name in SPLITS:
            frame = getattr(data, name).to_frame()
            frame.to_json(self.split_file(name), orient="records", lines=True, force_ascii=False)

    def config(self) -> dict:
        """The config as asked, with what fine-tuning resolved (`resolved_max_length`, ...) merged in."""
        config = read_json(self.config_file, {}) or {}
        resolved = read_json(self.resolved_file, {}) or {}
        return {**config, **{f"resolved_{k}" if k != "device" else k: v for k, v in resolved.items()}}

    def write_resolved(self, **values: Any) -> None:
        """What fine-tuning chose: max_length, epochs, device."""
        write_json(self.resolved_file, values)

    def labels(self) -> list[str]:
        return read_json(self.labels_file, []) or []

    def report(self) -> dict:
        return read_json(self.report_file, {}) or {}

    def split(self, name: str) -> pd.DataFrame | None:
        """A data split ('train', 'validation', 'test') as saved at submit time."""
        path = self.split_file(name)
        return pd.read_json(path, lines=True, dtype=False) if path.exists() else None

    # ------------------------------------------------------------ outputs

    def history(self) -> list[dict]:
        return read_json(self.history_file, []) or []

    def write_history(self, events: list[dict]) -> None:
        write_json(self.history_file, events)

    def metrics(self) -> dict:
        return read_json(self.metrics_file, {}) or {}

    def write_metrics(self, metrics: dict) -> None:
        write_json(self.metrics_file, metrics)

    def predictions(self) -> pd.DataFrame | None:
        """The test-split predictions table, if written."""
        path = self.predictions_file
        return pd.read_csv(path, keep_default_na=False) if path.exists() else None

    def write_predictions(self, frame: pd.DataFrame) -> None:
        tmp = self.predictions_file.with_name(".predictions.csv.tmp")
        frame.to_csv(tmp, index=False)
        os.replace(tmp, self.predictions_file)

    def write_error_log(self, text: str) -> None:
        self.error_log.write_text(text, encoding="utf-8")

    def save_model(self, model: Any, tokenizer: Any) -> None:
        """save_pretrained into model/ (loadable by transformers.pipeline), whole or not at all.

        The model is written to a temporary folder and renamed into place, so a full disk or a crash
        while saving never leaves a half-written model/ that looks good.
        """
        tmp = self.path / f".model-{os.getpid()}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            model.save_pretrained(tmp, safe_serialization=True)
            tokenizer.save_pretrained(tmp)
            shutil.rmtree(self.model_dir, ignore_errors=True)
            os.replace(tmp, self.model_dir)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def top_words(self) -> pd.DataFrame | None:
        path = self.top_words_file
        return pd.read_csv(path, keep_default_na=False) if path.exists() else None

    def write_top_words(self, frame: pd.DataFrame) -> None:
        self.top_words_file.parent.mkdir(exist_ok=True)
        frame.to_csv(self.top_words_file, index=False)

    def forget_top_words(self) -> None:
        self.top_words_file.unlink(missing_ok=True)


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
    runs_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{slugify(name)}"
    for i in range(1000):
        path = runs_dir / (stem if i == 0 else f"{stem}-{i + 1}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        RunFolder(path).write_status(QUEUED, name=name, created=time.time())
        return path
    raise RuntimeError(f"could not create a run folder in {runs_dir}")


def write_status(run_dir: Path, status: str, **fields: Any) -> dict:
    """Update status.json of `run_dir` (see `RunFolder.write_status`)."""
    return RunFolder(run_dir).write_status(status, **fields)


def effective_status(run_dir: Path, status: dict) -> str:
    """The stored status, or 'interrupted' when the process that was running it is gone.

    A submitted job waiting its turn (queued, with `queued_at`) stays queued on disk whoever queued
    it: the next job manager to look at the runs folder starts it.
    """
    state = status.get("status", INTERRUPTED)
    if state not in ACTIVE or (state == QUEUED and status.get("queued_at")):
        return state
    pid = status.get("pid")
    if pid == os.getpid():
        return state if _is_live(run_dir) else INTERRUPTED
    return state if procs.alive(pid, status.get("pid_started")) else INTERRUPTED


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
    folder = RunFolder(run_dir)
    status = folder.read_status()
    config = read_json(folder.config_file, {}) or {}
    metrics = folder.metrics()
    task = config.get("task")
    final = metrics.get("test") or metrics.get("validation") or {}
    metric_name, metric = get_task(task).headline(final) if final else (None, None)
    return RunInfo(
        id=folder.path.name,
        path=folder.path,
        name=status.get("name", folder.path.name),
        status=effective_status(folder.path, status),
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
    folder = RunFolder(run_dir)
    if not folder.status_file.exists():
        raise FileNotFoundError(f"{folder.path} is not a run folder (it has no status.json).")
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


def find_run(ref: str | Path, runs_dir: Path = DEFAULT_RUNS_DIR) -> Path:
    """A run given as a folder path, a run id or a run name, always inside `runs_dir`.

    A path or name that would lead outside the runs folder (`..`, an absolute path elsewhere, a link)
    is refused: a typed name can never make Insight read or write elsewhere.
    """
    runs_dir = Path(runs_dir)
    for candidate in (Path(ref), runs_dir / str(ref)):
        if (candidate / "status.json").exists():
            if not inside(candidate, runs_dir) or Path(candidate).resolve() == runs_dir.resolve():
                raise FileNotFoundError(
                    f"{ref} is not inside the runs folder {runs_dir}. Give a run id from `python -m trainer "
                    "runs`, or point --runs-dir at the folder that holds it."
                )
            return candidate
    matches = [r.path for r in list_runs(runs_dir) if r.name == str(ref)]
    if matches:
        return matches[0]
    raise FileNotFoundError(f"No run called {ref}. Give a run folder or an id from `python -m trainer runs`.")
