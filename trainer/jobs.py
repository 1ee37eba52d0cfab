"""Background work: a JobManager that fine-tunes one run at a time, and small keyed tasks.

Worker threads never touch Streamlit. They write into lock-guarded job objects; readers (pages,
the CLI, tests) take immutable snapshots.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from trainer import runs
from trainer.config import TrainConfig
from trainer.errors import friendly_error

log = logging.getLogger(__name__)
FitFn = Callable[..., Any]
HISTORY_LIMIT = 5000


@dataclass(frozen=True)
class JobSnapshot:
    """A consistent, read-only view of one job at one moment."""

    id: str
    name: str
    run_dir: Path
    status: str
    task: str
    model: str
    created: float
    started: float | None = None
    finished: float | None = None
    step: int = 0
    max_steps: int = 0
    epoch: float = 0.0
    loss: float | None = None
    learning_rate: float | None = None
    samples_per_second: float | None = None
    eta_seconds: float | None = None
    device: str | None = None
    error: str | None = None
    history: tuple[dict, ...] = ()  # log and eval events, oldest first
    metrics: dict = field(default_factory=dict)  # headline scores once finished

    @property
    def progress(self) -> float:
        """0..1 share of optimisation steps done."""
        if self.status == runs.FINISHED:
            return 1.0
        return min(1.0, self.step / self.max_steps) if self.max_steps else 0.0

    @property
    def active(self) -> bool:
        return self.status in runs.ACTIVE


class _Job:
    def __init__(self, snapshot: JobSnapshot, config: TrainConfig, data: Any):
        self.lock = threading.Lock()
        self.state = snapshot
        self.config, self.data = config, data
        self.cancel_requested = threading.Event()
        self.done = threading.Event()

    def update(self, **fields: Any) -> None:
        with self.lock:
            self.state = replace(self.state, **fields)

    def record(self, event: Any) -> None:
        """Called from the training thread for every progress event."""
        fields: dict[str, Any] = {
            "step": event.step,
            "max_steps": event.max_steps or self.state.max_steps,
            "epoch": event.epoch,
        }
        if event.samples_per_second is not None:
            fields.update(samples_per_second=event.samples_per_second, eta_seconds=event.eta_seconds)
        if event.learning_rate is not None:
            fields["learning_rate"] = event.learning_rate
        if event.loss is not None:
            fields["loss"] = event.loss
        with self.lock:
            if event.kind in ("log", "eval"):
                fields["history"] = (self.state.history + (event.to_dict(),))[-HISTORY_LIMIT:]
            if event.kind == "end":
                fields["metrics"] = dict(event.metrics)
            self.state = replace(self.state, **fields)


class JobManager:
    """Runs fine-tuning jobs in one background thread; later jobs queue behind the running one."""

    def __init__(self, runs_dir: Path = runs.DEFAULT_RUNS_DIR, fit_fn: FitFn | None = None):
        self.runs_dir = Path(runs_dir)
        self._fit_fn = fit_fn
        self._jobs: dict[str, _Job] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._worker: threading.Thread | None = None

    def submit(self, config: TrainConfig, data: Any, name: str | None = None) -> str:
        """Create the run folder (status queued), save the data it uses, and queue it."""
        run_dir = runs.create_run(self.runs_dir, name or Path(str(config.model)).name or "run")
        runs.RunFolder(run_dir).write_inputs(config.to_dict(), data)
        runs.mark_live(run_dir, True)
        job_id = run_dir.name
        snapshot = JobSnapshot(
            id=job_id,
            name=name or job_id,
            run_dir=run_dir,
            status=runs.QUEUED,
            task=data.task,
            model=config.model,
            created=time.time(),
        )
        with self._lock:
            self._jobs[job_id] = _Job(snapshot, config, data)
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="insight-jobs", daemon=True)
                self._worker.start()
        self._queue.put(job_id)
        return job_id

    def snapshot(self, job_id: str) -> JobSnapshot | None:
        """The job's current state, or None if this manager never ran it."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            return None
        with job.lock:
            return job.state

    def jobs(self) -> list[JobSnapshot]:
        """Every job of this manager, newest first."""
        with self._lock:
            jobs = list(self._jobs.values())
        snaps = []
        for job in jobs:
            with job.lock:
                snaps.append(job.state)
        return sorted(snaps, key=lambda s: s.created, reverse=True)

    def active(self) -> list[JobSnapshot]:
        """Queued and running jobs."""
        return [s for s in self.jobs() if s.active]

    def cancel(self, job_id: str) -> bool:
        """Ask a job to stop: a queued one never starts, a running one stops within one step."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.done.is_set():
            return False
        job.cancel_requested.set()
        return True

    def wait(self, job_id: str, timeout: float | None = None) -> JobSnapshot | None:
        """Block until the job ends (or timeout); returns its snapshot."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            return None
        job.done.wait(timeout)
        return self.snapshot(job_id)

    def shutdown(self, timeout: float = 30.0) -> None:
        """Cancel everything and stop the worker (for tests and process exit)."""
        for snap in self.active():
            self.cancel(snap.id)
        self._queue.put(None)
        if self._worker is not None:
            self._worker.join(timeout)

    def _work(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is None:
                return
            with self._lock:
                job = self._jobs[job_id]
            try:
                self._run(job)
            except BaseException:  # noqa: BLE001 - the worker thread must never die
                log.exception("job %s crashed", job_id)
            finally:
                runs.mark_live(job.state.run_dir, False)
                job.done.set()

    def _run(self, job: _Job) -> None:
        run_dir = job.state.run_dir
        if job.cancel_requested.is_set():
            self._end(job, runs.CANCELLED, None)
            return
        from trainer.models import pick_device

        try:
            device = pick_device(job.config.device).label
        except ValueError as exc:
            self._end(job, runs.FAILED, friendly_error(exc))
            return
        started = time.time()
        job.update(status=runs.RUNNING, started=started, device=device)
        runs.write_status(run_dir, runs.RUNNING, started=started, device=device)
        fit_fn = self._fit_fn
        if fit_fn is None:
            from trainer.fit import fit as fit_fn
        from trainer.fit import Cancelled

        try:
            fit_fn(
                job.config, job.data, run_dir, on_event=job.record, should_stop=job.cancel_requested.is_set
            )
        except Cancelled:
            self._end(job, runs.CANCELLED, None)
        except BaseException as exc:  # noqa: BLE001 - a failure is a status, never a dead thread
            runs.RunFolder(run_dir).write_error_log(traceback.format_exc())
            self._end(job, runs.FAILED, friendly_error(exc))
        else:
            status = (
                runs.CANCELLED
                if job.cancel_requested.is_set() and not runs.RunFolder(run_dir).has_model
                else runs.FINISHED
            )
            self._end(job, status, None)

    def _end(self, job: _Job, status: str, error: str | None) -> None:
        finished = time.time()
        job.update(status=status, finished=finished, error=error)
        runs.write_status(job.state.run_dir, status, finished=finished, error=error)


class Task:
    """A small background computation (batch attribution, a projection) with progress and cancel."""

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any):
        self._lock = threading.Lock()
        self.done_count, self.total = 0, 0
        self.result: Any = None
        self.error: str | None = None
        self.stop = threading.Event()
        self.finished = threading.Event()
        self.started = time.time()
        kwargs.setdefault("progress", self._progress)
        kwargs.setdefault("should_stop", self.stop.is_set)
        self._thread = threading.Thread(target=self._run, args=(fn, args, kwargs), daemon=True)
        self._thread.start()

    def _progress(self, done: int, total: int) -> None:
        with self._lock:
            self.done_count, self.total = done, total

    def _run(self, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
        try:
            self.result = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001
            log.exception("background task failed")
            self.error = friendly_error(exc, "computing in the background")
        finally:
            self.finished.set()

    @property
    def progress(self) -> float:
        with self._lock:
            return self.done_count / self.total if self.total else 0.0

    @property
    def running(self) -> bool:
        return not self.finished.is_set()


class TaskRegistry:
    """Process-wide tasks by key, so every browser tab shares one computation per question."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tasks: dict[str, Task] = {}

    def get(self, key: str) -> Task | None:
        with self._lock:
            return self._tasks.get(key)

    def start(self, key: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Task:
        """Start `fn` under `key` unless a task with that key is running or has succeeded."""
        with self._lock:
            task = self._tasks.get(key)
            if task is None or (task.finished.is_set() and task.error):
                task = self._tasks[key] = Task(fn, *args, **kwargs)
            return task

    def drop(self, key: str) -> None:
        with self._lock:
            task = self._tasks.pop(key, None)
        if task is not None:
            task.stop.set()
