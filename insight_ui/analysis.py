"""Read-only helpers over a run folder: predictions, confusions, label issues, corrected data.

Pure pandas/numpy; nothing here imports torch.
"""

from __future__ import annotations

import importlib
import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from insight_ui import tasks
from trainer.metrics import entity_type, span_errors
from trainer.runs import Run

ACTIONS = ("keep", "drop", "relabel")


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


@st.cache_data(show_spinner=False, max_entries=16)
def _read_predictions(path: str, mtime: float) -> pd.DataFrame | None:
    file = Path(path) / "predictions.csv"
    return pd.read_csv(file, keep_default_na=False) if file.exists() else None


def predictions(run: Run) -> pd.DataFrame | None:
    """The test-split predictions of `run` (cached until the file changes)."""
    return _read_predictions(str(run.path), _mtime(run.path / "predictions.csv"))


def text_column(frame: pd.DataFrame) -> str:
    """'text' for the text task, 'tokens' for the token task."""
    return "tokens" if "tokens" in frame.columns and "text" not in frame.columns else "text"


def probabilities(frame: pd.DataFrame, labels: list[str]) -> np.ndarray | None:
    """(N, C) class probabilities from the p_<label> columns, in `labels` order."""
    columns = [f"p_{label}" for label in labels]
    if not all(c in frame.columns for c in columns):
        return None
    return frame[columns].to_numpy(dtype=np.float64)


def scores_of(run: Run) -> tuple[str, dict]:
    """('test' or 'validation', its metrics); the test split when there is one."""
    for split in ("test", "validation"):
        if run.metrics.get(split):
            return split, run.metrics[split]
    return "test", {}


def per_class_frame(metrics: dict) -> pd.DataFrame:
    """One row per class: precision, recall, F1, support."""
    rows = metrics.get("per_class") or {}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    if frame.empty:
        return frame
    frame.index.name = "class"
    return frame[["precision", "recall", "f1", "support"]].reset_index()


def confusion_cells(frame: pd.DataFrame, task: str) -> tuple[pd.Series, pd.Series] | None:
    """Per row of predictions: (gold, predicted) for the text task; None for the token task."""
    if tasks.is_token(task):
        return None
    return frame["gold"].astype(str), frame["predicted"].astype(str)


def cell_examples(frame: pd.DataFrame, task: str, gold: str, predicted: str) -> pd.DataFrame:
    """Rows whose true label is `gold` and prediction `predicted` (token task: any word like that)."""
    if tasks.is_token(task):

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
    return sorted({entity_type(label) for label in labels} - {"O"})


def misclassified(frame: pd.DataFrame) -> pd.DataFrame:
    """Wrong predictions, most confident first (the most surprising mistakes on top)."""
    if "correct" in frame.columns:
        wrong = frame[~frame["correct"].astype(str).str.lower().isin(["true", "1"])]
    else:
        wrong = frame[frame["gold"].astype(str) != frame["predicted"].astype(str)]
    return wrong.sort_values("confidence", ascending=False)


# ---------------------------------------------------------------- label issues


def label_issues_module() -> Any | None:
    """trainer.label_issues when it exists."""
    try:
        return importlib.import_module("trainer.label_issues")
    except ImportError:
        return None


def find_issues(frame: pd.DataFrame, labels: list[str]) -> pd.DataFrame | None:
    """Likely mislabeled test rows (row in predictions.csv, text, given, suggested, quality), worst first.

    None when trainer.label_issues is missing or the predictions have no probabilities.
    """
    module = label_issues_module()
    probs = probabilities(frame, labels)
    if module is None or probs is None or not len(frame):
        return None
    given = frame["gold"].astype(str)
    keep = given.isin(labels).to_numpy()
    rows = np.flatnonzero(keep)
    issues = module.find_label_issues(list(given[keep]), probs[keep], labels)
    column = text_column(frame)
    records = [
        {
            "row": int(rows[issue.index]),
            "text": frame.iloc[int(rows[issue.index])][column],
            "given label": issue.given,
            "suggested label": issue.suggested,
            "label quality": float(issue.score),
        }
        for issue in issues
    ]
    return pd.DataFrame(records, columns=["row", "text", "given label", "suggested label", "label quality"])


@st.cache_data(show_spinner="Looking for likely label issues…", max_entries=8)
def _cached_issues(run_path: str, mtime: float, labels: list[str]) -> pd.DataFrame | None:
    frame = _read_predictions(run_path, mtime)
    return None if frame is None else find_issues(frame, labels)


def issues_of(run: Run) -> pd.DataFrame | None:
    """`find_issues` on the run's test predictions (cached until predictions.csv changes)."""
    if not tasks.supports_label_issues(run.task):
        return None
    return _cached_issues(str(run.path), _mtime(run.path / "predictions.csv"), list(run.labels))


def corrected_dataset(run: Run, actions: dict[int, str]) -> pd.DataFrame:
    """All splits of the run (text,label) with the test rows' actions applied: drop or relabel."""
    parts = []
    for split in ("train", "validation", "test"):
        part = run.split(split)
        if part is None or part.empty:
            continue
        part = part.rename(columns={"tokens": "text", "tags": "label"})[["text", "label"]].copy()
        if split == "test":
            drop = []
            for row, action in actions.items():
                if row >= len(part):
                    continue
                if action == "drop":
                    drop.append(row)
                elif action.startswith("relabel:"):
                    part.iloc[row, part.columns.get_loc("label")] = action.split(":", 1)[1]
            part = part.drop(index=part.index[drop])
        parts.append(part)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["text", "label"])


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8")
