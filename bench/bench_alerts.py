"""The alert rule's power and false alarms, against the rule it replaced.

    .venv/bin/python bench/bench_alerts.py [--seeds 1000]

Power: the share of simulated streams (trainer.evaluate.simulate: a calibrated model of the stated accuracy)
in which a surge of one label in one bucket raises "that label up", with the same texts per bucket before
and in it, the level shared over one series or four. Three rules: the joint test on the model's
probabilities (what a monitor of a text run does), the joint test on predicted labels (Apply, entity
runs), and the rule before (Fisher's exact test per label, the level shared over labels and series).
False alarms: the share of buckets raising any alert on unchanged streams.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from trainer.evaluate import simulate  # noqa: E402
from trainer.evaluate.trends import ALPHA, BASELINE  # noqa: E402


def rule_before(surge: float, count: int, accuracy: float, first: float, series: int, seeds: int) -> float:
    """Fisher's exact test per label on predicted counts, ALPHA / (labels x series): the rule until now."""
    from scipy.stats import fisher_exact

    rng = np.random.default_rng(0)
    base = simulate.base_shares(2, first)
    now = simulate.surged(base, surge)
    caught = 0
    for _ in range(seeds):
        before = simulate.texts(rng, base, count * BASELINE, accuracy, base).argmax(1)
        after = simulate.texts(rng, now, count, accuracy, base).argmax(1)
        k, base_k = int((after == 0).sum()), int((before == 0).sum())
        _, p = fisher_exact([[k, count - k], [base_k, len(before) - base_k]])
        caught += p < ALPHA / (2 * series) and k / count > base_k / len(before)
    return caught / seeds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=1000)
    args = parser.parse_args()
    n = args.seeds
    print("| accuracy | texts per bucket | surge | series | probabilities | predicted labels | rule before |")
    print("|---|---|---|---|---|---|---|")
    for accuracy in (0.8, 0.95):
        for count in (50, 200):
            for first, surge in ((0.3, 1.5), (0.3, 2.0), (0.3, 3.0), (0.4, 2.0)):
                for series in (1, 4):
                    soft = simulate.power(surge, count, accuracy, first=first, series=series, seeds=n)
                    hard = simulate.power(
                        surge, count, accuracy, first=first, series=series, soft=False, seeds=n
                    )
                    old = rule_before(surge, count, accuracy, first, series, n)
                    print(f"| {accuracy:.0%} | {count} | {first:.0%} → {min(1, first * surge):.0%} ({surge:g}x) | "
                          f"{series} | {soft:.0%} | {hard:.0%} | {old:.0%} |", flush=True)  # fmt: skip
    print("\n| unchanged stream | false-alarm rate per bucket (stated: at most 1%) |\n|---|---|")
    cases = (("2 labels, 3 groups, 50 texts, predicted labels", {"labels": 2, "groups": 3, "count": 50}),
             ("6 labels, 2 groups, 30 texts, predicted labels", {"labels": 6, "groups": 2, "count": 30}),
             ("2 labels, 1 group, 50 texts, probabilities", {"labels": 2, "groups": 1, "count": 50, "soft": True}),
             ("5 labels, 2 groups, 40 texts, probabilities", {"labels": 5, "groups": 2, "count": 40, "soft": True}))  # fmt: skip
    for name, kw in cases:
        print(f"| {name} | {simulate.false_alarm_rate(seeds=max(40, n // 5), **kw):.2%} |", flush=True)
    partial = simulate.partial_false_alarm_rate(seeds=max(30, n // 10))
    every = simulate.partial_false_alarm_rate(seeds=max(30, n // 10), spend=False)
    print(f"| 2 labels, a week tested every day as it fills (Looks) | {partial:.2%} |")
    print(f"| the same, each daily look at the whole level | {every:.2%} |")


if __name__ == "__main__":
    main()
