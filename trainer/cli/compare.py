"""`python -m trainer compare RUN RUN [...]`: scores with 95% intervals, paired tests against the first run,
per-class changes and the settings that differ."""

from __future__ import annotations

import argparse
import json

from trainer.cli.common import EXIT_OK, CliError, ljust, runs_dir, text_width
from trainer.i18n import tr


def add_parser(sub: argparse._SubParsersAction) -> None:
    compare = sub.add_parser(
        "compare", help=tr("compare runs: scores with intervals, paired significance tests")
    )
    compare.add_argument(
        "runs", nargs="+", help=tr("two or more runs (folders or ids); the first is the baseline")
    )
    compare.add_argument("--json", action="store_true", help=tr("print everything as one JSON object"))
    compare.add_argument("--runs-dir", default=None)
    compare.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from trainer.inspect.compare import compare
    from trainer.runs import find_run, load_run

    folder = runs_dir(args.runs_dir)
    runs = [load_run(find_run(name, folder, anywhere=True)) for name in args.runs]
    try:
        result = compare(runs)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False, default=float))
        return EXIT_OK
    scores = result["scores"]
    names = [r["name"] for r in result["runs"]]
    titles = list(dict.fromkeys(s["score"] for s in scores))
    width = max(text_width(n) for n in names) + 2
    print(ljust(tr("run"), width) + "".join(ljust(tr(t)[:24], 26) for t in titles) + tr("test examples"))
    for run in result["runs"]:
        cells = []
        for title in titles:
            row = next((s for s in scores if s["run"] == run["name"] and s["score"] == title), None)
            cells.append(
                f"{row['value']:.3f} ({row['low']:.3f}-{row['high']:.3f})".ljust(26) if row else " " * 26
            )
        print(ljust(run["name"], width) + "".join(cells) + f"{run['test_examples']:,}")
    print(tr("(95% intervals: bootstrap over each run's test split)"))
    for pair in result["pairs"]:
        print("\n" + tr("{b} against {a}:", b=pair["b"], a=pair["a"]))
        if not pair["paired"]:
            print("  " + pair["why_not"])
        for test in pair.get("tests", []):
            print("  " + test["sentence"])
        if pair.get("paired"):
            print("  " + tr("They disagree on {n} test examples.", n=f"{pair['disagreements']:,}"))
        changed = [c for c in pair["per_class"] if abs(c["delta"]) >= 0.005][:8]
        if changed:
            deltas = ", ".join(f"{c['class']} {c['delta'] * 100:+.1f}" for c in changed)
            print("  " + tr("F1 per class: {changes}", changes=deltas))
    if result["settings"]:
        print("\n" + tr("Settings that differ:"))
        for row in result["settings"]:
            values = " / ".join(str(row.get(n)) for n in names)
            print(f"  {row['setting']}: {values}")
    return EXIT_OK
