"""`python -m trainer fit`: fine-tuning jobs from the command line.

`fit` submits the job to the runs folder and follows it: the job runs in its own process (as in the
app), so Ctrl-C here cancels it cleanly. Under torchrun (`WORLD_SIZE` set, one process per device or
machine) every process trains in place instead, through DDP, and only rank 0 writes the run folder.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path
from typing import Any

from trainer.cli.common import EXIT_FAILED, EXIT_OK, CliError, data_args, runs_dir
from trainer.config import EFFORTS, HELP, TrainConfig
from trainer.i18n import tr
from trainer.model.heads import POOLING
from trainer.runs.records import status_name
from trainer.tasks import TEXT_TASK, task_name
from trainer.train.few_shot import few_shot_choice


def add_parser(sub: argparse._SubParsersAction) -> None:
    fit = sub.add_parser("fit", help=tr("fine-tune a model; prints the run folder as the last line"))
    data_args(fit, optional=True)
    fit.add_argument(
        "--resume", metavar="RUN", help=tr("continue a cancelled or interrupted run from its last epoch")
    )
    fit.add_argument(
        "--eval-file", help=tr("your own validation file (also the test split without --test-file)")
    )
    fit.add_argument("--test-file", help=tr("your own test file"))
    fit.add_argument("--model", default="default", help=tr(HELP["model"]))
    fit.add_argument("--epochs", type=float, help=tr(HELP["epochs"]))
    fit.add_argument("--batch-size", type=int, help=tr(HELP["batch_size"]))
    fit.add_argument("--learning-rate", type=float, help=tr(HELP["learning_rate"]))
    fit.add_argument("--max-length", type=int, help=tr(HELP["max_length"]))
    fit.add_argument("--pooling", choices=list(POOLING), help=tr(HELP["pooling"]))
    fit.add_argument(
        "--max-steps", type=int, help=tr("stop after this many optimisation steps (quick tries)")
    )
    fit.add_argument("--effort", choices=list(EFFORTS), help=tr(HELP["effort"]))
    fit.add_argument("--time-budget", type=float, dest="time_budget_minutes", metavar="MINUTES",
                     help=tr(HELP["time_budget_minutes"]))  # fmt: skip
    fit.add_argument("--lora", action="store_true", help=tr(HELP["lora"]))
    fit.add_argument("--augment", metavar="FAMILY[,FAMILY...]",
                     help=tr("also train on changed copies of the training texts: typos, case, punctuation, "
                             "whitespace, numbers, width (python -m trainer robustness shows which matter)"))  # fmt: skip
    fit.add_argument("--class-weights", action="store_true", help=tr(HELP["class_weights"]))
    few = fit.add_mutually_exclusive_group()
    few.add_argument(
        "--few-shot", dest="few_shot", action="store_const", const="on", help=tr(HELP["few_shot"])
    )
    few.add_argument("--no-few-shot", dest="few_shot", action="store_const", const="off",
                     help=tr("train the ordinary way even when labels are few"))  # fmt: skip
    fit.add_argument(
        "--patience", type=int, dest="early_stopping_patience", help=tr(HELP["early_stopping_patience"])
    )
    fit.add_argument("--seed", type=int, help=tr(HELP["seed"]))
    fit.add_argument(
        "--device", choices=["auto", "cpu", "cuda", "mps"], help=tr("where to train (default: auto)")
    )
    fit.add_argument(
        "--devices", type=int, help=tr("how many GPUs (processes) to train on; default: every GPU there is")
    )
    fit.add_argument("--runs-dir", default=None, help=tr("where run folders go (default: runs/)"))
    fit.add_argument("--name", help=tr("a name for the run"))
    fit.add_argument("--quiet", action="store_true", help=tr("no progress bar"))

    fit.set_defaults(handler=run)


def config_from_args(args: argparse.Namespace, task: str) -> TrainConfig:
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    given = {k: v for k, v in vars(args).items() if k in fields and v is not None and k != "task"}
    if args.lora:
        given["lora"] = True
    if getattr(args, "augment", None):
        given["augment"] = tuple(f.strip() for f in args.augment.split(",") if f.strip())
    if args.class_weights:
        given["class_weights"] = True
    try:
        return TrainConfig(task=task, **given)
    except ValueError as exc:
        raise CliError(str(exc)) from exc


def progress_line(snap: Any) -> str:
    width = 30
    done = int(width * snap.progress)
    bar = "#" * done + "-" * (width - done)
    parts = [
        f"[{bar}] " + tr("{step}/{total} steps", step=snap.step, total=snap.max_steps or "?"),
        tr("epoch {epoch}", epoch=f"{snap.epoch:.2f}"),
    ]
    if snap.loss is not None:
        parts.append(tr("loss {loss}", loss=f"{snap.loss:.4f}"))
    if snap.samples_per_second:
        parts.append(tr("{speed} samples/s", speed=f"{snap.samples_per_second:.0f}"))
    if snap.eta_seconds is not None:
        eta = f"{int(snap.eta_seconds // 60)}:{int(snap.eta_seconds % 60):02d}"
        parts.append(tr("ETA {time}", time=eta))
    return "  ".join(parts)


def _prepare(args: argparse.Namespace) -> tuple[TrainConfig, Any]:
    from trainer.model.loading import load_tokenizer
    from trainer.prepare import prepare

    if not args.data:
        raise CliError(tr("Give the data file to train on (or --resume RUN)."))
    tokenizer = load_tokenizer(args.model)
    draft = config_from_args(args, task_name(args.task) or TEXT_TASK)
    data = prepare(
        args.data,
        eval_data=args.eval_file,
        test_data=args.test_file,
        text_column=args.text_column,
        label_column=args.label_column,
        task=task_name(args.task),
        tokenizer=tokenizer,
        max_length=args.max_length,
        val_fraction=draft.val_fraction,
        test_fraction=draft.test_fraction,
        seed=draft.seed,
    )
    config = dataclasses.replace(draft, task=data.task)
    if int(os.environ.get("RANK", "0")) == 0:
        for line in data.report.warnings:
            print(tr("warning: {message}", message=line), file=sys.stderr)
        if said := few_shot_choice(config, data)[1]:
            print(said, file=sys.stderr)
    return config, data


def _follow(manager: Any, job: str, quiet: bool) -> Any:
    from trainer import runs

    tty = sys.stderr.isatty()
    last_print, said_queued = 0.0, False
    try:
        while (snap := manager.snapshot(job)).active:
            now = time.time()
            if snap.status == runs.QUEUED and not said_queued:
                said = (
                    tr("queued: waiting for {job} to finish", job=snap.waiting_for)
                    if snap.waiting_for
                    else tr("queued: waiting for the job before it to finish")
                )
                print(said, file=sys.stderr)
                said_queued = True
            if not quiet and snap.status == runs.RUNNING and (tty or now - last_print > 10):
                print(("\r" if tty else "") + progress_line(snap), end="" if tty else "\n", file=sys.stderr)
                last_print = now
            time.sleep(0.5)
    except KeyboardInterrupt:
        manager.cancel(job)
        manager.wait(job, 120)
        print(
            "\n" + tr("cancelled (resume it with `python -m trainer fit --resume {job}`)", job=job),
            file=sys.stderr,
        )
        raise
    snap = manager.wait(job)
    if not quiet:
        print(("\r" if tty else "") + progress_line(snap), file=sys.stderr)
    return snap


def _report(run_dir: Path) -> int:
    from trainer import runs
    from trainer.evaluate.uncertainty import interval_text, run_intervals
    from trainer.train.estimate import stopped_note

    run = runs.load_run(run_dir)
    if note := stopped_note(run_dir):
        print(note, file=sys.stderr)
    for split in ("validation", "test"):
        scores = run.metrics.get(split) or {}
        if scores:
            name, value = run.adapter.headline(scores)
            said = {
                "metric": tr(name),
                "value": f"{value:.3f}",
                "accuracy": f"{scores.get('accuracy', 0):.3f}",
            }
            if split == "validation":
                line = tr("validation: {metric} {value}, accuracy {accuracy}", **said)
            elif found := run_intervals(run).get(run.adapter.best_metric):
                line = tr(
                    "test: {metric} {value}, accuracy {accuracy} ({interval} on {n} test examples)",
                    **said,
                    interval=interval_text(found, percent=False),
                    n=scores.get("n", 0),
                )
            else:
                line = tr("test: {metric} {value}, accuracy {accuracy}", **said)
            print(line, file=sys.stderr)
    print(run_dir)
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    from trainer import runs
    from trainer.jobs.manager import JobManager

    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        return fit_distributed(args)
    manager = JobManager(runs_dir(args.runs_dir))
    try:
        if args.resume:
            job = runs.find_run(args.resume, manager.runs_dir).name
            manager.resume(job)
        else:
            job = _start(manager, args)
        snap = _follow(manager, job, args.quiet)
    except KeyboardInterrupt:
        return 130
    finally:
        manager.shutdown()
    if snap.status != runs.FINISHED:
        message = snap.error or status_name(snap.status)
        print(
            tr("error: {message} (run folder: {folder})", message=message, folder=snap.run_dir),
            file=sys.stderr,
        )
        return EXIT_FAILED
    return _report(snap.run_dir)


def _start(manager: Any, args: argparse.Namespace) -> str:
    """Check and split the data, then queue the job as the machine's own user (an admin: no quota; any
    model folder or hub id), audited as started from the command line."""
    from trainer.access.people import local_person
    from trainer.jobs.start import start_run

    config, data = _prepare(args)
    name = args.name or Path(args.data).stem
    return start_run(
        local_person(),
        config,
        data,
        name,
        manager=manager,
        check_model=False,
        details={"via": "command line"},
    )


def fit_distributed(args: argparse.Namespace) -> int:
    """One process of `torchrun ... -m trainer fit`: every rank trains (DDP), rank 0 writes the run folder."""
    import torch.distributed as dist

    from trainer import runs
    from trainer.jobs.worker import ProgressWriter
    from trainer.train.progress import Cancelled

    if args.resume:
        raise CliError(tr("--resume runs a job from the runs folder; start it without torchrun."))
    config, data = _prepare(args)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if config.device != "cpu" and _has_cuda() else "gloo")
    main = dist.get_rank() == 0
    folder = None
    if main:
        folder = runs.RunFolder(runs.create_run(runs_dir(args.runs_dir), args.name or Path(args.data).stem))
        folder.write_inputs(config.to_dict(), data)
        runs.mark_live(folder.path, True)
        folder.write_status(runs.RUNNING, started=time.time(), processes=dist.get_world_size())
    shared = [str(folder.path) if folder else None]
    dist.broadcast_object_list(shared, src=0)
    folder = runs.RunFolder(shared[0])
    from trainer.train.fit import fit

    try:
        fit(config, data, folder.path, ProgressWriter(folder) if main else None, folder.cancel_requested)
    except Cancelled:
        if main:
            folder.write_status(runs.CANCELLED, finished=time.time())
        return EXIT_FAILED
    except Exception as exc:
        if main:
            from trainer.jobs.worker import record_failure

            record_failure(folder, exc)  # a plain sentence; for a full disk, what to do
        raise
    finally:
        runs.mark_live(folder.path, False)
    if not main:
        return EXIT_OK
    from trainer.train.tracking import log_run

    log_run(folder)  # MLflow, when MLFLOW_TRACKING_URI is set; never fails the run
    folder.write_status(runs.FINISHED, finished=time.time())
    return _report(folder.path)


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()
