"""`python -m trainer tokens create NAME [--person ID] | list | revoke NAME`: bearer tokens for `serve`."""

from __future__ import annotations

import argparse
import sys
import time

from trainer.cli.common import EXIT_OK, CliError, runs_dir
from trainer.i18n import tr


def add_parser(sub: argparse._SubParsersAction) -> None:
    command = sub.add_parser("tokens", help=tr("bearer tokens for the HTTP service"))
    actions = command.add_subparsers(dest="action", metavar="ACTION")
    create = actions.add_parser("create", help=tr("a new token (shown once)"))
    create.add_argument("name")
    create.add_argument("--person", help=tr("who it acts for (default: this machine's user)"))
    actions.add_parser("list", help=tr("every token (never the secret)"))
    revoke = actions.add_parser("revoke", help=tr("refuse a token from its next request on"))
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
            print(tr("token {name} created: send it as 'Authorization: Bearer <token>'; it is not shown again",
                     name=args.name), file=sys.stderr)  # fmt: skip
        elif args.action == "list":
            found = tokens.listed(folder)
            for t in found:
                when = time.strftime("%Y-%m-%d %H:%M", time.localtime(t.created))
                said = {"name": t.name, "person": t.person, "when": when}
                if t.revoked:
                    print(tr("{name}  {person}  created {when}  REVOKED", **said))
                else:
                    print(tr("{name}  {person}  created {when}", **said))
            if not found:
                print(tr("no tokens"))
        elif args.action == "revoke":
            tokens.revoke(folder, args.name)
            print(tr("revoked {name}", name=args.name))
        else:
            raise CliError(tr("say what to do: tokens create, list or revoke"))
    except tokens.TokenError as exc:
        raise CliError(str(exc)) from None
    return EXIT_OK
