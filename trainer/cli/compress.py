"""`python -m trainer compress RUN [--to onnx int8 smaller] [--json]`: faster, smaller variants of a run's
model, each kept beside the model only when the run's own paired test on its test split finds no loss beyond
the margin (trainer.train.compress), with its speed and size measured on this machine."""

from __future__ import annotations

import argparse
import json
import sys

from trainer.cli.common import EXIT_OK, CliError, runs_dir
from trainer.i18n import tr
from trainer.runs.variants import VARIANTS


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compress", help=tr("faster, smaller variants of a run, kept only when they lose nothing")
    )
    p.add_argument("run", help=tr("run folder (or run id under --runs-dir)"))
    p.add_argument("--to", nargs="+", choices=VARIANTS, default=list(VARIANTS),
                   help=tr("the variants to try (default: all three)"))  # fmt: skip
    p.add_argument("--margin", type=float, default=1.0,
                   help=tr("the largest loss of the headline score a variant may show, in points (default 1)"))  # fmt: skip
    p.add_argument(
        "--json", action="store_true", help=tr("print one JSON object: the run and each variant's verdict")
    )
    p.add_argument("--runs-dir", default=None)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from trainer.runs import find_run, load_run
    from trainer.train.compress import compress

    if not 0 <= args.margin < 100:
        raise CliError(tr("The margin is in points, from 0 to 100, not {value}.", value=args.margin))
    saved = load_run(find_run(args.run, runs_dir(args.runs_dir), anywhere=True))
    if not saved.has_model:
        raise CliError(tr("{run} has no finished model yet (it may still be training, or have failed or been "
                          "cancelled): try again when it has finished.", run=saved.path.name))  # fmt: skip
    said = (lambda _: None) if args.json else (lambda line: print(line, file=sys.stderr, flush=True))
    found = compress(saved.path, list(dict.fromkeys(args.to)), args.margin / 100, say=said)
    if args.json:
        print(json.dumps(found, ensure_ascii=False))
        return EXIT_OK
    for entry in found["variants"]:
        print(f"{entry['name']}: {entry['reason']}")
    return EXIT_OK
