"""`python -m trainer issues RUN`: likely label issues over every split of a run (cleanlab)."""

from __future__ import annotations

import argparse
import sys

from trainer.cli.common import EXIT_OK, load_run_model, runs_dir
from trainer.data.safe_csv import to_csv
from trainer.i18n import N_, tr
from trainer.runs import find_run

SPLITS = {"train": N_("train"), "validation": N_("validation"), "test": N_("test")}  # shown; the values stay


def add_parser(sub: argparse._SubParsersAction) -> None:
    issues = sub.add_parser("issues", help=tr("likely label issues over every split of a run"))
    issues.add_argument("run", help=tr("run folder (or run id under --runs-dir)"))
    issues.add_argument(
        "--json", action="store_true", help=tr("one JSON object per issue, most suspicious first")
    )
    issues.add_argument("--out", help=tr("write the issues as CSV here"))
    issues.add_argument("--limit", type=int, default=20, help=tr("show this many (without --json or --out)"))
    issues.add_argument("--again", action="store_true", help=tr("look again even if they were found before"))
    issues.add_argument("--runs-dir", default=None)

    issues.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Likely label issues over every split of a run: computed once (and saved), then printed."""
    import json

    from trainer.inspect.label_issues import run_issues
    from trainer.runs import load_run

    model = load_run_model(args.run, args.runs_dir)
    run = load_run(find_run(args.run, runs_dir(args.runs_dir), anywhere=True))
    issues = run.folder.issues()
    if issues is None or args.again:
        issues = run_issues(model, run)
    issues = issues.drop(columns=[c for c in ("word", "word_text") if c in issues and issues[c].isna().all()])
    if args.out:
        to_csv(issues, args.out)
        print(tr("wrote {n} likely label issues to {path}", n=len(issues), path=args.out), file=sys.stderr)
    elif args.json:
        for record in issues.to_dict(orient="records"):
            print(json.dumps({k: (None if v != v else v) for k, v in record.items()}, ensure_ascii=False))
    else:
        for _, issue in issues.head(args.limit).iterrows():
            split = tr(SPLITS[issue["split"]]) if issue["split"] in SPLITS else issue["split"]
            print(tr("{score}  row {row} ({split}): {given} -> {suggested}  {text}", score=f"{issue['score']:.3f}",
                     row=issue["row"], split=split, given=issue["given"], suggested=issue["suggested"],
                     text=str(issue["text"])[:80]))  # fmt: skip
        print(
            tr(
                "{n} likely label issues in {rows} rows",
                n=len(issues),
                rows=run.folder.issues_meta().get("rows", "?"),
            ),
            file=sys.stderr,
        )
    return EXIT_OK
