"""Small datasets written by the tests themselves (importable as `helpers` from test modules)."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pandas as pd

POSITIVE = ["great", "love", "excellent", "wonderful", "perfect", "happy", "fantastic", "superb"]
NEGATIVE = ["awful", "hate", "terrible", "broken", "refund", "angry", "worst", "useless"]
NEUTRAL = ["the", "box", "arrived", "today"]


def sentiment_csv(path: Path, n: int = 90, seed: int = 0) -> Path:
    """A 3-class sentiment CSV (text,label) whose classes are separable by their words."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = ["positive", "negative", "neutral"][i % 3]
        words = {"positive": POSITIVE, "negative": NEGATIVE, "neutral": NEUTRAL}[label]
        text = f"{rng.choice(words)} {rng.choice(words)} item number {i} {rng.choice(words)}"
        rows.append({"text": text, "label": label})
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


PEOPLE = [["Anna", "Berg"], ["Tom", "Okafor"], ["Lise"], ["Marco", "de", "Luca"], ["Priya", "Raman"]]
ORGS = [["Nordwind", "Bank"], ["Acme"], ["Helios", "Energy", "Group"], ["Tarn", "Labs"]]
PLACES = [["Oslo"], ["New", "York"], ["Lagos"], ["Buenos", "Aires"], ["Kyoto"]]
FRAMES = [
    ["{PER}", "joined", "{ORG}", "in", "{LOC}", "."],
    ["{ORG}", "opened", "an", "office", "in", "{LOC}", "last", "week", "."],
    ["{PER}", "met", "{PER}", "at", "the", "{ORG}", "summit", "."],
    ["Shares", "of", "{ORG}", "rose", "after", "{PER}", "spoke", "."],
    ["Rain", "is", "expected", "in", "{LOC}", "tomorrow", "."],
]


def conll_file(path: Path, n: int = 60, seed: int = 0) -> Path:
    """A CoNLL file (token TAG per line, blank line between sentences) with PER/ORG/LOC entities."""
    rng = random.Random(seed)
    pools = {"PER": PEOPLE, "ORG": ORGS, "LOC": PLACES}
    lines = ["-DOCSTART- O", ""]
    for _ in range(n):
        for slot in rng.choice(FRAMES):
            if slot.startswith("{"):
                kind = slot[1:-1]
                for j, word in enumerate(rng.choice(pools[kind])):
                    lines.append(f"{word} {'B' if j == 0 else 'I'}-{kind}")
            else:
                lines.append(f"{slot} O")
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


LABELS = ["negative", "neutral", "positive"]


def fake_run(runs: Path, name: str, gold: list[str], predicted: list[str], texts: list[str] | None = None,
             lr: float = 1e-4, epochs_seen: tuple[float, ...] = (0.6, 0.7)) -> Path:  # fmt: skip
    """A finished text run folder as fine-tuning leaves it, minus the weights (Compare never loads them)."""
    from trainer.evaluate.metrics import classification_scores
    from trainer.runs import RunFolder, create_run, write_json

    run_dir = create_run(runs, name)
    folder = RunFolder(run_dir)
    write_json(
        folder.config_file,
        {"model": "default", "task": "text-classification", "learning_rate": lr, "seed": 42},
    )
    write_json(folder.labels_file, LABELS)
    texts = texts or [f"text number {i}" for i in range(len(gold))]
    frame = pd.DataFrame({"text": texts, "gold": gold, "predicted": predicted, "confidence": 0.8})
    folder.write_predictions(frame)
    folder.write_metrics({"test": classification_scores(gold, predicted, LABELS)})
    folder.write_history(
        [{"kind": "eval", "epoch": i + 1.0, "metrics": {"macro_f1": v}} for i, v in enumerate(epochs_seen)]
    )
    (folder.model_dir).mkdir()
    write_json(folder.model_dir / "config.json", {})
    folder.write_status("finished", name=name)
    return run_dir


def news_file(path: Path, rows: int, seed: int = 0, words: list[list[str]] | None = None) -> Path:
    """Dated, grouped texts in the training data's style (or made of `words`)."""
    rng = np.random.default_rng(seed)
    pools = words or [POSITIVE, NEGATIVE, NEUTRAL]
    start = pd.Timestamp("2026-05-04")
    frame = pd.DataFrame(
        {
            "when": [
                (start + pd.Timedelta(hours=int(h))).isoformat() for h in rng.integers(0, 24 * 70, rows)
            ],
            "channel": rng.choice(["web", "app", "mail"], rows),
            "message": [
                f"{rng.choice(p)} {rng.choice(p)} item number {i} {rng.choice(p)}"
                for i, p in enumerate(pools[j % len(pools)] for j in range(rows))
            ],
        }
    )
    frame.to_csv(path, index=False)
    return path
