"""`python -m trainer check FILE`: validate a data file and print the report."""

from __future__ import annotations

import argparse

from trainer.cli.common import EXIT_OK, CliError, data_args
from trainer.i18n import tr
from trainer.tasks import task_name


def add_parser(sub: argparse._SubParsersAction) -> None:
    check = sub.add_parser("check", help=tr("validate a data file and print the report"))
    data_args(check)
    check.add_argument(
        "--model", default="default", help=tr("backbone whose tokenizer is used for the checks")
    )

    check.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
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
