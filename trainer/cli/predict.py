"""`python -m trainer predict RUN FILE`: a trained run's predictions for a file, as CSV."""

from __future__ import annotations

import argparse
import sys

from trainer.cli.common import EXIT_OK, load_run_model
from trainer.data.safe_csv import to_csv
from trainer.i18n import tr


def add_parser(sub: argparse._SubParsersAction) -> None:
    predict = sub.add_parser("predict", help=tr("predict a file with a trained run"))
    predict.add_argument("run", help=tr("run folder (or run id under --runs-dir)"))
    predict.add_argument("data", help=tr("file with a text column (or tokens, for entity runs)"))
    predict.add_argument("--text-column", help=tr("column holding the text"))
    predict.add_argument("--out", help=tr("write the CSV here (default: standard output)"))
    predict.add_argument("--runs-dir", default=None)

    predict.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    model = load_run_model(args.run, args.runs_dir)
    inputs, gold = model.adapter.read_file(args.data, args.text_column, model.labels)
    frame = model.frame(inputs, model.predict(inputs), gold)
    to_csv(frame, args.out or sys.stdout)  # cells a spreadsheet would run as formulas are neutralised
    if args.out:
        print(tr("wrote {n} predictions to {path}", n=len(frame), path=args.out), file=sys.stderr)
    return EXIT_OK
