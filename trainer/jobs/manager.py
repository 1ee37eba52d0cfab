"""Jobs that outlive the web server: each runs in its own process, supervised through the run folder.

`JobManager` (one per process: the app, `python -m trainer fit`) writes a submitted fine-tune to its
run folder as *queued*, and a scheduler thread starts queued runs in order, one at a time per runs
folder: the device lock is a `flock` on `<runs>/.locks/device.lock` that the job's process holds for
its whole life, so two app processes on the same runs folder never train at once, and a killed job
never leaves it locked. Jobs start in a new session (`start_new_session`): stopping the app does not
stop them, and the next app on the same runs folder shows them running, with live progress.

Everything a page or the CLI shows is read from the run folder (`JobSnapshot`); a cancel is a file the
job checks at every optimisation step. Background computations of a finished run (the embedding map,
the dataset-wide word ranking) run as processes too (`start_computation`), without the queue.
(Small in-process computations shared by every browser tab: trainer.jobs.threads.)
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainer import i18n, runs
from trainer.config import TrainConfig
from trainer.files import locks
from trainer.i18n import tr
from trainer.jobs.worker import ended_unexpectedly, last_line
from trainer.runs import RunFolder
from trainer.runs.folder import private_files
from trainer.runs.records import Phase, computation_name

log = logging.getLogger(__name__)
HISTORY_LIMIT = 5000
WORKER = (sys.executable, "-m", "trainer.jobs.worker")


@dataclass(frozen=True)
class JobSnapshot:
    """A consistent, read-only view of one fine-tuning job at one moment (read from its run folder)."""

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
    queue_position: int = 0  # queued: 1 for the next to start
    waiting_for: str | None = None  # queued: the name of the job running now
    waiting_for_dir: Path | None = None  # queued: that job's run folder (whose it is decides what is shown)
    resumable: bool = False  # cancelled or interrupted with a saved epoch to continue from

    @property
    def progress(self) -> float:
        """0..1 share of optimisation steps done."""
        if self.status == runs.FINISHED:
            return 1.0
        return min(1.0, self.step / self.max_steps) if self.max_steps else 0.0

    @property
    def active(self) -> bool:
        return self.status in runs.ACTIVE


@dataclass(frozen=True)
class ComputationSnapshot:
    """A background computation of a run: status, progress and error, read from its state file."""

    name: str
    status: str
    done: int = 0
    total: int = 0
    error: str | None = None
    eta_seconds: float | None = None
    phase: Phase | None = None  # what it does now, when it says (done/total then count this phase)

    @property
    def progress(self) -> float:
        return self.done / self.total if self.total else 0.0

    @property
    def running(self) -> bool:
        return self.status in runs.ACTIVE


def snapshot_of(run_dir: Path, queue: list[Path] | None = None, running: Any = None) -> JobSnapshot:
    """A JobSnapshot of one run folder."""
    folder = RunFolder(run_dir)
    status = folder.read_status()
    config = runs.read_json(folder.config_file, {}) or {}
    state = runs.effective_status(folder.path, status)
    progress = folder.progress() if state != runs.QUEUED else {}
    history = tuple(e for e in folder.history() if e.get("kind") in ("log", "eval"))[-HISTORY_LIMIT:]
    losses = [e for e in history if e.get("loss") is not None]
    end = (
        next((e for e in reversed(folder.history()) if e.get("kind") == "end"), None)
        if state == runs.FINISHED
        else None
    )
    position = queue.index(folder.path) + 1 if queue and folder.path in queue else 0
    return JobSnapshot(
        id=folder.path.name,
        name=status.name or folder.path.name,
        run_dir=folder.path,
        status=state,
        task=config.get("task", "text-classification"),
        model=config.get("model", ""),
        created=status.created or 0.0,
        started=status.started,
        finished=status.finished,
        step=int(progress.get("step", 0)),
        max_steps=int(progress.get("max_steps", 0)),
        epoch=float(progress.get("epoch", 0.0)),
        loss=losses[-1]["loss"] if losses else None,
        learning_rate=progress.get("learning_rate"),
        samples_per_second=progress.get("samples_per_second"),
        eta_seconds=progress.get("eta_seconds"),
        device=(runs.read_json(folder.resolved_file, {}) or {}).get("device") or status.device,
        error=status.error,
        history=history,
        metrics=dict(end.get("metrics") or {}) if end else {},
        queue_position=position,
        waiting_for=running.name if position and running else None,
        waiting_for_dir=running.path if position and running else None,
        resumable=_resumable(state, status) and folder.latest_checkpoint() is not None,
    )


def _resumable(state: str, status: runs.RunStatus) -> bool:
    """Cancelled and interrupted runs continue from their last saved epoch, and so does one that failed
    only because the disk filled (its status says so: `resumable`)."""
    return state in (runs.CANCELLED, runs.INTERRUPTED) or (state == runs.FAILED and bool(status.resumable))


class JobManager:
    """Submits fine-tunes to the runs folder and starts them, in order, each in its own process."""

    def __init__(
        self,
        runs_dir: Path = runs.DEFAULT_RUNS_DIR,
        worker: Sequence[str] = WORKER,
        poll: float = 0.5,
        schedule: bool = True,
    ):
        """`schedule=False`: only read and cancel (the `cancel` command), never start a job."""
        self.runs_dir = Path(runs_dir)
        self.worker = list(worker)
        self.poll = poll
        self._children: dict[str, subprocess.Popen] = {}
        self._lock = threading.Lock()
        self._reaping = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if not schedule:
            self._stop.set()
        self._start_scheduler()

    @property
    def device_lock(self) -> Path:
        return locks.device_lock_file(self.runs_dir)

    # ------------------------------------------------------------ fine-tuning jobs

    def submit(
        self, config: TrainConfig, data: Any, name: str | None = None, owner: str | None = None
    ) -> str:
        """Create the run folder (status queued, with the data it uses) and let the scheduler start it.
        `owner`: the person it belongs to (trainer.access; default the local owner)."""
        from trainer.access.owners import set_owner
        from trainer.access.people import local_owner

        with private_files():  # the run's files are the service's user's only (0600, folders 0700)
            run_dir = runs.create_run(self.runs_dir, name or Path(str(config.model)).name or "run")
            set_owner(run_dir, owner or local_owner())
            folder = RunFolder(run_dir)
            folder.write_inputs(config.to_dict(), data)
            folder.write_status(runs.QUEUED, queued_at=time.time())
        self._start_scheduler()
        self._wake.set()
        return run_dir.name

    def resume(self, job_id: str) -> None:
        """Queue a cancelled or interrupted run again; it continues from its last saved epoch."""
        folder = RunFolder(self.runs_dir / job_id)
        snap = self.snapshot(job_id)
        if snap is None or not snap.resumable:
            raise ValueError(
                tr(
                    "{job} cannot be resumed: only a cancelled or interrupted run with a saved epoch can.",
                    job=job_id,
                )
            )
        folder.clear_cancel()
        folder.write_status(runs.QUEUED, queued_at=time.time(), resume=True, error=None, finished=None)
        self._start_scheduler()
        self._wake.set()

    def cancel(self, job_id: str) -> bool:
        """Ask a job to stop: a queued one never starts, a running one stops within one step."""
        folder = RunFolder(self.runs_dir / job_id)
        snap = self.snapshot(job_id)
        if snap is None or not snap.active:
            return False
        folder.request_cancel()
        if snap.status == runs.QUEUED:
            with locks.locked(locks.schedule_lock_file(self.runs_dir)):
                if runs.effective_status(folder.path, folder.read_status()) == runs.QUEUED:
                    folder.write_status(runs.CANCELLED, finished=time.time())
        return True

    def snapshot(self, job_id: str) -> JobSnapshot | None:
        """The job's current state, or None when there is no such run folder."""
        path = self.runs_dir / job_id
        if not RunFolder(path).status_file.exists():
            return None
        queue = self.queue()
        running = (
            next((i for i in runs.list_runs(self.runs_dir) if i.status == runs.RUNNING), None)
            if queue
            else None
        )
        return snapshot_of(path, queue, running)

    def queue(self) -> list[Path]:
        """Queued runs in the order they will start."""
        waiting = []
        for info in runs.list_runs(self.runs_dir):
            if info.status == runs.QUEUED:
                status = RunFolder(info.path).read_status()
                waiting.append((status.queued_at or 0.0, info.path))
        return [path for _, path in sorted(waiting)]

    def jobs(self) -> list[JobSnapshot]:
        """Every fine-tuning job of the runs folder, newest first (whichever process started it)."""
        infos = runs.list_runs(self.runs_dir)
        queue = self.queue()
        running = next((i for i in infos if i.status == runs.RUNNING), None)
        return [snapshot_of(info.path, queue, running) for info in infos]

    def active(self) -> list[JobSnapshot]:
        """Queued and running jobs."""
        return [s for s in self.jobs() if s.active]

    def wait(self, job_id: str, timeout: float | None = None) -> JobSnapshot | None:
        """Block until the job ends (or timeout); returns its snapshot."""
        deadline = None if timeout is None else time.time() + timeout
        while True:
            snap = self.snapshot(job_id)
            if snap is not None and not snap.active:
                self._settle(job_id)
                self._reap()  # a process of ours that ended without its last status: say how it ended
                snap = self.snapshot(job_id)
            if snap is None or not snap.active or (deadline is not None and time.time() >= deadline):
                return snap
            time.sleep(0.1)

    def _settle(self, key: str, timeout: float = 10.0) -> None:
        """Let a child of ours that looks gone finish ending. A worker's main thread can already read as
        a zombie while its other threads still exit, and until they have, the kernel cannot hand over
        its exit code: reaping then would find it still running and the run would read 'interrupted'."""
        with self._lock:
            child = self._children.get(key)
        if child is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout)

    def shutdown(self, timeout: float = 30.0, cancel: bool = False) -> None:
        """Stop scheduling (jobs keep running: they outlive this process). `cancel`: stop this process's jobs too."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if cancel:
            with self._lock:
                children = dict(self._children)
            for key in children:
                run_name, _, task = key.partition("|")
                if task:
                    self.stop_computation(self.runs_dir / run_name, task)
                else:
                    RunFolder(self.runs_dir / run_name).request_cancel()
            for child in children.values():
                try:
                    child.wait(timeout)
                except subprocess.TimeoutExpired:
                    os.killpg(child.pid, 9)

    # ------------------------------------------------------------ background computations of a run

    def start_computation(self, run_dir: Path, kind: str, **params: Any) -> str:
        """Start a background computation of a finished run (unless it runs or succeeded); returns its name."""
        folder = RunFolder(run_dir)
        name = computation_name(kind, params)
        current = self.computation(run_dir, name)
        if current is not None and (current.running or current.status == runs.FINISHED):
            return name
        folder.computation_stop_file(name).unlink(missing_ok=True)
        folder.write_computation(name, kind=kind, params=params, status=runs.QUEUED, **locks.stamp(),
                          done=0, total=0, error=None)  # fmt: skip
        args = [str(folder.path), "--computation", kind, "--params", json.dumps(params)]
        self._spawn(f"{folder.path.name}|{name}", folder, args)
        return name

    def computation(self, run_dir: Path, name: str) -> ComputationSnapshot | None:
        """A background computation's state, or None if it never started."""
        state = RunFolder(run_dir).read_computation(name)
        if state is None:
            return None
        status = state.status
        if state.active and not locks.alive(state.pid, state.pid_started, state.host):
            status = runs.INTERRUPTED
        active = status in runs.ACTIVE
        return ComputationSnapshot(name, status, int(state.done), int(state.total), state.error,
                                   state.eta_seconds if active else None,
                                   Phase.from_dict(state.phase) if active else None)  # fmt: skip

    def stop_computation(self, run_dir: Path, name: str) -> None:
        with private_files():
            RunFolder(run_dir).computation_stop_file(name).write_text("stop", encoding="utf-8")

    def forget_computation(self, run_dir: Path, name: str) -> None:
        """Drop a finished or failed computation's state, so it can be started again."""
        RunFolder(run_dir).computation_file(name).unlink(missing_ok=True)

    # ------------------------------------------------------------ the scheduler

    def _start_scheduler(self) -> None:
        with self._lock:
            if self._stop.is_set() or (self._thread is not None and self._thread.is_alive()):
                return
            self._thread = threading.Thread(target=self._loop, name="insight-jobs", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._reap()
                self.schedule()
            except Exception:  # noqa: BLE001 - the scheduler must never die
                log.exception("scheduling failed")
            self._wake.wait(self.poll)
            self._wake.clear()

    def schedule(self) -> str | None:
        """Start the next queued run if the device is free; returns its id."""
        if not self.runs_dir.is_dir():
            return None
        with locks.locked(locks.schedule_lock_file(self.runs_dir)):
            queue = self.queue()
            if not queue:
                return None
            fd = locks.try_lock(self.device_lock)
            if fd is None:
                return None  # a job holds the device: the next one waits its turn
            try:
                folder = RunFolder(queue[0])
                # the launcher answers for the run until the worker writes its own pid
                runs.mark_live(folder.path, True)
                folder.write_status(runs.RUNNING, started=time.time(), launched=time.time())
                self._spawn(folder.path.name, folder, [str(folder.path)], pass_fds=(fd,))
            finally:
                os.close(fd)  # the worker keeps the lock: its copy of the descriptor lives as long as it does
        return folder.path.name

    def _spawn(self, key: str, folder: RunFolder, args: list[str], pass_fds: tuple = ()) -> None:
        with private_files(), open(folder.worker_log, "ab") as out:
            child = subprocess.Popen(
                [*self.worker, *args],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                pass_fds=pass_fds,
                env={
                    **os.environ,
                    "INSIGHT_LANG": i18n.language(),
                },  # its sentences in its starter's language
                close_fds=True,
            )
        with self._lock:
            self._children[key] = child

    def _reap(self) -> None:
        """Collect finished children; a worker that died before saying anything failed. One reaper at a
        time (the scheduler and `wait`), so a waiter never reads a status another is still writing."""
        with self._reaping:
            self._reap_children()

    def _reap_children(self) -> None:
        with self._lock:
            done = {key: child for key, child in self._children.items() if child.poll() is not None}
            for key in done:
                del self._children[key]
        for key, child in done.items():
            run_name, _, task = key.partition("|")
            folder = RunFolder(self.runs_dir / run_name)
            runs.mark_live(folder.path, False)
            if task:
                state = folder.read_computation(task)
                if state is not None and state.active and state.pid == os.getpid():
                    folder.write_computation(
                        task, status=runs.FAILED, error=_last_words(folder, child.returncode)
                    )
                continue
            status = folder.read_status()
            if status.active and status.pid == os.getpid():
                folder.write_status(
                    runs.FAILED, finished=time.time(), error=_last_words(folder, child.returncode)
                )
            elif status.active and status.pid == child.pid and status.host in (None, locks.this_host()):
                ended_unexpectedly(folder, child.returncode)
            elif status.status == runs.FINISHED and folder.has_model and not self.queue():
                # the device is idle: read the training split once now, for the map and the label issues
                self.start_computation(folder.path, "vectors")


def _last_words(folder: RunFolder, code: int | None) -> str:
    """Why a worker ended before it could report: the last line of its log."""
    detail = last_line(folder) or tr("exit code {code}", code=code)
    return tr("The job's process ended before it started working ({detail}).", detail=detail)
