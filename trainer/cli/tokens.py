"""`python -m trainer tokens create NAME [--person ID] | list | revoke NAME`: bearer tokens for `serve`."""

from __future__ import annotations

import argparse
import sys
import time

from trainer.cli.common import EXIT_OK, CliError, runs_dir


def add_parser(sub: argparse._SubParsersAction) -> None:
    command = sub.add_parser("tokens", help="bearer tokens for the HTTP service")
    actions = command.add_subparsers(dest="action", metavar="ACTION")
    create = actions.add_parser("create", help="a new token (shown once)")
    create.add_argument("name")
    create.add_argument("--person", help="who it acts for (default: this machine's user)")
    actions.add_parser("list", help="every token (never the secret)")
    revoke = actions.add_parser("revoke", help="refuse a token from its next request on")
    revoke.add_argument("name")
    for parser in (command, *actions.choices.values()):
        parser.add_argument("--runs-dir", default=argparse.SUPPRESS if parser is not command else None)
    command.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from trainer.access import tokens
    from trainer.access.people import local_owner

    folder = runs_dir(getattr(args, "runs_dir", None))
    try:
        if args.action == "create":
            secret = tokens.create(folder, args.name, args.person or local_owner())
            print(secret)
            print(f"token {args.name} created: send it as 'Authorization: Bearer <token>'; it is not shown again",
                  file=sys.stderr)  # fmt: skip
        elif args.action == "list":
            found = tokens.listed(folder)
            for t in found:
                when = time.strftime("%Y-%m-%d %H:%M", time.localtime(t.created))
                print(f"{t.name}  {t.person}  created {when}" + ("  REVOKED" if t.revoked else ""))
            if not found:
                print("no tokens")
        elif args.action == "revoke":
            tokens.revoke(folder, args.name)
            print(f"revoked {args.name}")
        else:
            raise CliError("say what to do: tokens create, list or revoke")
    except tokens.TokenError as exc:
        raise CliError(str(exc)) from None
    return EXIT_OK
