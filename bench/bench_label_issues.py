"""Planted label errors: flip 10% of a public dataset's labels, fine-tune, and see which flips are found.

    .venv/bin/python bench/bench_label_issues.py [--data ../shared/bench-data/cr_train.csv] [--flip 0.1]

Compares, on the same fine-tuned run:
- before (the previous Insight): confident learning by hand on the test split's held-out probabilities
  (the rule it used: a row is an issue when its label's probability is under that class's mean
  self-probability and another class is over its own), so it can only ever see the test split;
- now: cleanlab's find_label_issues on 5-fold cross-validated logistic regression over the fine-tuned
  model's embeddings, for every row.
Precision = flagged rows that were flipped / flagged rows; recall = flips found / all flips.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def previous_method(given: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """The hand-written confident learning Insight used on the test split (its exact rule)."""
    thresholds = np.array(
        [probs[given == j, j].mean() if (given == j).any() else np.inf for j in range(probs.shape[1])]
    )
    above = probs >= thresholds[None, :]
    rows = np.arange(len(given))
    above[rows, given] = False
    return np.flatnonzero((probs[rows, given] < thresholds[given]) & above.any(axis=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "bench-data" / "cr_train.csv"))
    parser.add_argument("--flip", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import pandas as pd

    from trainer.config import TrainConfig
    from trainer.inspect.label_issues import run_issues
    from trainer.model.loading import load_tokenizer
    from trainer.prepare import prepare
    from trainer.runs import RunFolder, create_run, load_run
    from trainer.runs.predictor import RunModel
    from trainer.train.fit import fit

    work = Path(tempfile.mkdtemp(prefix="bench-issues-"))
    frame = pd.read_csv(args.data)
    labels = sorted(frame["label"].astype(str).unique())
    rng = np.random.default_rng(args.seed)
    flipped = np.sort(rng.choice(len(frame), size=round(args.flip * len(frame)), replace=False))
    noisy = frame.copy()
    for i in flipped:
        choices = [x for x in labels if x != str(frame.loc[i, "label"])]
        noisy.loc[i, "label"] = choices[rng.integers(len(choices))]
    noisy.to_csv(work / "noisy.csv", index=False)
    flips = set(int(i) for i in flipped)

    data = prepare(work / "noisy.csv", tokenizer=load_tokenizer("default"))
    run_dir = create_run(work / "runs", "noisy")
    config = TrainConfig()
    RunFolder(run_dir).write_inputs(config.to_dict(), data)
    started = time.time()
    result = fit(config, data, run_dir)
    train_seconds = time.time() - started
    folder = RunFolder(run_dir)

    test = folder.predictions()
    probs = test[[f"p_{x}" for x in data.labels]].to_numpy()
    given = np.array([data.labels.index(g) for g in test["gold"].astype(str)])
    before = {data.test.rows[i] for i in previous_method(given, probs)}
    started = time.time()
    issues = run_issues(RunModel.load(run_dir), load_run(run_dir))
    issue_seconds = time.time() - started
    now = set(int(r) for r in issues["row"])
    in_test = flips & set(data.test.rows)

    def scores(found: set[int]) -> tuple[float, float, float]:
        hits = len(found & flips)
        return (
            hits / max(1, len(found)),
            hits / max(1, len(flips)),
            len(found & in_test) / max(1, len(in_test)),
        )

    print(f"\n{Path(args.data).name}: {len(frame):,} rows, {len(flips)} labels flipped ({args.flip:.0%}), "
          f"fine-tuned in {train_seconds:.0f} s (test accuracy {result.metrics['test']['accuracy']:.3f} on noisy labels)\n")  # fmt: skip
    print(
        "| method | rows looked at | flagged | precision | recall (all flips) | recall (flips in test) | time |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, found, looked, seconds in (
        ("before: hand-written CL, test split only", before, len(data.test), 0.0),
        ("now: cleanlab + 5-fold LR on embeddings, every row", now, len(frame), issue_seconds),
    ):
        p, r, rt = scores(found)
        print(f"| {name} | {looked:,} | {len(found)} | {p:.2f} | {r:.2f} | {rt:.2f} | {seconds:.0f} s |")


if __name__ == "__main__":
    main()
