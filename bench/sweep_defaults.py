"""Which TrainConfig defaults give a strong model when the user changes nothing?

Trains every combination of learning rate x batch size (epochs capped, early stopping on) on each
dataset and prints test macro-F1, epochs actually run and wall time.

    python bench/sweep_defaults.py [--data a.csv b.csv] [--model default] [--lrs 5e-5,1e-4,2e-4] [--batches 16,32]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", nargs="+", default=["sample_data/product_sentiment.csv", "sample_data/support_intents.csv"]
    )
    parser.add_argument("--model", default="default")
    parser.add_argument("--lrs", default="3e-5,5e-5,1e-4,2e-4")
    parser.add_argument("--batches", default="16,32")
    parser.add_argument("--epochs", default="5")
    parser.add_argument("--seeds", default="42")
    args = parser.parse_args()
    from transformers.utils import logging as hf_logging

    from trainer.config import TrainConfig
    from trainer.model.loading import load_tokenizer, pick_device
    from trainer.prepare import prepare
    from trainer.runs import create_run
    from trainer.train.fit import fit

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    print(f"device: {pick_device().label}")
    print(
        "| data | lr | batch | epochs (max) | seed | epochs run | val macro-F1 | test macro-F1 | test acc | wall s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    tokenizer = load_tokenizer(args.model)
    for path in args.data:
        for seed in map(int, args.seeds.split(",")):
            data = prepare(path, tokenizer=tokenizer, seed=seed)
            grid = itertools.product(
                map(float, args.lrs.split(",")),
                map(int, args.batches.split(",")),
                map(float, args.epochs.split(",")),
            )
            for lr, batch, epochs in grid:
                config = TrainConfig(
                    model=args.model,
                    task=data.task,
                    learning_rate=lr,
                    batch_size=batch,
                    epochs=epochs,
                    seed=seed,
                )
                with tempfile.TemporaryDirectory() as tmp:
                    start = time.time()
                    m = fit(config, data, create_run(Path(tmp), "sweep")).metrics
                    wall = time.time() - start
                key = "f1" if data.task == "token-classification" else "macro_f1"
                print(
                    f"| {Path(path).name} | {lr:g} | {batch} | {epochs:g} | {seed} | {m['summary']['epochs_run']} | "
                    f"{m['validation'][key]:.3f} | {m['test'][key]:.3f} | "
                    f"{m['test']['accuracy']:.3f} | {wall:.1f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
