"""`python -m trainer slices RUN`: the slices of the test split where the model is wrong more often than on
the rest beyond chance, with intervals and Benjamini-Hochberg's control of false discoveries."""

from __future__ import annotations

import argparse
import json

from trainer.cli.common import EXIT_OK, CliError, finished_model, runs_dir
from trainer.i18n import N_, tr

FEATURES = {
    "word": N_("word"),
    "length": N_("length"),
    "label": N_("label"),
    "entity_type": N_("entity type"),
    "entity_length": N_("entity length"),
    "label_issue": N_("label issue"),
    "column": N_("column"),
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    slices = sub.add_parser(
        "slices", help=tr("where the model is wrong more often than overall, beyond chance")
    )
    slices.add_argument("run", help=tr("run folder (or run id under --runs-dir)"))
    slices.add_argument(
        "--data",
        default=None,
        help=tr(
            "a labelled file to look into instead of the test split (its other columns are tried as groups)"
        ),
    )
    slices.add_argument("--text-column", default=None, help=tr("the column of texts in --data"))
    slices.add_argument("--json", action="store_true", help=tr("print everything as one JSON object"))
    slices.add_argument(
        "--alpha", type=float, default=0.05, help=tr("false discovery rate kept (default 0.05)")
    )
    slices.add_argument(
        "--min-rows", type=int, default=10, help=tr("the fewest test examples a slice needs (default 10)")
    )
    slices.add_argument("--limit", type=int, default=15, help=tr("show this many (without --json)"))
    slices.add_argument("--runs-dir", default=None)
    slices.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from trainer.inspect.slices import for_run
    from trainer.runs import find_run, load_run

    if not 0 < args.alpha < 1:
        raise CliError(tr("--alpha must be between 0 and 1, such as 0.05."))
    if args.min_rows < 2:
        raise CliError(tr("--min-rows must be 2 or more."))
    run = load_run(find_run(args.run, runs_dir(args.runs_dir), anywhere=True))
    report = for_run(run, args.alpha, args.min_rows) if not args.data else _for_file(run, args)
    if report is None:
        raise CliError(
            tr("{run} has no test predictions yet: wait until it has finished training.", run=run.path.name)
        )
    if args.json:
        out = {"run": run.path.name, "split": "test" if not args.data else str(args.data), "overall_error_rate": report.overall_error_rate,
               "n": report.n, "alpha": report.alpha, "slices": [s.to_dict() for s in report.slices]}  # fmt: skip
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return EXIT_OK
    print(
        tr(
            "Wrong on {rate} of {n} test examples overall. {flagged} of {tried} slices tried are worse beyond "
            "chance; among them, at most 1 in {one_in} is expected to be chance (Benjamini-Hochberg at {alpha}).",
            rate=f"{report.overall_error_rate:.1%}",
            n=report.n,
            flagged=len(report.flagged),
            tried=len(report.slices),
            one_in=round(1 / report.alpha),
            alpha=f"{report.alpha:.0%}",
        )
    )
    for s in report.flagged[: args.limit]:
        kind, _, column = s.feature.partition(":")
        print(
            tr(
                "  {feature} “{value}”: wrong on {errors} of {n} ({rate}, between {low} and {high}); q = {q}",
                feature=tr(FEATURES.get(kind, kind)) + (f" {column}" if column else ""),
                value=s.value,
                errors=s.errors,
                n=s.n,
                rate=f"{s.error_rate:.0%}",
                low=f"{s.ci_low:.0%}",
                high=f"{s.ci_high:.0%}",
                q=f"{s.q_value:.2g}",
            )
        )
    return EXIT_OK


def _for_file(run, args: argparse.Namespace):
    """The slices of --data, scored by the run's finished model."""
    from trainer.inspect.slices import for_file

    return for_file(finished_model(run), args.data, args.text_column, args.alpha, args.min_rows)
