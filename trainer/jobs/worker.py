"""A job in its own process: `python -m trainer.jobs.worker RUN_DIR [--computation KIND --params JSON]`.

Started by `trainer.jobs.manager.JobManager` in a new session (Ctrl-C on the app or a dying server does not
reach it). The run folder is the only channel: the worker reads the config and the splits saved at
submit time, writes status, progress and results there, and stops within one optimisation step once
`<run>/cancel` appears. Without `--computation` it fine-tunes (resuming from the last saved epoch when the
status says so); with more than one device it re-launches itself through torchrun (DDP); with a Ray cluster
set (INSIGHT_RAY_ADDRESS) it runs the fine-tune as a Ray Train job there (trainer.jobs.cluster_train).

Background computations of a finished run (`--computation embed` for the embedding map, `--computation rank` for the
dataset-wide word ranking) report their progress in `<run>/computations/<name>.json`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from trainer import i18n, runs
from trainer.errors import friendly_error
from trainer.files import locks
from trainer.i18n import tr
from trainer.jobs.events import ProgressWriter, quiet
from trainer.runs import RunFolder
from trainer.runs.folder import PRIVATE_UMASK
from trainer.runs.records import Phase, computation_name
from trainer.runs.space import disk_full

FitFn = Callable[..., Any]


def devices_wanted(config: Any) -> int:
    """How many processes fine-tuning should use: the configured devices, else every CUDA device."""
    if os.environ.get("WORLD_SIZE"):
        return 1  # already launched by torchrun
    if config.devices:
        return config.devices
    import torch

    return torch.cuda.device_count() if config.device in ("auto", "cuda") else 1


def relaunch_distributed(folder: RunFolder, n: int) -> None:
    """Replace this process by torchrun running n copies of this worker (same pid, lock kept)."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={n}"]
    command += ["-m", "trainer.jobs.worker", str(folder.path)]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, command)


def run_fit(folder: RunFolder, fit_fn: FitFn | None = None) -> int:
    """Fine-tune the run described by its folder; every outcome becomes a status, never a traceback."""
    from trainer.config import TrainConfig
    from trainer.runs import cluster
    from trainer.train.progress import Cancelled

    main = int(os.environ.get("RANK", "0")) == 0
    status = folder.read_status()
    config = TrainConfig.from_dict(folder.asked_config())
    where = cluster.address() if fit_fn is None else None
    if where:
        from trainer.jobs.cluster_train import fitter

        fit_fn = fitter(where, folder)
    elif fit_fn is None and devices_wanted(config) > 1:
        relaunch_distributed(folder, devices_wanted(config))
    if main:
        folder.write_status(runs.RUNNING, started=time.time(), finished=None, error=None)
    if folder.cancel_requested():
        if main:
            folder.write_status(runs.CANCELLED, finished=time.time())
        return 0
    if fit_fn is None:
        from trainer.train.fit import fit as fit_fn
    if main:
        folder.reserve_space()  # room for the last status, should the disk fill
    try:
        data = folder.load_data()
        fit_fn(
            config,
            data,
            folder.path,
            on_event=ProgressWriter(folder) if main else None,
            should_stop=folder.cancel_requested,
            resume=bool(status.resume),
        )
    except Cancelled:
        if main:
            folder.release_space()
            folder.write_status(
                runs.CANCELLED, finished=time.time(), resumable=folder.latest_checkpoint() is not None
            )
        return 0
    except BaseException as exc:  # noqa: BLE001 - a failure is a status with a plain message
        if main:
            record_failure(folder, exc)
        return 1
    if main:
        folder.release_space()
        from trainer.train.tracking import log_run

        log_run(folder)  # MLflow, when MLFLOW_TRACKING_URI is set; never fails the run
        folder.write_status(runs.FINISHED, finished=time.time(), resume=False)
    return 0


def record_failure(folder: RunFolder, exc: BaseException) -> None:
    """A failed fine-tune's status: a plain sentence, and for a full disk what to do (the half-saved epoch
    is deleted first, and the space kept for this status released, so it can be written)."""
    full = disk_full(exc, folder.path)
    folder.release_space()
    if full:
        folder.remove_partial_checkpoints()
    with contextlib.suppress(OSError):  # a full disk: the status below matters more than the traceback
        folder.write_error_log("".join(traceback.format_exception(exc)))
    resumable = folder.latest_checkpoint() is not None
    error = disk_full_advice(folder, resumable) if full else friendly_error(exc)
    folder.write_status(runs.FAILED, finished=time.time(), error=error, resumable=full and resumable)


def disk_full_advice(folder: RunFolder, resumable: bool) -> str:
    """What to do when the disk filled during fine-tuning."""
    if resumable:
        return tr(
            "The disk is full, so training stopped and the epoch being saved was deleted. Free space under "
            "{folder}, then resume the run: it continues from its last saved epoch.",
            folder=folder.path.parent,
        )
    return tr(
        "The disk is full, so training stopped and the epoch being saved was deleted. Free space under "
        "{folder}, then start the run again.",
        folder=folder.path.parent,
    )


# ---------------------------------------------------------------- how a job ended, as its parent saw it


def last_line(folder: RunFolder) -> str | None:
    """The last line of a job's log (read from its end: a log may be long), or None when it is empty."""
    try:
        with open(folder.worker_log, "rb") as log:
            log.seek(0, os.SEEK_END)
            log.seek(max(0, log.tell() - 8192))
            tail = log.read().decode("utf-8", errors="replace")
    except OSError:
        return None
    lines = [ln.strip() for ln in tail.splitlines() if ln.strip()]
    return lines[-1][:300] if lines else None


def ended_unexpectedly(folder: RunFolder, code: int) -> None:
    """A fine-tune's process ended without recording how (killed, crashed, or its disk full): say so, with
    its exit code and the last line of its log. Killed by a signal, it stays interrupted (it can be resumed
    from its last saved epoch); ended by itself, it failed."""
    line = last_line(folder)
    log_said = tr("Its log ends with: {line}", line=line) if line else tr("Its log is empty.")
    if code < 0:
        state = runs.INTERRUPTED
        said = tr(
            "The training process was stopped by {signal} (exit code {code}) before it recorded how it ended.",
            signal=_signal_name(-code),
            code=code,
        )
    else:
        state = runs.FAILED
        said = tr(
            "The training process ended unexpectedly (exit code {code}) before it recorded how it ended.",
            code=code,
        )
    folder.release_space()  # the space it kept for its last status, in case the disk is full
    try:
        folder.write_status(state, finished=time.time(), error=f"{said} {log_said}")
    except OSError:
        logging.getLogger(__name__).exception("could not record how %s ended", folder.path)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


# ---------------------------------------------------------------- background computations of a run


def _embed(folder: RunFolder, params: dict, progress: Callable, should_stop: Callable) -> None:
    from trainer.inspect import embedding_map as embeddings
    from trainer.runs.predictor import RunModel

    run = runs.load_run(folder.path)
    embeddings.compute(RunModel.load(folder.path), run, params.get("subset", "test"), progress, should_stop)


def _rank(folder: RunFolder, params: dict, progress: Callable, should_stop: Callable) -> None:
    from trainer.attribution.dataset import SAMPLE, rank_words
    from trainer.evaluate.predictions import text_column
    from trainer.runs.predictor import RunModel

    frame = folder.predictions()
    if frame is None or frame.empty:
        raise ValueError("This run has no test split to explain.")
    texts = [str(t) for t in frame[text_column(frame)]]
    limit = {"all": None, "sample": SAMPLE}.get(str(params.get("limit", "sample")), SAMPLE)
    ranking = rank_words(
        RunModel.load(folder.path), texts, progress=progress, should_stop=should_stop,
        predicted=frame["predicted"].astype(str).tolist(), limit=limit, on_update=folder.write_top_words,
        on_speed=folder.write_rank_speed,  # this machine's speed, for the next estimate before Start
    )  # fmt: skip
    folder.write_top_words(ranking)  # stopped early: the ranking of the texts explained so far


def _issues(folder: RunFolder, params: dict, progress: Callable, should_stop: Callable) -> None:
    from trainer.inspect.label_issues import run_issues
    from trainer.runs.predictor import RunModel

    run_issues(RunModel.load(folder.path), runs.load_run(folder.path), progress, should_stop)


def _vectors(folder: RunFolder, params: dict, progress: Callable, should_stop: Callable) -> None:
    from trainer.inspect.embedding_map import ensure_finetuned
    from trainer.runs.predictor import RunModel

    ensure_finetuned(
        RunModel.load(folder.path), runs.load_run(folder.path), progress=progress, should_stop=should_stop
    )


class Reporter:
    """A computation's progress in its state file: `reporter(done, total)` counts the current phase's steps
    (written at most twice a second, the time left from this phase's own rate), `reporter.phase(p)` says
    what it does now (written at once, its count starting afresh)."""

    def __init__(self, folder: RunFolder, name: str, write: bool = True):
        self.folder, self.name, self.write = folder, name, write
        self.last = 0.0
        self.first: tuple[float, int] | None = None  # (time, done) of the phase's first report, for the rate

    def __call__(self, done: int, total: int) -> None:
        now = time.time()
        if self.first is None:
            self.first = (now, done)  # a resumed job skips what was done: the rate counts from here
        if self.write and (now - self.last >= 0.5 or done >= total):
            self.last = now
            (t0, d0), eta = self.first, None
            if done > d0 and total > done:
                eta = round((now - t0) / (done - d0) * (total - done), 1)
            self.folder.write_computation(self.name, done=int(done), total=int(total), eta_seconds=eta)

    def phase(self, phase: Phase) -> None:
        self.first, self.last = None, 0.0
        if self.write:
            self.folder.write_computation(self.name, phase=phase.to_dict(), done=0, total=0, eta_seconds=None)


def _score(folder: RunFolder, params: dict, progress: Callable, should_stop: Callable) -> None:
    from trainer.apply.run_scoring import run_scoring
    from trainer.runs.cluster import address
    from trainer.runs.predictor import RunModel
    from trainer.runs.scoring import Scoring

    if not os.environ.get("WORLD_SIZE") and not address():  # a Ray cluster spreads the work itself
        import torch

        if torch.cuda.device_count() > 1:  # every GPU scores every n-th chunk (the fine-tuning launch path)
            command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                       f"--nproc_per_node={torch.cuda.device_count()}", "-m", "trainer.jobs.worker", str(folder.path),
                       "--computation", "score", "--params", json.dumps(params)]  # fmt: skip
            os.execv(sys.executable, command)
    on_phase = progress.phase if isinstance(progress, Reporter) else None  # each phase said on the page
    scoring = Scoring(folder.path, params["name"])
    run_scoring(RunModel.load(folder.path, variant=scoring.spec().variant), runs.load_run(folder.path), scoring,
                progress, should_stop, on_phase)  # fmt: skip


def _robustness(folder: RunFolder, params: dict, progress: Callable, should_stop: Callable) -> None:
    from trainer.data.rules import parse
    from trainer.inspect.behaviour import record, run_tests, split_inputs
    from trainer.runs.predictor import RunModel

    model = RunModel.load(folder.path)
    rules = parse(params["rules"], model.labels) if params.get("rules") else []
    families = [] if rules else None  # a person's rules are tried on their own, beside the families kept
    results = run_tests(model, split_inputs(runs.load_run(folder.path)), progress, should_stop, families,
                        rules=rules)  # fmt: skip
    if results is not None:  # every family tried: kept for Evaluate
        folder.write_robustness(record(results, kept=folder.robustness() if rules else None))


def _compress(folder: RunFolder, params: dict, progress: Callable, should_stop: Callable) -> None:
    from trainer.runs.variants import VARIANTS
    from trainer.train.compress import compress

    names = list(params.get("names") or VARIANTS)
    made = iter(range(2 * len(names)))  # two steps a variant (made, then checked): steps done as each starts
    progress(0, 2 * len(names))
    compress(folder.path, names, say=lambda _: progress(next(made, 2 * len(names)), 2 * len(names)),
             should_stop=should_stop)  # fmt: skip


COMPUTATIONS: dict[str, Callable[[RunFolder, dict, Callable, Callable], None]] = {
    "score": _score,  # new text scored with the run: trends, alerts, drift
    "embed": _embed,  # the embedding map of a subset
    "rank": _rank,  # the words that matter per label over the test split
    "issues": _issues,  # likely label issues over every split
    "vectors": _vectors,  # the fine-tuned model's vectors of every split (started after fine-tuning)
    "robustness": _robustness,  # behavioural tests: small changes that should not change the answer
    "compress": _compress,  # faster, smaller variants, kept when the paired test finds no loss
}


DEVICE_WAIT_SECONDS = 2.0  # how often a computation waiting for the accelerator tries its lock again


def uses_accelerator() -> bool:
    """Whether a computation here runs on a GPU (then it takes its turn on the device lock)."""
    from trainer.model.loading import pick_device

    return pick_device().device != "cpu"


def wait_for_device(folder: RunFolder, name: str, should_stop: Callable[[], bool]) -> int | None:
    """The device lock's descriptor once this computation may use the GPU (None: stopped while waiting).

    A fine-tune holds the lock for as long as it runs; the computation waits, queued, and says why."""
    lock = locks.device_lock_file(folder.path.parent)
    said = False
    while (fd := locks.try_lock(lock)) is None:
        if should_stop():
            return None
        if not said:
            folder.write_computation(name, status=runs.QUEUED, waiting="another job is using the GPU")
            said = True
        time.sleep(DEVICE_WAIT_SECONDS)
    if said:
        folder.write_computation(name, status=runs.RUNNING, waiting=None)
    return fd


def run_computation(folder: RunFolder, kind: str, params: dict) -> int:
    """Run one background computation of a finished run, reporting progress in its state file."""
    name = computation_name(kind, params)
    stop_file = folder.computation_stop_file(name)
    if int(
        os.environ.get("RANK", "0")
    ):  # another process of a distributed computation: the first one reports
        COMPUTATIONS[kind](folder, params, Reporter(folder, name, write=False), stop_file.exists)
        return 0
    folder.write_computation(name, kind=kind, params=params, status=runs.RUNNING, **locks.stamp(),
                      started=time.time(), done=0, total=0, phase=None,
                      error=None)  # fmt: skip
    progress = Reporter(folder, name)

    device = None
    try:
        if uses_accelerator():
            device = wait_for_device(folder, name, stop_file.exists)
            if device is None:
                folder.write_computation(name, status=runs.CANCELLED, finished=time.time())
                stop_file.unlink(missing_ok=True)
                return 0
        COMPUTATIONS[kind](folder, params, progress, stop_file.exists)
    except BaseException as exc:  # noqa: BLE001
        folder.write_error_log(traceback.format_exc())
        folder.write_computation(
            name, status=runs.FAILED, error=friendly_error(exc, "computing in the background")
        )
        return 1
    finally:
        if device is not None:
            os.close(device)
    folder.write_computation(
        name, status=runs.CANCELLED if stop_file.exists() else runs.FINISHED, finished=time.time()
    )
    stop_file.unlink(missing_ok=True)
    return 0


def main(argv: Sequence[str] | None = None, fit_fn: FitFn | None = None) -> int:
    """Entry point; `fit_fn` replaces fine-tuning (tests use stand-ins)."""
    parser = argparse.ArgumentParser(prog="python -m trainer.jobs.worker")
    parser.add_argument("run_dir")
    parser.add_argument("--computation", choices=sorted(COMPUTATIONS))
    parser.add_argument("--params", default="{}", help="the computation's parameters as JSON")
    args = parser.parse_args(argv)
    os.umask(PRIVATE_UMASK)  # everything the job writes is its user's only: files 0600, folders 0700
    quiet()
    i18n.set_language(os.environ.get("INSIGHT_LANG"))  # the language of whoever started it
    folder = RunFolder(args.run_dir)
    if args.computation:
        return run_computation(folder, args.computation, json.loads(args.params))
    return run_fit(folder, fit_fn)


if __name__ == "__main__":
    raise SystemExit(main())
