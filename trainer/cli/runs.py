"""`python -m trainer runs`: every run with its status and headline metric."""

from __future__ import annotations

import argparse
import time

from trainer.cli.common import EXIT_OK, runs_dir
from trainer.tasks import get_task


def add_parser(sub: argparse._SubParsersAction) -> None:
    command = sub.add_parser("runs", help="list runs with status and headline metric")
    command.add_argument("--runs-dir", default=None)

    command.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from trainer.runs import RunFolder, list_runs

    found = list_runs(runs_dir(args.runs_dir))
    if not found:
        print(f"no runs in {runs_dir(args.runs_dir)}/")
        return EXIT_OK
    print(f"{'run':<44} {'status':<12} {'task':<8} {'metric':<18} created")
    for r in found:
        metric = f"{r.metric_name} {r.metric:.3f}" if r.metric is not None else "-"
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created)) if r.created else "-"
        status = r.status
        progress = RunFolder(r.path).progress() if status == "running" else {}
        if progress.get("max_steps"):
            status = f"running {progress['step'] / progress['max_steps']:.0%}"
        print(f"{r.id:<44} {status:<12} {get_task(r.task).cli_name:<8} {metric:<18} {created}")
    return EXIT_OK
