"""Scores for both tasks: accuracy and F1s, per-class tables, confusion matrices."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def classification_scores(gold: Sequence[str], predicted: Sequence[str], labels: list[str]) -> dict:
    """Accuracy, macro/micro/weighted F1, per-class P/R/F1/support and the confusion matrix."""
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    if len(gold) == 0:
        return {"n": 0}
    gold, predicted = list(gold), list(predicted)
    scores: dict[str, Any] = {"n": len(gold), "accuracy": float(accuracy_score(gold, predicted))}
    for average in ("macro", "micro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(
            gold, predicted, labels=labels, average=average, zero_division=0
        )
        scores[f"{average}_f1"] = float(f)
        scores[f"{average}_precision"] = float(p)
        scores[f"{average}_recall"] = float(r)
    p, r, f, s = precision_recall_fscore_support(
        gold, predicted, labels=labels, average=None, zero_division=0
    )
    scores["per_class"] = {
        label: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
        for i, label in enumerate(labels)
    }
    scores["confusion_matrix"] = {
        "labels": labels,  # rows: gold, columns: predicted
        "matrix": confusion_matrix(gold, predicted, labels=labels).tolist(),
    }
    return scores


def entity_type(tag: str) -> str:
    """'B-PER' -> 'PER'; 'O' -> 'O'."""
    return tag.split("-", 1)[1] if "-" in tag else tag


_CONTINUE = ("I", "E", "M", "L")
_LAST = ("E", "L", "S", "U")


def entity_spans(tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """(start, end exclusive, type) of each entity in a BIO/IOBES/BMES tag sequence.

    Lenient like conlleval: an I-/E-/M- tag that does not continue an open entity of its type
    starts one, so a model's invalid sequence still shows what it marked.
    """
    spans: list[tuple[int, int, str]] = []
    start, kind = -1, ""
    for i, tag in enumerate(tags):
        prefix, _, name = str(tag).partition("-")
        if not name:
            if kind:
                spans.append((start, i, kind))
            start, kind = -1, ""
            continue
        prefix = prefix.upper()
        if not (kind == name and prefix in _CONTINUE):
            if kind:
                spans.append((start, i, kind))
            start, kind = i, name
        if prefix in _LAST:
            spans.append((start, i + 1, kind))
            start, kind = -1, ""
    if kind:
        spans.append((start, len(tags), kind))
    return spans


def span_errors(
    gold: Sequence[str], predicted: Sequence[str]
) -> tuple[set[tuple[int, int, str]], set[tuple[int, int, str]]]:
    """(gold entities the model missed, predicted entities that are wrong): exact span and type."""
    g, p = set(entity_spans(gold)), set(entity_spans(predicted))
    return g - p, p - g


def token_scores(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> dict:
    """Entity-level P/R/F1 per type and micro/macro (seqeval), token accuracy, type confusion."""
    from seqeval.metrics import classification_report
    from seqeval.metrics import f1_score as seq_f1

    gold, predicted = [list(g) for g in gold], [list(p) for p in predicted]
    if not gold:
        return {"n": 0}
    flat_gold = [t for s in gold for t in s]
    flat_pred = [t for s in predicted for t in s]
    report = classification_report(gold, predicted, output_dict=True, zero_division=0)
    per_type = {
        k: {
            "precision": float(v["precision"]),
            "recall": float(v["recall"]),
            "f1": float(v["f1-score"]),
            "support": int(v["support"]),
        }
        for k, v in report.items()
        if not k.endswith(" avg")
    }
    types = sorted({entity_type(t) for t in flat_gold + flat_pred} - {"O"}) + ["O"]
    index = {t: i for i, t in enumerate(types)}
    matrix = np.zeros((len(types), len(types)), dtype=int)
    for g, p in zip(flat_gold, flat_pred, strict=True):
        matrix[index[entity_type(g)], index[entity_type(p)]] += 1
    macro = report.get("macro avg", {})
    micro = report.get("micro avg", {})
    return {
        "n": len(gold),
        "f1": float(seq_f1(gold, predicted, zero_division=0)),
        "micro_f1": float(micro.get("f1-score", 0.0)),
        "micro_precision": float(micro.get("precision", 0.0)),
        "micro_recall": float(micro.get("recall", 0.0)),
        "macro_f1": float(macro.get("f1-score", 0.0)),
        "token_accuracy": float(np.mean([g == p for g, p in zip(flat_gold, flat_pred, strict=True)])),
        "accuracy": float(np.mean([g == p for g, p in zip(flat_gold, flat_pred, strict=True)])),
        "per_class": per_type,
        "confusion_matrix": {"labels": types, "matrix": matrix.tolist()},
    }
