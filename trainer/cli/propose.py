"""`python -m trainer propose RUN --pool FILE --n N`: the next rows to label, where a label helps the run most
(uncertain, and spread over the pool), as CSV."""

from __future__ import annotations

import argparse
import sys

from trainer.cli.common import EXIT_OK, finished_model, runs_dir
from trainer.i18n import tr


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("propose", help=tr("the next rows to label, where a label helps the model most"))
    p.add_argument("run", help=tr("run folder (or run id under --runs-dir)"))
    p.add_argument("--pool", required=True, help=tr("a file of texts without labels (or with a few)"))
    p.add_argument("--n", type=int, default=20, help=tr("how many rows to propose (default 20)"))
    p.add_argument("--text-column", default=None, help=tr("column holding the text"))
    p.add_argument("--out", help=tr("write the CSV here (default: standard output)"))
    p.add_argument("--runs-dir", default=None)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from trainer.apply.propose import propose
    from trainer.data.safe_csv import to_csv
    from trainer.inspect.given_file import read
    from trainer.runs import find_run, load_run

    saved = load_run(find_run(args.run, runs_dir(args.runs_dir), anywhere=True))
    model = finished_model(saved)
    pool = read(model, args.pool, args.text_column)
    train = saved.folder.load_split("train")
    training = {" ".join(t) for t in train.tokens} if train.tokens is not None else set(map(str, train.texts))
    found = propose(model, pool.inputs, args.n, training)
    frame = pd.DataFrame([{"row": p.row + 1, "text": p.text, "predicted": p.predicted,
                           "uncertainty": round(p.uncertainty, 4)} for p in found])  # fmt: skip
    to_csv(frame, args.out or sys.stdout)  # cells a spreadsheet would run as formulas are neutralised
    if args.out:
        print(tr("wrote {n} rows to label to {path}", n=len(frame), path=args.out), file=sys.stderr)
    return EXIT_OK
