"""Fine-tuning speed and accuracy: Insight's `fit` against a plain Trainer script and a tutorial recipe.

All three train the same backbone on the same split of the same data (default: the project's own
English sentiment sample) and are scored on the same test split.

- insight:   trainer.train.fit.fit with TrainConfig defaults (dynamic padding, warmup + linear decay,
             epoch evals, early stopping restoring the best checkpoint).
- plain:     a plain transformers.Trainer script with DataCollatorWithPadding, batch 32, lr 5e-5,
             3 epochs (what a careful engineer writes first).
- tutorial:  the recipe common tutorials use: every text padded to 128 tokens, batch 16, lr 2e-5,
             3 epochs.

    python bench/bench_fit.py [--data sample_data/product_sentiment.csv] [--model default] [--only insight,plain]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402


def plain_trainer(data, model_name, pad_to=None, batch=32, lr=5e-5, epochs=3, seed=42):
    """A plain Trainer script; returns (seconds, test accuracy, test macro-F1, samples/s)."""
    import torch
    from sklearn.metrics import accuracy_score, f1_score
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
        set_seed,
    )

    from trainer.model.loading import resolve_model

    set_seed(seed)
    path = resolve_model(model_name)
    tok = AutoTokenizer.from_pretrained(path)
    labels = data.labels
    l2i = {x: i for i, x in enumerate(labels)}
    model = AutoModelForSequenceClassification.from_pretrained(
        path, num_labels=len(labels), dtype=torch.float32
    )

    def enc(split):
        padding = "max_length" if pad_to else False
        e = tok(split.texts, truncation=True, max_length=pad_to or 128, padding=padding)
        return [{**{k: e[k][i] for k in e}, "labels": l2i[y]} for i, y in enumerate(split.labels)]

    cuda = torch.cuda.is_available()
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(
            output_dir=out,
            per_device_train_batch_size=batch,
            learning_rate=lr,
            num_train_epochs=epochs,
            report_to="none",
            disable_tqdm=True,
            save_strategy="no",
            logging_strategy="no",
            seed=seed,
            bf16=cuda and torch.cuda.is_bf16_supported(),
            use_cpu=not cuda,
        )
        trainer = Trainer(
            model=model, args=args, train_dataset=enc(data.train), data_collator=DataCollatorWithPadding(tok)
        )
        start = time.time()
        out_metrics = trainer.train().metrics
        seconds = time.time() - start
        pred = trainer.runs.predictor(enc(data.test)).predictions.argmax(-1)
    gold = [l2i[y] for y in data.test.labels]
    return (
        seconds,
        accuracy_score(gold, pred),
        f1_score(gold, pred, average="macro"),
        out_metrics["train_samples_per_second"],
    )


def insight_fit(data, model_name, **overrides):
    from trainer.config import TrainConfig
    from trainer.runs import create_run
    from trainer.train.fit import fit

    config = TrainConfig(model=model_name, **overrides)
    with tempfile.TemporaryDirectory() as runs_dir:
        run_dir = create_run(Path(runs_dir), "bench")
        start = time.time()
        result = fit(config, data, run_dir)
        seconds = time.time() - start
    test = result.metrics["test"]
    summary = result.metrics["summary"]
    return seconds, test["accuracy"], test["macro_f1"], summary["train_samples_per_second"], summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="sample_data/product_sentiment.csv")
    parser.add_argument("--model", default="default")
    parser.add_argument("--only", default="insight,insight3,plain,tutorial")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    import torch
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    if args.threads:
        torch.set_num_threads(args.threads)
    from trainer.model.loading import load_tokenizer, pick_device
    from trainer.prepare import prepare

    data = prepare(args.data, tokenizer=load_tokenizer(args.model))
    device = pick_device()
    print(
        f"data: {args.data} ({len(data.train)} train / {len(data.validation)} val / {len(data.test)} test),"
        f" model: {args.model}, device: {device.label}, torch threads: {torch.get_num_threads()}"
    )
    if device.device == "cuda":  # warm CUDA up first so no recipe pays for kernel loading
        from trainer.data import Split

        warm = dataclasses.replace(data, train=Split(data.train.texts[:64], data.train.labels[:64]))
        plain_trainer(warm, args.model, epochs=1)
    rows = []
    wanted = args.only.split(",")
    if "insight" in wanted:
        s, acc, f1, sps, summary = insight_fit(data, args.model)
        rows.append(
            (
                "insight fit (defaults)",
                s,
                acc,
                f1,
                sps,
                f"{summary['epochs_run']} epochs, max_length {summary['max_length']}",
            )
        )
    if "insight3" in wanted:  # the same amount of work as the plain script: 3 epochs, batch 32, no early stop
        s, acc, f1, sps, summary = insight_fit(
            data, args.model, epochs=3, batch_size=32, early_stopping_patience=0
        )
        rows.append(
            (
                "insight fit, 3 epochs, batch 32",
                s,
                acc,
                f1,
                sps,
                f"max_length {summary['max_length']}, same work as plain",
            )
        )
    if "plain" in wanted:
        s, acc, f1, sps = plain_trainer(data, args.model)
        rows.append(("plain Trainer, dynamic padding", s, acc, f1, sps, "batch 32, lr 5e-5, 3 epochs"))
    if "tutorial" in wanted:
        s, acc, f1, sps = plain_trainer(data, args.model, pad_to=128, batch=16, lr=2e-5)
        rows.append(("tutorial: pad to 128, batch 16", s, acc, f1, sps, "lr 2e-5, 3 epochs"))
    print("\n| recipe | wall s (train+eval) | test accuracy | test macro-F1 | train samples/s | notes |")
    print("|---|---|---|---|---|---|")
    for name, s, acc, f1, sps, note in rows:
        print(f"| {name} | {s:.1f} | {acc:.3f} | {f1:.3f} | {sps:.0f} | {note} |")


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    np.set_printoptions(precision=3)
    main()
