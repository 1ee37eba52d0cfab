"""Two or more runs side by side: scores with intervals, paired tests, and where they differ.

The first run is the baseline; every other run is compared with it. Runs are paired only when they
were tested on the same examples (the same texts with the same gold labels; the order may differ):
then McNemar's test (accuracy) and a paired bootstrap (F1) say whether a difference is more than chance,
and the examples on which their predictions disagree are listed. Runs on different test data are
compared on their scores and intervals only, and `pairing` says why.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trainer import i18n
from trainer.evaluate import uncertainty
from trainer.i18n import N_, tr
from trainer.runs import Run, read_json

SETTINGS = ("model", "pooling", "epochs", "batch_size", "learning_rate", "max_length", "weight_decay", "warmup_ratio",
            "gradient_accumulation_steps", "class_weights", "early_stopping_patience", "lora", "seed",
            "val_fraction", "test_fraction", "max_steps")  # fmt: skip
RESOLVED = ("epochs", "max_length", "device", "learning_rate", "pooling")  # what fine-tuning chose


@dataclass
class Side:
    """One run as the comparison reads it."""

    run: Run
    name: str
    frame: pd.DataFrame  # its test predictions (text or tokens, gold, predicted, confidence)
    counts: uncertainty.Counts

    @property
    def kind(self) -> str:
        return self.run.adapter.interval_unit


def side(run: Run) -> Side:
    frame = run.predictions()
    if frame is None or "gold" not in frame.columns:
        raise ValueError(tr('The run "{name}" has no test predictions to compare.', name=run.info.name))
    kind = run.adapter.interval_unit
    return Side(
        run, run.info.name, frame, uncertainty.counts_of(kind, frame, run.labels if kind == "text" else None)
    )


def sides_of(runs: Sequence[Run]) -> list[Side]:
    """Every run as a Side, named so that two runs of the same name stay apart (their folder added)."""
    sides = [side(r) for r in runs]
    counts = Counter(s.name for s in sides)
    for s in sides:
        if counts[s.name] > 1:
            s.name = f"{s.name} ({s.run.path.name})"
    return sides


def check_runs(runs: Sequence[Run]) -> None:
    """Two or more finished runs of one task, or a ValueError that says what is wrong."""
    if len(runs) < 2:
        raise ValueError(tr("Pick at least two runs to compare."))
    if len({r.path.resolve() for r in runs}) < len(runs):
        raise ValueError(tr("The same run is listed twice; pick different runs."))
    tasks = {r.adapter.name for r in runs}
    if len(tasks) > 1:
        raise ValueError(tr("These runs do different tasks (text classification and named entities); compare runs of one task."))  # fmt: skip


def _keys(frame: pd.DataFrame) -> list[str]:
    column = "tokens" if "tokens" in frame.columns and "text" not in frame.columns else "text"
    seen: Counter = Counter()
    keys = []
    for text, gold in zip(frame[column].astype(str), frame["gold"].astype(str), strict=True):
        key = f"{text}\x00{gold}"
        keys.append(f"{key}\x00{seen[key]}")
        seen[key] += 1
    return keys


def pairing(a: Side, b: Side) -> tuple[np.ndarray | None, str]:
    """(the order of b's rows that lines them up with a's, '') when both were tested on the same examples;
    else (None, why not)."""
    ka, kb = _keys(a.frame), _keys(b.frame)
    if ka == kb:
        return np.arange(len(kb)), ""
    if sorted(ka) == sorted(kb):
        where = {k: i for i, k in enumerate(kb)}
        return np.array([where[k] for k in ka]), ""
    shared = len(set(ka) & set(kb))
    return None, tr(
        "{b} was tested on other examples than {a} ({shared} of {total} in common): "
        "their scores come from different data, so they are compared on scores and intervals only, "
        "with no paired test. Train both on the same data (the same file and seed, or a split column) "
        "to pair them.",
        b=b.name,
        a=a.name,
        shared=i18n.number(shared),
        total=i18n.number(len(ka)),
    )


def same_order(order: np.ndarray | None) -> bool:
    """Whether a pairing leaves b's rows where they are: the same test split in the same order, which results
    kept by row position (the behavioural tests' changed and failed rows) need to be followed row by row."""
    return order is not None and bool(np.array_equal(order, np.arange(len(order))))


def aligned(b: Side, order: np.ndarray) -> Side:
    frame = b.frame.iloc[order].reset_index(drop=True)
    counts = uncertainty.Counts(b.counts.kind, b.counts.classes, b.counts.matrix[order])
    return Side(b.run, b.name, frame, counts)


def headline_scores(sides: Sequence[Side]) -> pd.DataFrame:
    """One row per run and score: value and its 95% interval."""
    rows = []
    for s in sides:
        values = uncertainty.scores(s.counts)
        found = uncertainty.intervals(s.counts)
        for card in s.run.adapter.metric_cards:
            if card.key in values:
                low, high = found.get(card.key, [np.nan, np.nan])
                rows.append({"run": s.name, "score": card.title, "key": card.key, "value": float(values[card.key]),
                             "low": low, "high": high, "n": s.counts.n})  # fmt: skip
    return pd.DataFrame(rows)


def paired_tests(a: Side, b: Side) -> list[uncertainty.Paired]:
    """The headline score's paired test, and accuracy's (McNemar) for text runs."""
    keys = ("accuracy", "macro_f1") if a.kind == "text" else ("f1", "token_accuracy")
    return [uncertainty.paired(a.counts, b.counts, key) for key in keys]


def titles(run: Run) -> dict[str, str]:
    """Each score key's title (English catalogue ids: translate them with tr where shown)."""
    return {card.key: card.title for card in run.adapter.metric_cards} | {"f1": N_("entity F1")}


def per_class_deltas(a: Side, b: Side) -> pd.DataFrame:
    """Per class (or entity type): F1 of each run and B - A, largest change first."""
    pa, pb = (s.run.metrics.get("test", {}).get("per_class") or {} for s in (a, b))
    rows = [
        {
            "class": c,
            "f1_a": pa.get(c, {}).get("f1", 0.0),
            "f1_b": pb.get(c, {}).get("f1", 0.0),
            "support": pa.get(c, pb.get(c, {})).get("support", 0),
        }  # fmt: skip
        for c in sorted(set(pa) | set(pb))
    ]
    frame = pd.DataFrame(rows, columns=["class", "f1_a", "f1_b", "support"])
    frame["delta"] = frame["f1_b"] - frame["f1_a"]
    return frame.sort_values("delta", key=np.abs, ascending=False).reset_index(drop=True)


def confusion_difference(a: Side, b: Side) -> tuple[list[str], np.ndarray]:
    """(labels, B's confusion matrix - A's): rows gold, columns predicted, over the union of labels."""
    ca, cb = (s.run.metrics.get("test", {}).get("confusion_matrix") or {} for s in (a, b))
    labels = list(dict.fromkeys([*ca.get("labels", []), *cb.get("labels", [])]))
    out = np.zeros((len(labels), len(labels)), dtype=int)
    for sign, cm in ((-1, ca), (1, cb)):
        index = [labels.index(x) for x in cm.get("labels", [])]
        for i, row in zip(index, cm.get("matrix", []), strict=False):
            for j, value in zip(index, row, strict=False):
                out[i, j] += sign * int(value)
    return labels, out


def settings_that_differ(runs: Sequence[Run], names: Sequence[str] | None = None) -> pd.DataFrame:
    """The settings (as asked, and as resolved: epochs, max length, device, ...) that are not the same in every
    run; one column per run, under `names` (default: the runs' names)."""
    rows = {}
    for run, name in zip(runs, names or [r.info.name for r in runs], strict=True):
        resolved = read_json(run.folder.resolved_file, {}) or {}
        values = {k: run.config.get(k) for k in SETTINGS}
        values |= {f"{k} (used)": v for k, v in resolved.items() if k in RESOLVED}
        values["test examples"] = (run.metrics.get("test") or {}).get("n")
        rows[name] = values
    frame = pd.DataFrame(rows).astype(object)
    frame = frame.where(frame.notna(), "–").map(str)  # "not set" is a value too
    differ = frame.nunique(axis=1) > 1
    return frame[differ].rename_axis("setting").reset_index()


def curves(runs: Sequence[Run], names: Sequence[str] | None = None) -> list[tuple[str, pd.DataFrame]]:
    """Each run's validation scores per epoch (for one chart)."""
    out = []
    for run, name in zip(runs, names or [r.info.name for r in runs], strict=True):
        events = [e for e in run.folder.history() if e.get("kind") == "eval"]
        rows = [{"epoch": e.get("epoch"), **{k: v for k, v in (e.get("metrics") or {}).items() if k != "epoch"}}
                for e in events]  # fmt: skip
        out.append((name, pd.DataFrame(rows)))
    return out


def disagreements(a: Side, b: Side) -> pd.DataFrame:
    """The test examples on which A and B predict differently, with who is right."""
    column = "tokens" if "tokens" in a.frame.columns and "text" not in a.frame.columns else "text"
    fa, fb = a.frame, b.frame
    differ = fa["predicted"].astype(str).to_numpy() != fb["predicted"].astype(str).to_numpy()
    gold = fa["gold"].astype(str)
    right_a = fa["predicted"].astype(str) == gold
    right_b = fb["predicted"].astype(str) == gold
    who = np.select(
        [right_a & ~right_b, ~right_a & right_b, ~right_a & ~right_b], ["A", "B", "neither"], "both"
    )
    frame = pd.DataFrame(
        {
            "text": fa[column].astype(str),
            "gold": gold,
            "predicted_a": fa["predicted"].astype(str),
            "confidence_a": fa["confidence"],
            "predicted_b": fb["predicted"].astype(str),
            "confidence_b": fb["confidence"],
            "right": who,
        }  # fmt: skip
    )
    return frame[differ].reset_index(drop=True)


def compare(runs: Sequence[Run]) -> dict:
    """Everything the CLI prints (and --json writes): scores with intervals, pairs, deltas, settings."""
    check_runs(runs)
    sides = sides_of(runs)
    base = sides[0]
    out = {
        "runs": [{"name": s.name, "id": s.run.path.name, "test_examples": s.counts.n} for s in sides],
        "scores": headline_scores(sides).to_dict("records"),
        "pairs": [],
        "settings": settings_that_differ(runs, [s.name for s in sides]).to_dict("records"),
    }
    names = titles(base.run)
    for other in sides[1:]:
        order, why = pairing(base, other)
        pair = {"a": base.name, "b": other.name, "paired": order is not None, "why_not": why or None}
        if order is not None:
            other = aligned(other, order)
            tests = paired_tests(base, other)
            pair["tests"] = [
                {
                    "score": t.score,
                    "a": t.a,
                    "b": t.b,
                    "difference": t.difference,
                    "low": t.low,
                    "high": t.high,
                    "p_value": t.p_value,
                    "test": t.test,
                    "sentence": uncertainty.in_words(t, base.name, other.name, names.get(t.score, t.score)),
                }  # fmt: skip
                for t in tests
            ]
            pair["disagreements"] = int(len(disagreements(base, other)))
        pair["per_class"] = per_class_deltas(base, other).to_dict("records")
        out["pairs"].append(pair)
    return out
