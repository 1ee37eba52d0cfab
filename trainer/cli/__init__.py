"""Command line: check, fit, cancel, runs, predict, score, compare, issues, explain. Bad input exits 2 with one
`error:` line."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from trainer.cli import compare as cli_compare
from trainer.cli import score as cli_apply
from trainer.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CliError, runs_dir
from trainer.cli.jobs import cmd_cancel, cmd_fit, cmd_runs
from trainer.config import HELP
from trainer.data.safe_csv import to_csv
from trainer.model.heads import POOLING
from trainer.runs import find_run
from trainer.tasks import TEXT_TASK, TOKEN_TASK, task_name


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse prints usage + exits 2; keep it to one line
        raise CliError(f"{message} (see `{self.prog} --help`)")  # prog: "python -m trainer [command]"


def _data_args(p: argparse.ArgumentParser, optional: bool = False) -> None:
    p.add_argument("data", nargs="?" if optional else None, help="CSV, TSV, JSON Lines or CoNLL file")
    p.add_argument("--text-column", help="column holding the text (or tokens, for entities)")
    p.add_argument("--label-column", help="column holding the label (or tags, for entities)")
    p.add_argument(
        "--task",
        choices=["text", "token", TEXT_TASK, TOKEN_TASK],
        help="text classification or token classification (named entities); guessed if omitted",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m trainer", description="Insight: fine-tune and explain text classifiers.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    check = sub.add_parser("check", help="validate a data file and print the report")
    _data_args(check)
    check.add_argument("--model", default="default", help="backbone whose tokenizer is used for the checks")

    fit = sub.add_parser("fit", help="fine-tune a model; prints the run folder as the last line")
    _data_args(fit, optional=True)
    fit.add_argument(
        "--resume", metavar="RUN", help="continue a cancelled or interrupted run from its last epoch"
    )
    fit.add_argument("--eval-file", help="your own validation file (also the test split without --test-file)")
    fit.add_argument("--test-file", help="your own test file")
    fit.add_argument("--model", default="default", help=HELP["model"])
    fit.add_argument("--epochs", type=float, help=HELP["epochs"])
    fit.add_argument("--batch-size", type=int, help=HELP["batch_size"])
    fit.add_argument("--learning-rate", type=float, help=HELP["learning_rate"])
    fit.add_argument("--max-length", type=int, help=HELP["max_length"])
    fit.add_argument("--pooling", choices=list(POOLING), help=HELP["pooling"])
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
    fit.add_argument(
        "--devices", type=int, help="how many GPUs (processes) to train on; default: every GPU there is"
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

    cancel = sub.add_parser("cancel", help="stop a queued or running job")
    cancel.add_argument("run", help="run folder (or run id under --runs-dir)")
    cancel.add_argument("--wait", type=float, default=0, help="wait up to this many seconds for it to stop")
    cancel.add_argument("--runs-dir", default=None)

    runs_cmd = sub.add_parser("runs", help="list runs with status and headline metric")
    runs_cmd.add_argument("--runs-dir", default=None)

    cli_apply.add_parser(sub)
    cli_compare.add_parser(sub)

    issues = sub.add_parser("issues", help="likely label issues over every split of a run")
    issues.add_argument("run", help="run folder (or run id under --runs-dir)")
    issues.add_argument(
        "--json", action="store_true", help="one JSON object per issue, most suspicious first"
    )
    issues.add_argument("--out", help="write the issues as CSV here")
    issues.add_argument("--limit", type=int, default=20, help="show this many (without --json or --out)")
    issues.add_argument("--again", action="store_true", help="look again even if they were found before")
    issues.add_argument("--runs-dir", default=None)

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


def cmd_check(args: argparse.Namespace) -> int:
    from trainer.model.loading import load_tokenizer
    from trainer.prepare import prepare

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


def _load_run_model(ref: str, folder: str | None) -> Any:
    from trainer.runs.model import RunModel

    return RunModel.load(find_run(ref, runs_dir(folder)))


def cmd_predict(args: argparse.Namespace) -> int:
    model = _load_run_model(args.run, args.runs_dir)
    inputs, gold = model.adapter.read_file(args.data, args.text_column, model.labels)
    frame = model.frame(inputs, model.predict(inputs), gold)
    to_csv(frame, args.out or sys.stdout)  # cells a spreadsheet would run as formulas are neutralised
    if args.out:
        print(f"wrote {len(frame)} predictions to {args.out}", file=sys.stderr)
    return EXIT_OK


def cmd_issues(args: argparse.Namespace) -> int:
    """Likely label issues over every split of a run: computed once (and saved), then printed."""
    import json

    from trainer.inspect.label_issues import run_issues
    from trainer.runs import load_run

    model = _load_run_model(args.run, args.runs_dir)
    run = load_run(find_run(args.run, runs_dir(args.runs_dir)))
    issues = run.folder.issues()
    if issues is None or args.again:
        issues = run_issues(model, run)
    issues = issues.drop(columns=[c for c in ("word", "word_text") if c in issues and issues[c].isna().all()])
    if args.out:
        to_csv(issues, args.out)
        print(f"wrote {len(issues)} likely label issues to {args.out}", file=sys.stderr)
    elif args.json:
        for record in issues.to_dict(orient="records"):
            print(json.dumps({k: (None if v != v else v) for k, v in record.items()}, ensure_ascii=False))
    else:
        for _, issue in issues.head(args.limit).iterrows():
            print(f"{issue['score']:.3f}  row {issue['row']} ({issue['split']}): {issue['given']} -> "
                  f"{issue['suggested']}  {str(issue['text'])[:80]}")  # fmt: skip
        print(
            f"{len(issues)} likely label issues in {run.folder.issues_meta().get('rows', '?')} rows",
            file=sys.stderr,
        )
    return EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    from trainer.cli.explain import run_explain

    return run_explain(args, _load_run_model(args.run, args.runs_dir))


COMMANDS = {
    "check": cmd_check,
    "fit": cmd_fit,
    "cancel": cmd_cancel,
    "issues": cmd_issues,
    "score": cli_apply.cmd_score,
    "compare": cli_compare.cmd_compare,
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
    from trainer.model.loading import ModelError

    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:  # no command: the help, as `git` and `pip` do
            parser.print_help()
            return 0
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
