"""How long the word rule takes: English text, Chinese text (jieba), and mixed, per 1,000 texts.

The word rule runs for every explanation, ranking and alert word; Chinese runs are cut by jieba (its
dictionary loads once, about a second) and cached per distinct run of characters. Prints a table.

    python bench/bench_words.py [--texts 20000]
"""

from __future__ import annotations

import argparse
import csv
import random
import time
from pathlib import Path

from trainer.data import word_rule

ROOT = Path(__file__).resolve().parents[1]


def texts(kind: str, n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    if kind == "English":
        with (ROOT / "sample_data" / "product_sentiment.csv").open(encoding="utf-8") as fh:
            pool = [r["text"] for r in csv.DictReader(fh)]
    else:
        with (ROOT / "sample_data" / "chinese_reviews.csv").open(encoding="utf-8") as fh:
            pool = [r["text"] for r in csv.DictReader(fh)]
        if kind == "mixed":
            pool = [f"{t} iPhone 15 Pro, battery ok!" for t in pool]
    # distinct texts (a cache of repeated runs would flatter the figure): shuffle characters' order of clauses
    out = []
    for i in range(n):
        text = rng.choice(pool)
        parts = text.split("，")
        rng.shuffle(parts)
        out.append("，".join(parts) + str(i))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=20000)
    args = parser.parse_args()
    started = time.perf_counter()
    word_rule.chinese_words("加载词典")
    load = time.perf_counter() - started
    print(f"jieba's dictionary loaded in {load:.2f} s (once per process)\n")
    print("| texts | count | words per text | ms per 1,000 texts (first pass) | (again, cached runs) |")
    print("|---|---|---|---|---|")
    for kind in ("English", "Chinese", "mixed"):
        batch = texts(kind, args.texts)
        word_rule.chinese_words.cache_clear()
        t0 = time.perf_counter()
        counts = [len(word_rule.word_spans(t)) for t in batch]
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        for t in batch:
            word_rule.word_spans(t)
        again = time.perf_counter() - t0
        per = 1000 / len(batch)
        print(f"| {kind} | {len(batch):,} | {sum(counts) / len(counts):.1f} | {first * 1000 * per:.1f} | "
              f"{again * 1000 * per:.1f} |")  # fmt: skip


if __name__ == "__main__":
    main()
