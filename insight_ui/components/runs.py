"""Run lists and pickers: every page that analyses a run starts with `run_selector`."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import streamlit as st

from insight_ui import auth, state
from trainer import i18n
from trainer import runs as run_store
from trainer.access import owners
from trainer.i18n import tr
from trainer.runs.records import status_name
from trainer.tasks import get_task

STATUS_ICONS = {  # symbols every system font has (emoji fonts are not everywhere)
    "queued": "◷",
    "running": "▶",
    "finished": "✓",
    "failed": "✗",
    "cancelled": "■",
    "interrupted": "⚠",
}


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts)) if ts else ""


def model_name(model: str | None) -> str:
    """A short name for a backbone: a local folder's name, else the id as typed."""
    if not model:
        return ""
    path = Path(model).expanduser()
    return path.name if path.is_absolute() or path.exists() else model


def headline_in_words(r: run_store.RunInfo) -> str:
    """A run's headline score as people read it: "average over labels 91%" (the technical name is the
    Evaluate page's, one hover away)."""
    if r.metric is None:
        return ""
    name = tr(get_task(r.task).headline_plain) if r.task else tr(r.metric_name or "")
    return f"{name} {i18n.percent(r.metric)}"


def runs_frame(items: list[run_store.RunInfo]) -> pd.DataFrame:
    """One row per run, for the run list."""
    return pd.DataFrame(
        {
            tr("status"): [f"{STATUS_ICONS.get(r.status, '')} {status_name(r.status)}" for r in items],
            tr("name"): [r.name for r in items],
            tr("score"): [headline_in_words(r) for r in items],
            tr("model"): [model_name(r.model) for r in items],
            tr("task"): [tr(get_task(r.task).short) for r in items],
            tr("started"): [_when(r.created) for r in items],
            tr("run folder"): [r.id for r in items],
        }
    )


def runs_table(items: list[run_store.RunInfo], key: str = "runs_table") -> run_store.RunInfo | None:
    """The run list; selecting a row returns that run."""
    event = st.dataframe(
        runs_frame(items),
        column_config={tr("score"): st.column_config.TextColumn(width="medium")},
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key=key,
        width="stretch",
    )
    rows = event.selection.rows if event is not None else []
    return items[rows[0]] if rows else None


def finished_runs() -> list[run_store.RunInfo]:
    """Runs with a saved model, newest first."""
    return [r for r in visible_runs() if r.has_model]


def visible_runs() -> list[run_store.RunInfo]:
    """The runs the person using the app may see (their own, shared with them; every run for an admin)."""
    person = auth.me()  # once: who is signed in is read from the session and the accounts file
    return [r for r in run_store.list_runs(state.runs_dir()) if owners.can_see(person, r.path)]


def run_selector(key: str) -> run_store.Run | None:
    """A 'Run' picker defaulting to the current run; changes the current run. None when there is none."""
    items = finished_runs()
    if not items:
        return None
    paths = [str(r.path) for r in items]
    current = state.get(state.CURRENT_RUN)
    index = paths.index(current) if current in paths else 0
    labels = {
        str(r.path): f"{r.name} · {headline_in_words(r)}" if r.metric is not None else r.name for r in items
    }
    chosen = st.selectbox(
        tr("Run"),
        paths,
        index=index,
        format_func=lambda p: f"{labels[p]}  ({Path(p).name})",
        key=key,
        help=tr("Which fine-tuned model to look at. Train more on the Train page."),
    )
    if chosen != current:
        state.set_current_run(chosen)
    return run_store.load_run(Path(chosen))
