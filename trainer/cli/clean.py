"""`python -m trainer clean RUN`: what a run keeps besides its model (scorings, uploaded files,
checkpoints) with the space each takes, and deleting them."""

from __future__ import annotations

import argparse

from trainer.cli.common import EXIT_OK, CliError, ljust, rjust, runs_dir
from trainer.i18n import N_, tr

# What was deleted, by kind (the kinds stay as the options name them: --scoring, --upload, --checkpoints).
DELETED = {
    "scoring": N_("deleted scoring {name} ({size})"),
    "upload": N_("deleted upload {name} ({size})"),
    "checkpoints": N_("deleted checkpoints {name} ({size})"),
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    command = sub.add_parser(
        "clean", help=tr("list a run's scorings, uploads and checkpoints with their sizes; delete them")
    )
    command.add_argument("run", help=tr("run id, name or folder"))
    command.add_argument("--runs-dir", default=None)
    command.add_argument("--scoring", action="append", default=[], metavar="NAME",
                         help=tr("delete this scoring (repeat it; 'all' for every one)"))  # fmt: skip
    command.add_argument("--upload", action="append", default=[], metavar="NAME",
                         help=tr("delete this uploaded file (repeat it; 'all' for every one)"))  # fmt: skip
    command.add_argument(
        "--checkpoints", action="store_true", help=tr("delete the checkpoints (a run cannot resume then)")
    )

    command.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from trainer.access import audit
    from trainer.access.people import local_owner
    from trainer.runs import find_run
    from trainer.runs.space import Busy, delete_item, human_size, run_items

    try:
        run_dir = find_run(args.run, runs_dir(args.runs_dir), anywhere=True)
    except FileNotFoundError as exc:
        raise CliError(str(exc)) from None
    items = run_items(run_dir)
    wanted = [
        (kind, name) for kind, names in (("scoring", args.scoring), ("upload", args.upload)) for name in names
    ]
    if args.checkpoints:
        wanted.append(("checkpoints", "checkpoints"))
    if not wanted:
        if not items:
            print(tr("{run} keeps nothing besides its model.", run=run_dir.name))
        for item in items:
            note = f"  ({item.busy})" if item.busy else ""
            print(f"{ljust(item.kind, 12)} {ljust(item.name, 56)} {rjust(human_size(item.size), 8)}{note}")
        return EXIT_OK
    expanded = []
    for kind, name in wanted:
        expanded += [(kind, i.name) for i in items if i.kind == kind] if name == "all" else [(kind, name)]
    refused = []
    for kind, name in dict.fromkeys(expanded):
        try:
            freed = delete_item(run_dir, kind, name)
        except Busy as exc:
            refused.append(str(exc))
            continue
        except FileNotFoundError as exc:
            raise CliError(str(exc)) from None
        print(tr(DELETED[kind], name=name, size=human_size(freed)))
        audit.record(run_dir.parent, local_owner(), "delete", f"{run_dir.name}/{kind}/{name}", freed=freed,
                     via="command line")  # fmt: skip
    if refused:
        raise CliError(" ".join(refused))
    return EXIT_OK
