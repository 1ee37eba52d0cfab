"""`python -m trainer runs`: every run with its status, headline metric and size; `--delete` removes runs."""

from __future__ import annotations

import argparse
import time

from trainer.cli.common import EXIT_OK, CliError, ljust, rjust, runs_dir
from trainer.i18n import tr
from trainer.runs.records import status_name
from trainer.tasks import get_task


def add_parser(sub: argparse._SubParsersAction) -> None:
    command = sub.add_parser("runs", help=tr("list runs with status, headline metric and size; delete runs"))
    command.add_argument("--runs-dir", default=None)
    command.add_argument(
        "--delete",
        nargs="+",
        metavar="RUN",
        help=tr("delete these runs (id, name or folder); a running one is refused"),
    )

    command.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from trainer.runs import RunFolder, list_runs
    from trainer.runs.space import human_size, size_of

    if args.delete:
        return delete(args)
    found = list_runs(runs_dir(args.runs_dir))
    if not found:
        print(tr("no runs in {folder}/", folder=runs_dir(args.runs_dir)))
        return EXIT_OK
    header = [ljust(tr("run"), 44), ljust(tr("status"), 12), ljust(tr("task"), 8), ljust(tr("metric"), 18)]
    print(" ".join([*header, rjust(tr("size"), 8)]) + "  " + tr("created"))
    total = 0
    for r in found:
        metric = f"{tr(r.metric_name)} {r.metric:.3f}" if r.metric is not None and r.metric_name else "-"
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created)) if r.created else "-"
        status = status_name(r.status)
        progress = RunFolder(r.path).progress() if r.status == "running" else {}
        if progress.get("max_steps"):
            status = tr("running {share}", share=f"{progress['step'] / progress['max_steps']:.0%}")
        size = size_of(r.path)
        total += size
        cells = [ljust(r.id, 44), ljust(status, 12), ljust(get_task(r.task).cli_name, 8), ljust(metric, 18)]
        print(" ".join([*cells, rjust(human_size(size), 8)]) + "  " + created)
    print(
        tr(
            "{n} runs, {size} in {folder}/",
            n=len(found),
            size=human_size(total),
            folder=runs_dir(args.runs_dir),
        )
    )
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
        print(tr("deleted {run} ({size})", run=path.name, size=human_size(freed)))
        audit.record(folder, local_owner(), "delete", path.name, freed=freed, via="command line")
    if refused:
        raise CliError(" ".join(refused))
    return EXIT_OK
