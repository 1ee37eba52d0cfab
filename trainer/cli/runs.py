"""`python -m trainer runs`: every run with its status, headline metric and size; `--delete` removes runs."""

from __future__ import annotations

import argparse
import time

from trainer.cli.common import EXIT_OK, CliError, runs_dir
from trainer.tasks import get_task


def add_parser(sub: argparse._SubParsersAction) -> None:
    command = sub.add_parser("runs", help="list runs with status, headline metric and size; delete runs")
    command.add_argument("--runs-dir", default=None)
    command.add_argument(
        "--delete",
        nargs="+",
        metavar="RUN",
        help="delete these runs (id, name or folder); a running one is refused",
    )

    command.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from trainer.runs import RunFolder, list_runs
    from trainer.runs.space import human_size, size_of

    if args.delete:
        return delete(args)
    found = list_runs(runs_dir(args.runs_dir))
    if not found:
        print(f"no runs in {runs_dir(args.runs_dir)}/")
        return EXIT_OK
    print(f"{'run':<44} {'status':<12} {'task':<8} {'metric':<18} {'size':>8}  created")
    total = 0
    for r in found:
        metric = f"{r.metric_name} {r.metric:.3f}" if r.metric is not None else "-"
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created)) if r.created else "-"
        status = r.status
        progress = RunFolder(r.path).progress() if status == "running" else {}
        if progress.get("max_steps"):
            status = f"running {progress['step'] / progress['max_steps']:.0%}"
        size = size_of(r.path)
        total += size
        print(
            f"{r.id:<44} {status:<12} {get_task(r.task).cli_name:<8} {metric:<18} {human_size(size):>8}  {created}"
        )
    print(f"{len(found)} runs, {human_size(total)} in {runs_dir(args.runs_dir)}/")
    return EXIT_OK


def delete(args: argparse.Namespace) -> int:
    from trainer.access import audit
    from trainer.access.people import local_owner
    from trainer.runs import find_run
    from trainer.runs.space import Busy, delete_run, human_size

    folder = runs_dir(args.runs_dir)
    targets = []
    for ref in args.delete:
        try:
            targets.append(find_run(ref, folder))
        except FileNotFoundError as exc:
            raise CliError(str(exc)) from None
    refused = []
    for path in dict.fromkeys(targets):
        try:
            freed = delete_run(path, folder)
        except Busy as exc:
            refused.append(str(exc))
            continue
        print(f"deleted {path.name} ({human_size(freed)})")
        audit.record(folder, local_owner(), "delete", path.name, freed=freed, via="command line")
    if refused:
        raise CliError(" ".join(refused))
    return EXIT_OK
