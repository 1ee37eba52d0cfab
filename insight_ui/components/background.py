"""Background computations on a page: in-process ones (projections) and ones in their own process
(embeddings, word rankings, label issues, scorings), with a live progress bar, the error and a retry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from insight_ui import layout, state
from insight_ui.components.progress import duration
from insight_ui.safe import md
from trainer import i18n, runs
from trainer.i18n import tr
from trainer.runs.records import computation_name


def in_process(key: str, label: str, start: Callable[[], Any]) -> bool:
    """Run `start()` as an in-process computation under `key` unless done; True when its result is ready."""
    registry = state.computation_registry()
    computation = registry.get(key)
    if computation is None:
        start()
        st.rerun()
    if computation.running:

        @st.fragment(run_every=1.0)
        @layout.guarded
        def live() -> None:
            now = registry.get(key)
            if now is None or not now.running:
                st.rerun()
            st.progress(now.progress, text=label)

        live()
        return False
    if computation.error:
        st.error(md(computation.error), icon=":material/error:")
        if st.button(tr("Try again"), key=f"retry_{key}", icon=":material/refresh:"):
            registry.drop(key)
            st.rerun()
        return False
    return True


def progress_label(label: str, done: int, total: int | None, eta_seconds: float | None) -> str:
    """The text on a computation's bar: its label, how far it is and about how long is left."""
    if total and eta_seconds is not None:
        return tr(
            "{label} ({done} of {total}), about {time} left",
            label=label,
            done=i18n.number(done),
            total=i18n.number(total),
            time=duration(eta_seconds),
        )
    if total:
        return tr(
            "{label} ({done} of {total})", label=label, done=i18n.number(done), total=i18n.number(total)
        )
    if eta_seconds is not None:
        return tr("{label}, about {time} left", label=label, time=duration(eta_seconds))
    return label


def snapshot_label(label: str, snapshot: Any) -> str:
    """The bar's text for a computation's snapshot: the phase it is in (counted, with the time left, where it
    can be), else `label` with its count."""
    phase = getattr(snapshot, "phase", None)
    return progress_label(
        phase.text() if phase else label, snapshot.done, snapshot.total, snapshot.eta_seconds
    )


def job_computation(
    run_dir: Path, kind: str, label: str, stoppable: bool = False, start: bool = True, **params: Any
) -> bool:
    """A computation of a run in its own process (started unless `start` is False); True once finished.

    The process outlives a refresh or a restart of the app: the page finds it again by its name.
    """
    manager = state.job_manager()
    name = computation_name(kind, params)
    computation = manager.computation(run_dir, name)
    if computation is None or computation.status in (runs.INTERRUPTED, runs.CANCELLED):
        if not start:
            return False
        manager.forget_computation(run_dir, name)
        manager.start_computation(run_dir, kind, **params)
        st.rerun()
    if computation.status == runs.FINISHED:
        return True
    if computation.status == runs.FAILED:
        st.error(md(computation.error or tr("The computation failed.")), icon=":material/error:")
        if st.button(tr("Try again"), key=f"retry_{kind}_{name}", icon=":material/refresh:"):
            manager.forget_computation(run_dir, name)
            st.rerun()
        return False

    @st.fragment(run_every=1.0)
    @layout.guarded
    def live() -> None:
        now = manager.computation(run_dir, name)
        if now is None or not now.running:
            st.rerun()
        st.progress(now.progress, text=snapshot_label(label, now))
        if stoppable and st.button(tr("Stop"), key=f"stop_{kind}_{name}", icon=":material/stop_circle:"):
            manager.stop_computation(run_dir, name)

    live()
    return False
