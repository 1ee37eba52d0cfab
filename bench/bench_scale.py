"""Real size: a 50,000-row two-label CSV, a short fine-tune, then every page's slow part, timed.

    .venv/bin/python bench/bench_scale.py [--rows 50000] [--steps 30] [--full-ranking] [--out DIR]

Generated text (two labels, about 40 tokens a text, written here from word lists: no dataset needed).
Measures, on this machine, as a user would meet them:
- training (the default model, --steps optimisation steps) and its evaluation pass (which also stores the
  validation/test vectors and probabilities);
- the embedding map of all examples: time to the first map (a stratified sample, before and after) and to
  the full maps (every example before and after), with their PCA; then UMAP of all points (fitted on a
  sample, the rest placed);
- the dataset-wide word ranking: time to the first ranking and to the stratified sample (and, with
  --full-ranking, to the whole test split);
- likely label issues over every row (cleanlab on cross-validated predictions);
- peak memory (resident set) of this process.
Prints a table; bench/RESULTS.md records it.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GOOD = [
    "great",
    "love",
    "excellent",
    "wonderful",
    "perfect",
    "happy",
    "fantastic",
    "superb",
    "reliable",
    "smooth",
    "fast",
    "comfortable",
]
BAD = [
    "awful",
    "hate",
    "terrible",
    "broken",
    "refund",
    "angry",
    "worst",
    "useless",
    "slow",
    "noisy",
    "cheap",
    "disappointing",
]
NEUTRAL = [
    "the",
    "a",
    "box",
    "arrived",
    "today",
    "order",
    "package",
    "delivery",
    "item",
    "product",
    "screen",
    "battery",
    "price",
    "colour",
    "size",
    "week",
    "it",
    "was",
    "and",
    "but",
    "with",
    "for",
    "my",
    "this",
    "that",
    "phone",
    "laptop",
    "kitchen",
    "store",
    "after",
    "before",
    "friend",
    "gift",
    "again",
]


def generate(path: Path, rows: int, seed: int = 0) -> Path:
    """Two-label reviews of about 40 tokens: mostly neutral words, a few that carry the label (and some noise)."""
    import pandas as pd

    rng = random.Random(seed)
    records = []
    for i in range(rows):
        label = "positive" if i % 2 else "negative"
        cue, other = (GOOD, BAD) if label == "positive" else (BAD, GOOD)
        words = [rng.choice(NEUTRAL) for _ in range(rng.randint(26, 40))]
        for _ in range(rng.randint(2, 4)):
            words.insert(rng.randrange(len(words)), rng.choice(cue))
        if rng.random() < 0.15:  # some texts carry a word of the other side too
            words.insert(rng.randrange(len(words)), rng.choice(other))
        records.append({"text": " ".join(words) + f" #{i}", "label": label})
    pd.DataFrame(records).to_csv(path, index=False)
    return path


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def watch(work, ready, poll: float = 0.5) -> tuple[float | None, float]:
    """Run `work()` in a thread; (seconds until `ready()` first held, seconds until work ended)."""
    started, first = time.time(), None
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    while thread.is_alive():
        if first is None and ready():
            first = time.time() - started
        time.sleep(poll)
    if first is None and ready():
        first = time.time() - started
    return first, time.time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--full-ranking", action="store_true", help="also explain every test text")
    parser.add_argument("--out", default=None, help="where the run folder goes (default: a temp folder)")
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from trainer.attribution.dataset import rank_words
    from trainer.config import TrainConfig
    from trainer.inspect import embedding_map as embeddings
    from trainer.inspect.label_issues import run_issues
    from trainer.inspect.projection import project
    from trainer.model.loading import load_tokenizer
    from trainer.prepare import prepare
    from trainer.runs import RunFolder, create_run, load_run
    from trainer.runs.predictor import RunModel
    from trainer.train.fit import fit

    work = Path(args.out or tempfile.mkdtemp(prefix="bench-scale-"))
    results: list[tuple[str, float | str, str]] = []

    def record(what: str, seconds: float | str, note: str = "") -> None:
        results.append((what, seconds, note))
        print(
            f"{what}: {seconds if isinstance(seconds, str) else f'{seconds:.1f} s'} {note}", file=sys.stderr
        )

    data_file = generate(work / "reviews.csv", args.rows)
    started = time.time()
    data = prepare(data_file, tokenizer=load_tokenizer("default"))
    record("data check (prepare)", time.time() - started, f"{args.rows:,} rows")
    run_dir = create_run(work / "runs", "scale")
    config = TrainConfig(max_steps=args.steps)
    RunFolder(run_dir).write_inputs(config.to_dict(), data)
    started = time.time()
    result = fit(config, data, run_dir)
    summary = result.metrics["summary"]
    record(
        "fine-tune (train)",
        summary["train_seconds"],
        f"{args.steps} steps, test macro-F1 {result.metrics['test']['macro_f1']:.3f}",
    )
    record("evaluation pass (val + test, vectors kept)", time.time() - started - summary["train_seconds"],
           f"{len(data.validation) + len(data.test):,} texts")  # fmt: skip
    folder = RunFolder(run_dir)
    record("CPU inference precision", str((folder.inference().get("finetuned") or {}).get("reason", "-")))
    run, model = load_run(run_dir), RunModel.load(run_dir)

    def first_map() -> bool:
        data_now = embeddings.load(run, "all")
        return data_now is not None

    first, full = watch(lambda: embeddings.compute(model, run, "all"), first_map)
    record("map of all examples: first map (sample, before + after)", first or float("nan"))
    record("map of all examples: full maps (before + after)", full, f"{args.rows:,} points each")
    record("backbone precision", str((folder.inference().get("backbone") or {}).get("reason", "-")))
    full_map = embeddings.load(run, "all")
    started = time.time()
    project(full_map.after, "pca")
    project(full_map.before, "pca")
    record("PCA of both full maps", time.time() - started)
    started = time.time()
    project(full_map.after, "umap")
    record("UMAP of the full after-map (fitted on 5,000, rest placed)", time.time() - started)

    test = folder.predictions()
    texts, predicted = test["text"].astype(str).tolist(), test["predicted"].astype(str).tolist()
    updates: list[float] = []
    started = time.time()
    rank_words(model, texts, predicted=predicted, on_update=lambda _f: updates.append(time.time() - started))
    record("word ranking: first answer", updates[0] if updates else float("nan"), "first batch of 8 texts")
    record("word ranking: stratified sample of 200", time.time() - started)
    if args.full_ranking:
        started = time.time()
        rank_words(model, texts, predicted=predicted, limit=None)
        record("word ranking: whole test split", time.time() - started, f"{len(texts):,} texts")

    started = time.time()
    issues = run_issues(model, run)
    record("label issues over every row", time.time() - started, f"{len(issues):,} flagged of {args.rows:,}")
    record("peak memory (resident)", f"{peak_mb():.0f} MB")

    print(f"\n{args.rows:,} rows, {os.cpu_count()} CPU cores, run folder {run_dir}\n")
    print("| step | time | note |")
    print("|---|---|---|")
    for what, seconds, note in results:
        shown = seconds if isinstance(seconds, str) else f"{seconds:.0f} s"
        print(f"| {what} | {shown} | {note} |")


if __name__ == "__main__":
    main()
