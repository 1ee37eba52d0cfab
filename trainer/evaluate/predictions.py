"""Reading a predictions table (predictions.csv): mistakes, confusion cells, entity errors.

The predictions themselves (Predictions, TagPredictions) and how each task writes its table live in
its adapter (trainer/tasks/text.py, trainer/tasks/token.py).
"""

from __future__ import annotations

import pandas as pd

# ---------------------------------------------------------------- reading a predictions table


def text_column(frame: pd.DataFrame) -> str:
    """'text' for a text-task table, 'tokens' for a token-task table."""
    return "tokens" if "tokens" in frame.columns and "text" not in frame.columns else "text"


def misclassified(frame: pd.DataFrame) -> pd.DataFrame:
    """Wrong predictions, most confident first (the most surprising mistakes on top)."""
    if "correct" in frame.columns:
        wrong = frame[~frame["correct"].astype(str).str.lower().isin(["true", "1"])]
    else:
        wrong = frame[frame["gold"].astype(str) != frame["predicted"].astype(str)]
    return wrong.sort_values("confidence", ascending=False)


def cell_rows(frame: pd.DataFrame, gold: str, predicted: str, by_word: bool) -> pd.DataFrame:
    """Rows whose true class is `gold` and prediction `predicted`, most confident first.

    `by_word`: each row is a sentence with a tag per word; a row counts when any word's true entity
    type is `gold` and its predicted one `predicted`.
    """
    if by_word:
        from trainer.evaluate.metrics import entity_type

        def has_pair(row: pd.Series) -> bool:
            pairs = zip(str(row["gold"]).split(), str(row["predicted"]).split(), strict=False)
            return any(entity_type(g) == gold and entity_type(p) == predicted for g, p in pairs)

        mask = frame.apply(has_pair, axis=1) if len(frame) else pd.Series([], dtype=bool)
    else:
        mask = (frame["gold"].astype(str) == gold) & (frame["predicted"].astype(str) == predicted)
    return frame[mask].sort_values("confidence", ascending=False)


def biggest_confusion(labels: list[str], matrix: list[list[int]]) -> tuple[str, str]:
    """The most frequent off-diagonal (gold, predicted) pair, else the first diagonal cell."""
    best, pair = -1, (labels[0], labels[0]) if labels else ("", "")
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            if i != j and value > best and value > 0:
                best, pair = value, (labels[i], labels[j])
    return pair


def entity_errors(frame: pd.DataFrame) -> pd.DataFrame:
    """Token-task predictions with `missed` and `wrong` entity counts per sentence, worst first."""
    from trainer.evaluate.metrics import span_errors

    out = frame.copy()
    pairs = [
        span_errors(str(g).split(), str(p).split())
        for g, p in zip(out["gold"], out["predicted"], strict=True)
    ]
    out["missed"] = [len(m) for m, _ in pairs]
    out["wrong"] = [len(w) for _, w in pairs]
    out["errors"] = out["missed"] + out["wrong"]
    return out.sort_values(["errors", "confidence"], ascending=[False, True], kind="stable")


def entity_types(labels: list[str]) -> list[str]:
    """The entity types behind a run's tags (B-PER, I-PER -> PER), for a stable colour per type."""
    from trainer.evaluate.metrics import entity_type

    return sorted({entity_type(label) for label in labels} - {"O"})
