"""`python -m trainer users add|list|remove|passwd`: local accounts for signing in to the app.

The password comes from a prompt (typed twice, not shown) or, when stdin is not a terminal, from the
first line of stdin (for scripts: `printf '%s\\n' "$PW" | python -m trainer users add ana`). It is stored
as an argon2id hash in `<runs>/.access/users.json`, never in clear. Names are case-insensitive; `users list`
names accounts from an older file that differ only in case (exit 1 until all but one are removed).
"""

from __future__ import annotations

import argparse
import getpass
import sys

from trainer.cli.common import EXIT_FAILED, EXIT_OK, CliError, runs_dir
from trainer.i18n import tr


def add_parser(sub: argparse._SubParsersAction) -> None:
    command = sub.add_parser(
        "users", help=tr("local accounts for signing in to the app: add, list, remove, passwd")
    )
    command.add_argument("--runs-dir", default=None)
    actions = command.add_subparsers(dest="action", metavar="ACTION")
    add = actions.add_parser("add", help=tr("add an account (password from a prompt or stdin)"))
    add.add_argument("name")
    add.add_argument(
        "--admin", action="store_true", help=tr("may see and change every run, and read the audit log")
    )
    listing = actions.add_parser("list", help=tr("list the accounts"))
    remove = actions.add_parser("remove", help=tr("remove an account (its runs stay, owned by its name)"))
    remove.add_argument("name")
    passwd = actions.add_parser("passwd", help=tr("set a new password"))
    passwd.add_argument("name")
    for parser in (add, listing, remove, passwd):
        parser.add_argument("--runs-dir", default=argparse.SUPPRESS)

    command.set_defaults(handler=run)


def read_password(name: str) -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(tr("Password for {name}: ", name=name))
    if getpass.getpass(tr("Again: ")) != first:
        raise CliError(tr("The two passwords differ; nothing was changed."))
    return first


def run(args: argparse.Namespace) -> int:
    from trainer.access import audit, users
    from trainer.access.people import local_owner

    folder = runs_dir(args.runs_dir)
    try:
        if args.action == "add":
            account = users.add(folder, args.name, read_password(args.name), admin=args.admin)
            audit.record(folder, local_owner(), "add account", account.name, admin=account.admin)
            print(
                tr("added {name} (admin)", name=account.name)
                if account.admin
                else tr("added {name}", name=account.name)
            )
        elif args.action == "remove":
            users.remove(folder, args.name)
            audit.record(folder, local_owner(), "remove account", args.name)
            print(tr("removed {name}", name=args.name))
        elif args.action == "passwd":
            users.set_password(folder, args.name, read_password(args.name))
            audit.record(folder, local_owner(), "change password", args.name)
            print(tr("changed the password of {name}", name=args.name))
        elif args.action == "list":
            found = users.accounts(folder)
            if not found:
                print(
                    tr(
                        "no accounts in {folder}/ (add one with `python -m trainer users add NAME`)",
                        folder=folder,
                    )
                )
            for account in found:
                print(tr("{name}  admin", name=account.name) if account.admin else account.name)
            clashing = users.collisions(folder)
            for names in clashing:
                print(
                    tr(
                        "warning: {names} differ only in case, which makes them one person: none of them can "
                        "sign in until all but one are removed (`python -m trainer users remove NAME`).",
                        names=", ".join(names),
                    )
                )
            if clashing:
                return EXIT_FAILED
        else:
            raise CliError(
                tr("say what to do: users add NAME, users list, users remove NAME or users passwd NAME")
            )
    except users.AccountError as exc:
        raise CliError(str(exc)) from None
    return EXIT_OK
