""" "Keep watching this" on the Apply page: a one-off scoring with dates becomes a monitor, its rows stored
without scoring them again (trainer.monitor.scorers.reuse_scores), named after the file
(trainer.monitor.naming), and the Monitors page opens it."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from insight_ui import auth, layout, state
from insight_ui.components import quota
from insight_ui.components.apply_intake import file_name
from insight_ui.safe import md
from insight_ui.wording import in_app
from trainer.data import DataError
from trainer.i18n import tr
from trainer.runs import Run
from trainer.runs.scoring import Scoring


def keep_watching(run: Run, scoring: Scoring, results: dict) -> None:
    """Turn this one-off scoring into a monitor: later files of the same stream are added to it."""
    spec = scoring.spec()
    if not spec.time_column or not results.get("counts"):
        return
    with st.container(border=True):
        left, right = st.columns([3, 1], vertical_alignment="center")
        left.markdown(tr("**Will more of this text arrive?** Keep watching it: a monitor keeps these rows, adds "
                         "each new file to the same history, and raises alerts as the new rows arrive."))  # fmt: skip
        if not right.button(
            tr("Keep watching this"), icon=":material/monitor_heart:", key="apply_keep_watching"
        ):
            return
    if quota.monitor_refused():
        return
    _create(run, scoring, results)


def _create(run: Run, scoring: Scoring, results: dict) -> None:
    """The monitor, its rows stored from the scored file; then the Monitors page (or the reason it failed)."""
    from trainer.monitor import monitor as monitors
    from trainer.monitor.naming import free_name
    from trainer.monitor.scorers import ScoresMissing, reuse_scores

    spec = scoring.spec()
    source = file_name(Path(spec.source))
    name = free_name(Path(source).stem, set(monitors.names(state.runs_dir())))
    settings = monitors.Settings(name, str(run.path), spec.text_column, spec.time_column, spec.group_column,
                                 None, results.get("bucket", "week"), auth.me().id,
                                 labels=run.adapter.probability_labels(run.labels))  # fmt: skip
    try:
        monitor = monitors.create(state.runs_dir(), settings)
        with st.spinner(tr("Storing the scored rows in the monitor…")):
            scorer = reuse_scores(scoring.scored_file, spec.text_column, settings.labels)
            monitor.add(Path(spec.source), scorer, label=source)
    except (DataError, monitors.MonitorError, ScoresMissing) as exc:
        st.error(md(in_app(exc.message) if isinstance(exc, DataError) else str(exc)), icon=":material/error:")
        return
    auth.record("monitor create", name, run=run.path.name)
    state.put(state.MONITOR_OPEN, name)
    layout.go("monitors")
