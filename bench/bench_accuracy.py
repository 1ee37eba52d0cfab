"""Accuracy of the defaults on public benchmarks: Insight's `fit` against a plain Trainer script and the
tutorial recipe, several seeds, mean and spread, with wall time.

    .venv/bin/python bench/bench_accuracy.py [--datasets cr,trec,wikiann] [--recipes insight,plain,tutorial]
                                             [--seeds 1,2,3] [--model default]

Data: ../shared/bench-data (CR and TREC sentences for text classification, WikiANN English for named
entities): each *_train file trains (Insight sets 10% of it aside for validation and early stopping; the
scripts train on all of it), each *_test file scores. Recipes:

- insight:   trainer.train.fit.fit with TrainConfig defaults (what a user who changes nothing gets).
- plain:     a plain transformers.Trainer script: dynamic padding, batch 16, lr 2e-5, 3 epochs, no
             warmup (the script people write from the transformers docs).
- tutorial:  the same but every text padded to 128 tokens (the common tutorial recipe).

Text is scored by accuracy (and macro-F1), entities by seqeval's entity F1. Prints one row per dataset and
recipe (mean ± standard deviation over the seeds) and each seed's numbers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "bench-data"
FILES = {
    "cr": ("cr_train.csv", "cr_test.csv"),
    "trec": ("trec_train.csv", "trec_test.csv"),
    "wikiann": ("wikiann_train.conll", "wikiann_test.conll"),
}


def insight(data, model: str, seed: int) -> dict:
    from trainer.config import TrainConfig
    from trainer.runs import create_run
    from trainer.train.fit import fit

    with tempfile.TemporaryDirectory() as runs:
        start = time.time()
        result = fit(
            TrainConfig(model=model, task=data.task, seed=seed), data, create_run(Path(runs), "bench")
        )
        seconds = time.time() - start
    test, summary = result.metrics["test"], result.metrics["summary"]
    return {"seconds": seconds, "accuracy": test.get("accuracy"), "macro_f1": test.get("macro_f1"),
            "f1": test.get("f1"), "epochs": summary.get("epochs_run")}  # fmt: skip


def script(data, model: str, seed: int, pad_to: int | None) -> dict:
    """The plain Trainer script (pad_to None) or the tutorial recipe (pad_to 128), for either task."""
    import numpy as np
    import torch
    from transformers import (
        AutoModelForSequenceClassification,
        AutoModelForTokenClassification,
        AutoTokenizer,
        DataCollatorForTokenClassification,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
        set_seed,  # fmt: skip
    )

    from trainer.model.loading import resolve_model

    set_seed(seed)
    path = resolve_model(model)
    tok = AutoTokenizer.from_pretrained(path)
    words = data.train.tokens is not None
    labels = data.labels
    index = {x: i for i, x in enumerate(labels)}
    auto = AutoModelForTokenClassification if words else AutoModelForSequenceClassification
    net = auto.from_pretrained(path, num_labels=len(labels), id2label=dict(enumerate(labels)), label2id=index,
                               dtype=torch.float32)  # fmt: skip
    padding = "max_length" if pad_to else False

    def encode(split):
        if not words:
            enc = tok(split.texts, truncation=True, max_length=pad_to or 128, padding=padding)
            return [{**{k: enc[k][i] for k in enc}, "labels": index[y]} for i, y in enumerate(split.labels)]
        enc = tok(
            split.tokens, is_split_into_words=True, truncation=True, max_length=pad_to or 128, padding=padding
        )
        rows = []
        for i, tags in enumerate(split.labels):
            previous, target = None, []
            for w in enc.word_ids(i):
                target.append(-100 if w is None or w == previous else index[tags[w]])
                previous = w
            rows.append({**{k: enc[k][i] for k in enc}, "labels": target})
        return rows

    collator = DataCollatorForTokenClassification(tok) if words else DataCollatorWithPadding(tok)
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(output_dir=out, per_device_train_batch_size=16, learning_rate=2e-5, num_train_epochs=3,
                                 report_to="none", disable_tqdm=True, save_strategy="no", logging_strategy="no",
                                 seed=seed, use_cpu=not torch.cuda.is_available())  # fmt: skip
        trainer = Trainer(model=net, args=args, train_dataset=encode(data.train), data_collator=collator)
        start = time.time()
        trainer.train()
        test = encode(data.test)
        output = trainer.runs.predictor(test)
        seconds = time.time() - start
    predicted = output.predictions.argmax(-1)
    if not words:
        from sklearn.metrics import accuracy_score, f1_score

        gold = [index[y] for y in data.test.labels]
        return {"seconds": seconds, "accuracy": float(accuracy_score(gold, predicted)),
                "macro_f1": float(f1_score(gold, predicted, average="macro")), "f1": None, "epochs": 3}  # fmt: skip
    from seqeval.metrics import f1_score as entity_f1

    found = []
    for row, guess in zip(test, predicted, strict=True):
        found.append([labels[g] for g, t in zip(guess, row["labels"], strict=False) if t != -100])
    gold = [list(t) for t in data.test.labels]
    found = [f + ["O"] * (len(g) - len(f)) for f, g in zip(found, gold, strict=True)]  # truncated words: O
    accuracy = float(
        np.mean([a == b for f, g in zip(found, gold, strict=True) for a, b in zip(f, g, strict=True)])
    )
    return {
        "seconds": seconds,
        "accuracy": accuracy,
        "macro_f1": None,
        "f1": float(entity_f1(gold, found)),
        "epochs": 3,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="cr,trec,wikiann")
    parser.add_argument("--recipes", default="insight,plain,tutorial")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    import torch
    from transformers.utils import logging as hf_logging

    from trainer.prepare import prepare

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"model {args.model}; torch {torch.__version__}, {torch.get_num_threads()} threads, CUDA "
          f"{torch.cuda.is_available()}; seeds {seeds}; {time.strftime('%Y-%m-%d %H:%M')}", flush=True)  # fmt: skip
    table = []
    for name in args.datasets.split(","):
        train, test = FILES[name]
        data = prepare(DATA / train, test_data=DATA / test)
        metric = "f1" if data.train.tokens is not None else "accuracy"
        for recipe in args.recipes.split(","):
            runs = []
            for seed in seeds:
                run = (insight(data, args.model, seed) if recipe == "insight"
                       else script(data, args.model, seed, 128 if recipe == "tutorial" else None))  # fmt: skip
                runs.append(run)
                print(f"  {name} {recipe} seed {seed}: {metric} {run[metric]:.4f}, {run['seconds']:.0f} s, "
                      f"{run['epochs']} epochs", flush=True)  # fmt: skip
            values = [r[metric] for r in runs]
            spread = statistics.stdev(values) if len(values) > 1 else 0.0
            table.append((name, recipe, metric, statistics.mean(values), spread, statistics.mean(r["seconds"] for r in runs),
                          len(data.train), len(data.test)))  # fmt: skip
    print("\n| data | recipe | test score | mean ± sd | mean wall s | train / test |")
    print("|---|---|---|---|---|---|")
    for name, recipe, metric, mean, spread, seconds, n_train, n_test in table:
        print(
            f"| {name} | {recipe} | {metric} | {mean:.4f} ± {spread:.4f} | {seconds:.0f} | {n_train:,} / {n_test:,} |"
        )


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
