"""Command line: check, fit, predict, runs, explain. Bad input exits 2 with one `error:` line."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from trainer.config import HELP, TrainConfig
from trainer.tasks import TEXT_TASK, TOKEN_TASK, get_task, task_name

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class CliError(Exception):
    """A problem with what the user asked for; printed as one `error:` line, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse prints usage + exits 2; keep it to one line
        raise CliError(f"{message} (see `python -m trainer {self.prog.split()[-1]} --help`)")


def _data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", help="CSV, TSV, JSON Lines or CoNLL file")
    p.add_argument("--text-column", help="column holding the text (or tokens, for entities)")
    p.add_argument("--label-column", help="column holding the label (or tags, for entities)")
    p.add_argument(
        "--task",
        choices=["text", "token", TEXT_TASK, TOKEN_TASK],
        help="text classification or token classification (named entities); guessed if omitted",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m trainer", description="Insight: fine-tune and explain text classifiers.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    check = sub.add_parser("check", help="validate a data file and print the report")
    _data_args(check)
    check.add_argument("--model", default="default", help="backbone whose tokenizer is used for the checks")

    fit = sub.add_parser("fit", help="fine-tune a model; prints the run folder as the last line")
    _data_args(fit)
    fit.add_argument("--eval-file", help="your own validation file (also the test split without --test-file)")
    fit.add_argument("--test-file", help="your own test file")
    fit.add_argument("--model", default="default", help=HELP["model"])
    fit.add_argument("--epochs", type=float, help=HELP["epochs"])
    fit.add_argument("--batch-size", type=int, help=HELP["batch_size"])
    fit.add_argument("--learning-rate", type=float, help=HELP["learning_rate"])
    fit.add_argument("--max-length", type=int, help=HELP["max_length"])
    fit.add_argument("--max-steps", type=int, help="stop after this many optimisation steps (quick tries)")
    fit.add_argument("--lora", action="store_true", help=HELP["lora"])
    fit.add_argument("--class-weights", action="store_true", help=HELP["class_weights"])
    fit.add_argument(
        "--patience", type=int, dest="early_stopping_patience", help=HELP["early_stopping_patience"]
    )
    fit.add_argument("--seed", type=int, help=HELP["seed"])
    fit.add_argument(
        "--device", choices=["auto", "cpu", "cuda", "mps"], help="where to train (default: auto)"
    )
    fit.add_argument("--runs-dir", default=None, help="where run folders go (default: runs/)")
    fit.add_argument("--name", help="a name for the run")
    fit.add_argument("--quiet", action="store_true", help="no progress bar")

    predict = sub.add_parser("predict", help="predict a file with a trained run")
    predict.add_argument("run", help="run folder (or run id under --runs-dir)")
    predict.add_argument("data", help="file with a text column (or tokens, for entity runs)")
    predict.add_argument("--text-column", help="column holding the text")
    predict.add_argument("--out", help="write the CSV here (default: standard output)")
    predict.add_argument("--runs-dir", default=None)

    runs_cmd = sub.add_parser("runs", help="list runs with status and headline metric")
    runs_cmd.add_argument("--runs-dir", default=None)

    explain = sub.add_parser("explain", help="explain predictions with integrated gradients")
    explain.add_argument("run", help="run folder (or run id under --runs-dir)")
    group = explain.add_mutually_exclusive_group(required=True)
    group.add_argument("--text", action="append", help="a text to explain (repeatable)")
    group.add_argument("--file", help="a data file whose texts are explained")
    explain.add_argument("--target", help="explain toward this label (default: the predicted one)")
    explain.add_argument("--text-column", help="column holding the text in --file")
    explain.add_argument("--limit", type=int, default=100, help="explain at most this many texts of --file")
    explain.add_argument("--json", action="store_true", help="one JSON object per line")
    explain.add_argument("--runs-dir", default=None)
    return parser


def _runs_dir(value: str | None) -> Path:
    from trainer.runs import DEFAULT_RUNS_DIR

    return Path(value) if value else DEFAULT_RUNS_DIR


def cmd_check(args: argparse.Namespace) -> int:
    from trainer.data import prepare
    from trainer.models import load_tokenizer

    tokenizer = load_tokenizer(args.model)
    data = prepare(
        args.data,
        text_column=args.text_column,
        label_column=args.label_column,
        task=task_name(args.task),
        tokenizer=tokenizer,
    )
    print(data.report.to_text())
    if not data.report.ok:
        raise CliError(data.report.errors[0])
    return EXIT_OK


def _config_from_args(args: argparse.Namespace, task: str) -> TrainConfig:
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    given = {k: v for k, v in vars(args).items() if k in fields and v is not None and k != "task"}
    if args.lora:
        given["lora"] = True
    if args.class_weights:
        given["class_weights"] = True
    try:
        return TrainConfig(task=task, **given)
    except ValueError as exc:
        raise CliError(str(exc)) from exc


def _progress_line(snap: Any) -> str:
    width = 30
    done = int(width * snap.progress)
    bar = "#" * done + "-" * (width - done)
    parts = [f"[{bar}] {snap.step}/{snap.max_steps or '?'} steps", f"epoch {snap.epoch:.2f}"]
    if snap.loss is not None:
        parts.append(f"loss {snap.loss:.4f}")
    if snap.samples_per_second:
        parts.append(f"{snap.samples_per_second:.0f} samples/s")
    if snap.eta_seconds is not None:
        parts.append(f"ETA {int(snap.eta_seconds // 60)}:{int(snap.eta_seconds % 60):02d}")
    return "  ".join(parts)


def cmd_fit(args: argparse.Namespace) -> int:
    from trainer import runs
    from trainer.data import prepare
    from trainer.jobs import JobManager
    from trainer.models import load_tokenizer

    tokenizer = load_tokenizer(args.model)
    draft = _config_from_args(args, task_name(args.task) or TEXT_TASK)
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
    for line in data.report.warnings:
        print(f"warning: {line}", file=sys.stderr)
    config = dataclasses.replace(draft, task=data.task)
    manager = JobManager(_runs_dir(args.runs_dir))
    job = manager.submit(config, data, name=args.name or Path(args.data).stem)
    tty = sys.stderr.isatty()
    last_print = 0.0
    try:
        while (snap := manager.snapshot(job)).active:
            now = time.time()
            if not args.quiet and snap.status == runs.RUNNING and (tty or now - last_print > 10):
                print(("\r" if tty else "") + _progress_line(snap), end="" if tty else "\n", file=sys.stderr)
                last_print = now
            time.sleep(0.5)
    except KeyboardInterrupt:
        manager.cancel(job)
        manager.wait(job, 120)
        print("\ncancelled", file=sys.stderr)
        return 130
    snap = manager.wait(job)
    if not args.quiet:
        print(("\r" if tty else "") + _progress_line(snap), file=sys.stderr)
    if snap.status != runs.FINISHED:
        print(f"error: {snap.error or snap.status} (run folder: {snap.run_dir})", file=sys.stderr)
        return EXIT_FAILED
    run = runs.load_run(snap.run_dir)
    for split in ("validation", "test"):
        scores = run.metrics.get(split) or {}
        if scores:
            name, value = run.adapter.headline(scores)
            print(f"{split}: {name} {value:.3f}, accuracy {scores.get('accuracy', 0):.3f}", file=sys.stderr)
    print(snap.run_dir)
    return EXIT_OK


def _load_run_model(ref: str, runs_dir: str | None) -> Any:
    from trainer.predict import RunModel
    from trainer.runs import find_run

    return RunModel.load(find_run(ref, _runs_dir(runs_dir)))


def cmd_predict(args: argparse.Namespace) -> int:
    model = _load_run_model(args.run, args.runs_dir)
    inputs, gold = model.adapter.read_file(args.data, args.text_column, model.labels)
    frame = model.frame(inputs, model.predict(inputs), gold)
    if args.out:
        frame.to_csv(args.out, index=False)
        print(f"wrote {len(frame)} predictions to {args.out}", file=sys.stderr)
    else:
        frame.to_csv(sys.stdout, index=False)
    return EXIT_OK


def cmd_runs(args: argparse.Namespace) -> int:
    from trainer.runs import list_runs

    found = list_runs(_runs_dir(args.runs_dir))
    if not found:
        print(f"no runs in {_runs_dir(args.runs_dir)}/")
        return EXIT_OK
    print(f"{'run':<44} {'status':<12} {'task':<8} {'metric':<18} created")
    for r in found:
        metric = f"{r.metric_name} {r.metric:.3f}" if r.metric is not None else "-"
        task = get_task(r.task).cli_name
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created)) if r.created else "-"
        print(f"{r.id:<44} {r.status:<12} {task:<8} {metric:<18} {created}")
    return EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    from trainer.explain_cli import run_explain

    return run_explain(args, _load_run_model(args.run, args.runs_dir))


COMMANDS = {
    "check": cmd_check,
    "fit": cmd_fit,
    "predict": cmd_predict,
    "runs": cmd_runs,
    "explain": cmd_explain,
}


def _quiet_libraries() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    logging.basicConfig(level=logging.ERROR)
    for name in ("transformers", "huggingface_hub", "accelerate", "peft"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (0 ok, 1 training failed, 2 bad input)."""
    from trainer.data import DataError
    from trainer.models import ModelError

    try:
        args = build_parser().parse_args(argv)
        if args.command != "runs":
            _quiet_libraries()
        return COMMANDS[args.command](args)
    except (CliError, DataError, ModelError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except Exception as exc:  # noqa: BLE001 - never a traceback on the terminal
        if os.environ.get("INSIGHT_DEBUG"):
            raise
        print(
            f"error: unexpected failure ({type(exc).__name__}: {exc}). "
            "Set INSIGHT_DEBUG=1 to see the traceback.",
            file=sys.stderr,
        )
        return EXIT_FAILED


if __name__ == "__main__":
    raise SystemExit(main())


def main_exit() -> None:
    """Console-script entry point (`insight ...` once the project is pip-installed)."""
    raise SystemExit(main())
