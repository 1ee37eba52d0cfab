"""Cached reads of a run folder for the pages: predictions, scores, likely label issues; CSV downloads.

Only caching and shaping for display: the logic lives in trainer/ (predictions, label_issues,
corrections). Nothing here imports torch.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import streamlit as st

from trainer.runs import Run, RunFolder


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


@st.cache_data(show_spinner=False, max_entries=16)
def _read_predictions(path: str, mtime: float) -> pd.DataFrame | None:
    return RunFolder(path).predictions()


def predictions(run: Run) -> pd.DataFrame | None:
    """The test-split predictions of `run` (cached until the file changes)."""
    return _read_predictions(str(run.path), _mtime(run.folder.predictions_file))


@st.cache_data(show_spinner=False, max_entries=16)
def _intervals(path: str, mtime: float) -> dict:
    from trainer.evaluate.uncertainty import run_intervals
    from trainer.runs import load_run

    return run_intervals(load_run(Path(path)))


def intervals(run: Run) -> dict:
    """{score: [low, high]}: 95% bootstrap intervals over the test split (cached until it changes)."""
    return _intervals(str(run.path), _mtime(run.folder.predictions_file))


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


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8")


@st.cache_data(show_spinner=False, max_entries=16)
def _weak_slices(path: str, predictions_mtime: float, issues_mtime: float) -> dict | None:
    from trainer.inspect.slices import for_run
    from trainer.runs import load_run

    report = for_run(load_run(Path(path)))
    if report is None:
        return None
    return {"overall": report.overall_error_rate, "n": report.n, "alpha": report.alpha,
            "slices": [s.to_dict() for s in report.slices]}  # fmt: skip


def weak_slices(run: Run) -> dict | None:
    """The run's weak slices (trainer.inspect.slices), cached until its predictions or label issues change."""
    return _weak_slices(str(run.path), _mtime(run.folder.predictions_file), _mtime(run.folder.issues_file))
