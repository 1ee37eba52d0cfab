"""`python -m trainer audit`: the audit log of the runs folder (who did what, and when)."""

from __future__ import annotations

import argparse
import json
import sys
import time

from trainer.cli.common import EXIT_FAILED, EXIT_OK, runs_dir
from trainer.i18n import tr


def add_parser(sub: argparse._SubParsersAction) -> None:
    command = sub.add_parser(
        "audit", help=tr("who signed in, started, cancelled, shared, downloaded or deleted what")
    )
    command.add_argument("--runs-dir", default=None)
    command.add_argument("--last", type=int, default=None, metavar="N", help=tr("only the last N events"))
    command.add_argument("--json", action="store_true", help=tr("one JSON object per line"))
    command.add_argument(
        "--verify",
        action="store_true",
        help=tr("check that no line was edited, removed or moved (the hash chain)"),
    )

    command.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from trainer.access import audit

    if args.verify:
        verdict = audit.verify(runs_dir(args.runs_dir))
        print(verdict.sentence, file=sys.stdout if verdict.intact else sys.stderr)
        return EXIT_OK if verdict.intact else EXIT_FAILED
    events = audit.events(runs_dir(args.runs_dir), args.last)
    for event in events:
        if args.json:
            print(json.dumps(event, ensure_ascii=False))
            continue
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(event.get("time", 0)))
        extra = {k: v for k, v in event.items() if k not in ("time", "who", "action", "target", "prev")}
        details = f"  {json.dumps(extra, ensure_ascii=False)}" if extra else ""
        print(
            f"{when}  {event.get('who', '?')}  {event.get('action', '?')}  {event.get('target', '')}{details}"
        )
    if not events and not args.json:
        print(tr("the audit log is empty"))
    return EXIT_OK
