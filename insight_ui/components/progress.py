"""The training progress panel: status, progress bar with ETA and speed, live curves, cancel."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from insight_ui.components import charts
from insight_ui.components.runs import STATUS_ICONS
from insight_ui.safe import md
from trainer.jobs.manager import JobSnapshot


def duration(seconds: float | None) -> str:
    """'1 h 05 min', '3 min 20 s', '12 s'."""
    if seconds is None:
        return "–"
    seconds = max(0, int(round(seconds)))
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"


def progress_text(job: JobSnapshot) -> str:
    """The line under the progress bar."""
    if job.status == "queued":
        from insight_ui import auth

        if job.waiting_for and job.waiting_for_dir is not None and not auth.can_see(job.waiting_for_dir):
            ahead = "another person's job"
        else:
            ahead = f"“{md(job.waiting_for)}”" if job.waiting_for else "the job before it"
        place = f" (number {job.queue_position} in the queue)" if job.queue_position > 1 else ""
        return f"Queued: waiting for {ahead} to finish{place}. It starts by itself."
    if job.status != "running":
        return f"{job.status.capitalize()}."
    if not job.max_steps:
        return "Loading the model and preparing the data…"
    parts = [f"step {job.step} of {job.max_steps}", f"epoch {job.epoch:.1f}"]
    if job.eta_seconds is not None:
        parts.append(f"about {duration(job.eta_seconds)} left")
    if job.samples_per_second:
        parts.append(f"{job.samples_per_second:.0f} examples/s")
    return " · ".join(parts)


def curves(history: Sequence[dict]) -> None:
    """Loss and validation curves side by side (placeholders until there is data)."""
    left, right = st.columns(2)
    loss, evals = charts.loss_curve(history), charts.eval_curves(history)
    with left:
        if loss is None:
            st.caption("The loss curve appears after the first few steps.")
        else:
            st.plotly_chart(loss, config={"displayModeBar": False}, key="loss_curve")
    with right:
        if evals is None:
            st.caption("Validation scores appear after each epoch.")
        else:
            st.plotly_chart(evals, config={"displayModeBar": False}, key="eval_curve")


def progress_panel(job: JobSnapshot, device: str | None) -> str | None:
    """Draw the panel for `job`; returns "cancel" or "resume" when the visitor pressed that button."""
    icon = STATUS_ICONS.get(job.status, "")
    with st.container(border=True):
        head, button = st.columns([4, 1], vertical_alignment="center")
        head.markdown(f"#### {icon} {md(job.name)}")
        action = None
        if job.active and button.button("Cancel", icon=":material/stop_circle:", key=f"cancel_{job.id}"):
            action = "cancel"
        if job.resumable and button.button(
            "Resume",
            icon=":material/resume:",
            key=f"resume_{job.id}",
            help="Continue from the last saved epoch.",
        ):
            action = "resume"
        st.progress(job.progress, text=progress_text(job))
        info = [f"Model: {job.model}", f"Device: {job.device or device or '…'}"]
        if job.loss is not None:
            info.append(f"Latest loss: {job.loss:.4f}")
        st.caption(md(" · ".join(info)))
        if job.error:
            st.error(md(job.error), icon=":material/error:")
        if job.resumable:
            st.caption("Stopped before the end; it can continue from its last saved epoch.")
        curves(job.history)
    return action
