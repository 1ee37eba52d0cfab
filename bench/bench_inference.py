"""Faster CPU inference: texts per second of fp32, bf16 autocast and dynamic int8, and how far each drifts.

    .venv/bin/python bench/bench_inference.py [--run RUN_DIR] [--texts 800] [--rounds 2]

Reads CR sentences (../shared/bench-data) with the pretrained backbone, or with a run's fine-tuned model
(--run: then also the share of texts whose predicted label matches fp32). Rounds alternate the order.
The product uses bf16 on the CPU only where it passes trainer.model.bf16_check's check (cosine >= 0.99 on every
text, same label on >= 99.5%); int8 is measured to show why it is not used.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run")
    parser.add_argument("--texts", type=int, default=800)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    import pandas as pd
    import torch

    from trainer.model.bf16_check import cosines, cpu_bf16_supported
    from trainer.runs.predictor import RunModel, backbone
    from trainer.tasks import get_task

    torch.set_num_threads(2)
    texts = pd.read_csv(ROOT.parent / "shared" / "bench-data" / "cr_train.csv")["text"].astype(str).tolist()
    texts = texts[: args.texts]
    task = get_task("text-classification")
    if args.run:
        loaded = RunModel.load(args.run, device="cpu")
        model, tokenizer, max_length = loaded.model, loaded.tokenizer, loaded.max_length
    else:
        model, tokenizer = backbone("default")
        max_length = 64
    int8 = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    setups = {"fp32": (model, None), "bf16 autocast": (model, "bf16"), "dynamic int8": (int8, None)}
    speed: dict[str, list[float]] = {name: [] for name in setups}
    vectors, labels = {}, {}
    for r in range(args.rounds):
        for name in list(setups) if r % 2 == 0 else list(setups)[::-1]:
            m, precision = setups[name]
            started = time.time()
            vectors[name] = task.embed(m, tokenizer, texts, max_length, precision=precision)
            speed[name].append(len(texts) / (time.time() - started))
            if args.run:
                labels[name] = task.logits(m, tokenizer, texts, max_length, precision=precision).argmax(1)
    base = statistics.median(speed["fp32"])
    print(f"\n{len(texts)} CR sentences, {'fine-tuned ' + Path(args.run).name if args.run else 'pretrained backbone'}, "
          f"CPU bf16 native: {cpu_bf16_supported()}\n")  # fmt: skip
    print("| setup | texts/s (median) | speed-up | min cosine to fp32 | mean cosine | same label as fp32 |")
    print("|---|---|---|---|---|---|")
    for name in setups:
        cos = cosines(vectors["fp32"], vectors[name])
        agree = f"{(labels[name] == labels['fp32']).mean():.1%}" if args.run else "-"
        med = statistics.median(speed[name])
        print(f"| {name} | {med:.0f} | {med / base:.2f}x | {cos.min():.4f} | {np.mean(cos):.4f} | {agree} |")


if __name__ == "__main__":
    main()
