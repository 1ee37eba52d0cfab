"""Time of the weak-slice finder and the behavioural tests (issue 31) on N test texts, on this CPU.

    .venv/bin/python bench/bench_robustness.py --run RUN_DIR [--sizes 1000,10000] [--families all|none|a,b]

RUN_DIR: a finished text run (for example the quick first model of the Product reviews sample). The N texts
are the Product reviews sample's texts, repeated with an order number appended so that no two are alike;
their "gold" labels are the sample's. The model scores them once (not counted), then each part is timed.
Prints one table row per size and part: seconds, and texts per second.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def texts_of(n: int) -> pd.DataFrame:
    base = pd.read_csv(ROOT / "sample_data" / "product_sentiment.csv")
    rows = [base.iloc[i % len(base)] for i in range(n)]
    return pd.DataFrame({"text": [f"{r['text']} (order {1000 + i})" for i, r in enumerate(rows)],
                         "gold": [r["sentiment"] for r in rows]})  # fmt: skip


def main() -> None:
    from trainer.data.perturb import FAMILIES
    from trainer.inspect.behaviour import run_family
    from trainer.inspect.slices import for_predictions
    from trainer.runs.predictor import RunModel

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, required=True)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--families", default="all")
    args = parser.parse_args()
    families = {"all": list(FAMILIES), "none": []}.get(args.families, args.families.split(","))
    model = RunModel.load(args.run)
    print("| texts | part | seconds | texts per second |")
    print("|---|---|---|---|")
    for n in (int(x) for x in args.sizes.split(",")):
        frame = texts_of(n)
        before = model.score(frame["text"].tolist())
        frame["predicted"] = before.labels
        started = time.perf_counter()
        report = for_predictions(frame, entity_run=False)
        took = time.perf_counter() - started
        print(
            f"| {n:,} | slices ({len(report.slices)} tried, {len(report.flagged)} flagged) | {took:.1f} | {n / took:,.0f} |"
        )
        for family in families:
            started = time.perf_counter()
            result = run_family(model, family, frame["text"].tolist(), before)
            took = time.perf_counter() - started
            speed = f"{result.changed / took:,.0f}" if result.changed else "–"  # nothing scored: no speed
            print(f"| {n:,} | {family} ({result.changed:,} changed, {result.fail_rate:.1%} changed their answer) "
                  f"| {took:.1f} | {speed} |")  # fmt: skip
        sys.stdout.flush()


if __name__ == "__main__":
    main()
