"""Where a labelling project stands: the labels so far, the round training in the background, and the
learning curve with its forecast, in words."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import streamlit as st

from insight_ui import auth, state
from insight_ui.safe import md
from insight_ui.wording import in_app
from trainer import i18n, runs
from trainer.apply import label_rounds
from trainer.apply.label_project import Project
from trainer.data import DataError
from trainer.i18n import tr, trn
from trainer.jobs.start import StartRefused, start_run


def counts_line(project: Project) -> None:
    counts = project.counts()
    st.markdown(trn("**{n}** row labelled: {train} to train the model, {held} kept aside to test it; {left} left.",
                       "**{n}** rows labelled: {train} to train the model, {held} kept aside to test it; {left} left.",
                       counts["labelled"], train=i18n.number(counts["train_labelled"]),
                       held=i18n.number(counts["heldout_labelled"]), left=i18n.number(counts["left"])))  # numbers only: no user text, so Markdown on  # fmt: skip


def _last_round(project: Project) -> dict | None:
    found = project.rounds()
    return found[-1] if found else None


def start_round(project: Project) -> str | None:
    """Queue a run on the labels so far; its job id (None, with the reason shown, when it cannot start)."""
    model = project.settings.model
    try:
        data = label_rounds.round_data(project, model, tokenizer=state.tokenizer_for(model))
        labels = project.counts()["labelled"]
        job = start_run(auth.me(), label_rounds.round_config(project, model), data,
                        tr("{project}: {n} labels", project=project.settings.name, n=labels),
                        manager=state.job_manager(), runs_dir=state.runs_dir(),
                        check_model=auth.signed_in())  # fmt: skip
    except DataError as exc:
        st.info(md(in_app(exc.message)), icon=":material/info:")
        return None
    except StartRefused as exc:
        st.error(md(str(exc)), icon=":material/block:")
        return None
    project.add_round(job, labels)
    return job


def _unmeasured(project: Project) -> tuple[dict, Any] | None:
    """(the latest round, its job's snapshot) while that round is not measured yet; None otherwise."""
    last = _last_round(project)
    if last is None or last.get("points") is not None:
        return None
    snap = state.job_manager().snapshot(last["run"])
    return (last, snap) if snap is not None else None


def round_state(project: Project) -> bool:
    """The latest round: training (progress), just finished (measured now), failed; True while it trains."""
    if (found := _unmeasured(project)) is None:
        return False
    last, snap = found
    if snap.active:
        st.info(tr("Training on {n} labels in the background ({share} done); keep labelling: the next rows "
                   "to label come from it once it is done.", n=last["labels"], share=f"{snap.progress:.0%}"),
                icon=":material/model_training:")  # fmt: skip
        return True
    if snap.status == runs.FINISHED:
        with (
            state.measuring_lock(),
            st.spinner(tr("Measuring the new model and choosing the next rows to label…")),
        ):
            if _last_round(project).get("points") is None:  # not measured meanwhile by another rerun
                label_rounds.measure_round(project, snap.run_dir, last["labels"])
        return False
    st.error(md(tr("The round on {n} labels did not finish ({why}).", n=last["labels"],
                   why=snap.error or runs.status_name(snap.status))), icon=":material/error:")  # fmt: skip
    project.add_round(last["run"], last["labels"], {"point": None, "ranked": []})
    return False


def training(project: Project) -> bool:
    """Whether the latest round's run is still queued or training."""
    found = _unmeasured(project)
    return bool(found and found[1].active)


@st.fragment(run_every=3)
def live(name: str) -> None:
    """The training round's progress, redrawn every 3 s; the whole page again once it has finished."""
    if not round_state(Project(state.runs_dir(), name)):
        st.rerun(scope="app")


def maybe_train(project: Project) -> None:
    """Every ROUND labels (or when asked), a new run trains on the labels so far."""
    if round_state(project):
        return
    last = _last_round(project)
    done = project.counts()["labelled"]
    due = done - (last["labels"] if last else 0) >= label_rounds.ROUND
    asked = st.button(
        tr("Train on the labels so far"), key="label_train_now", icon=":material/model_training:"
    )
    if (due or asked) and start_round(project):
        st.rerun()


def curve_chart(found: dict, metric: str) -> go.Figure:
    points = found["points"]
    x = [p["labels"] for p in points]
    y = [p["score"] for p in points]
    fig = go.Figure(go.Scatter(
        x=x, y=y, mode="lines+markers", name=metric,
        error_y={"type": "data", "symmetric": False, "array": [p["ci_high"] - p["score"] for p in points],
                 "arrayminus": [p["score"] - p["ci_low"] for p in points]},
    ))  # fmt: skip
    fig.update_layout(height=320, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      xaxis_title=tr("labels"), yaxis_title=metric, yaxis_range=[0, 1])  # fmt: skip
    return fig


def curve_section(project: Project) -> None:
    st.subheader(tr("How many more labels"))
    found, sentences = label_rounds.learning_curve(project)
    if not found["points"]:
        st.info(tr("The curve starts after the first round: label {n} rows and a model trains on them.",
                   n=label_rounds.ROUND), icon=":material/info:")  # fmt: skip
        return
    _, metric = label_rounds.points(project)
    st.plotly_chart(curve_chart(found, tr(metric or "macro-F1")), key="label_curve")
    for sentence in sentences + label_rounds.forecasts_checked(project):
        st.markdown(md(sentence))
