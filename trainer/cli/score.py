"""`python -m trainer score`: score a file with a finished run; trends, alerts and drift from the command line.

The scoring is named after the file and its settings, so running the same command again after an
interruption resumes where it stopped, and after it finished answers at once (`--again` scores anew).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from trainer.cli.common import EXIT_OK, CliError, runs_dir
from trainer.i18n import N_, tr
from trainer.runs.variants import VARIANTS

BUCKETS = ("auto", "day", "week", "month")
BUCKET_NAMES = {"day": N_("day"), "week": N_("week"), "month": N_("month")}  # shown; the values stay


def add_parser(sub: argparse._SubParsersAction) -> None:
    score = sub.add_parser(
        "score", help=tr("score a file with a trained run: predictions, trends, alerts, drift")
    )
    score.add_argument("run", help=tr("run folder (or run id under --runs-dir)"))
    score.add_argument("data", help=tr("CSV, TSV, JSON Lines, or CoNLL (words only) file of new text"))
    score.add_argument("--text-column", help=tr("column holding the text (default: proposed from the file)"))
    score.add_argument(
        "--time-column", help=tr("a date or timestamp column: label shares over time, and alerts")
    )
    score.add_argument(
        "--group-column", help=tr("a topic, channel or product column: trends and alerts per group")
    )
    score.add_argument(
        "--bucket", choices=BUCKETS, default="auto", help=tr("time bucket (auto: from the span)")
    )
    score.add_argument("--out", help=tr("write the scored rows here (CSV)"))
    score.add_argument("--alerts", help=tr("write the alerts here (a JSON array)"))
    score.add_argument(
        "--again", action="store_true", help=tr("score anew even if this file was scored before")
    )
    score.add_argument(
        "--ray",
        metavar="ADDRESS",
        help=tr("score on this Ray cluster (default: INSIGHT_RAY_ADDRESS, if set)"),
    )
    score.add_argument("--variant", choices=VARIANTS,
                       help=tr("score with this accepted compressed variant of the run (see `compress`)"))  # fmt: skip
    score.add_argument("--quiet", action="store_true", help=tr("no progress bar"))
    score.add_argument("--runs-dir", default=None)
    score.set_defaults(handler=run)


def _progress(quiet: bool) -> Callable[[int, int], None]:
    """Prints "scored N of about M rows" on stderr: in place on a terminal, every 10 seconds in a log."""
    tty, last = sys.stderr.isatty(), [0.0]

    def progress(done: int, total: int) -> None:
        if quiet or (not tty and time.time() - last[0] < 10):
            return
        last[0] = time.time()
        said = tr("scored {done} of about {total} rows", done=f"{done:,}", total=f"{total:,}")
        print(("\r" if tty else "") + said, end="" if tty else "\n", file=sys.stderr)

    return progress


def run(args: argparse.Namespace) -> int:
    from trainer.apply.run_scoring import alerts_json, run_scoring
    from trainer.data import DataError
    from trainer.evaluate.drift import describe
    from trainer.runs import find_run, load_run
    from trainer.runs.predictor import RunModel
    from trainer.runs.scoring import Scoring, Spec, scoring_name

    if args.alerts and not args.time_column:  # checked before an hour of scoring, not after
        raise CliError(tr("--alerts needs --time-column: alerts compare time buckets."))
    source = Path(args.data)
    if not source.is_file():
        raise DataError(tr('File not found: "{path}". Check the path and the file name.', path=source))
    run_dir = find_run(args.run, runs_dir(args.runs_dir), anywhere=True)
    spec = Spec(str(source.resolve()), args.text_column, args.time_column, args.group_column, args.bucket,
                variant=args.variant)  # fmt: skip
    scoring = Scoring(run_dir, scoring_name(source, asdict(spec)))
    if args.again:
        shutil.rmtree(scoring.path, ignore_errors=True)
    results = scoring.results()
    if not results:
        scoring.write_spec(spec)
        model = RunModel.load(run_dir, variant=spec.variant)
        try:
            results = run_scoring(model, load_run(run_dir), scoring, _progress(args.quiet), cluster=args.ray)
        except KeyboardInterrupt:
            print("\n" + tr("interrupted: run the same command again to resume"), file=sys.stderr)
            return 130
        if not args.quiet and sys.stderr.isatty():
            print(file=sys.stderr)
    if args.out:
        from trainer.data.safe_csv import copy_safely

        with open(args.out, "w", encoding="utf-8", newline="") as f:  # formula-like cells neutralised
            copy_safely(scoring.scored_file, f)
    if args.alerts:
        Path(args.alerts).write_text(
            json.dumps(alerts_json(results), indent=2, ensure_ascii=False), encoding="utf-8"
        )
    drift = results.get("drift", {})
    scored, untrusted = f"{results.get('scored', 0):,}", f"{results.get('untrusted', 0):,}"
    said = tr("{scored} rows scored, {untrusted} untrusted; {drift}", scored=scored, untrusted=untrusted,
              drift=describe(drift))  # fmt: skip
    print(said, file=sys.stderr)
    if spec.time_column:
        bucket = results.get("bucket")
        shown = tr(BUCKET_NAMES[bucket]) if bucket in BUCKET_NAMES else bucket
        print(
            tr("{n} alerts ({bucket} buckets)", n=len(results.get("alerts", [])), bucket=shown),
            file=sys.stderr,
        )
    print(scoring.scored_file if not args.out else Path(args.out))
    return EXIT_OK
