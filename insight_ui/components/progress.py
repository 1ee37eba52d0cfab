"""The training progress panel: status, progress bar with ETA and speed, live curves, cancel."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from insight_ui.components import charts
from insight_ui.components.runs import STATUS_ICONS
from insight_ui.safe import md
from trainer.i18n import N_, tr
from trainer.jobs.manager import JobSnapshot
from trainer.train.estimate import stopped_note

STATUS_SENTENCES = {  # the line under the bar of a job that is neither queued nor running
    "finished": N_("Finished."),
    "failed": N_("Failed."),
    "cancelled": N_("Cancelled."),
    "interrupted": N_("Interrupted."),
}


def duration(seconds: float | None) -> str:
    """'1 h 05 min', '3 min 20 s', '12 s'."""
    if seconds is None:
        return "–"
    seconds = max(0, int(round(seconds)))
    if seconds >= 3600:
        minutes = str(seconds % 3600 // 60).zfill(2)
        return tr("{hours} h {minutes} min", hours=seconds // 3600, minutes=minutes)
    if seconds >= 60:
        return tr("{minutes} min {seconds} s", minutes=seconds // 60, seconds=str(seconds % 60).zfill(2))
    return tr("{seconds} s", seconds=seconds)


def progress_text(job: JobSnapshot) -> str:
    """The line under the progress bar."""
    if job.status == "queued":
        from insight_ui import auth

        if job.waiting_for and job.waiting_for_dir is not None and not auth.can_see(job.waiting_for_dir):
            ahead = tr("another person's job")
        else:
            ahead = f"“{md(job.waiting_for)}”" if job.waiting_for else tr("the job before it")
        if job.queue_position > 1:
            return tr(
                "Queued: waiting for {job} to finish (number {position} in the queue). It starts by itself.",
                job=ahead,
                position=job.queue_position,
            )
        return tr("Queued: waiting for {job} to finish. It starts by itself.", job=ahead)
    if job.status != "running":
        known = STATUS_SENTENCES.get(job.status)
        return tr(known) if known else f"{job.status.capitalize()}."
    if not job.max_steps:
        return tr("Loading the model and preparing the data…")
    parts = [
        tr("step {step} of {steps}", step=job.step, steps=job.max_steps),
        tr("epoch {epoch}", epoch=format(job.epoch, ".1f")),
    ]
    if job.eta_seconds is not None:
        parts.append(tr("about {time} left", time=duration(job.eta_seconds)))
    if job.samples_per_second:
        parts.append(tr("{speed} examples/s", speed=format(job.samples_per_second, ".0f")))
    return " · ".join(parts)


def curves(history: Sequence[dict]) -> None:
    """Loss and validation curves side by side (placeholders until there is data)."""
    left, right = st.columns(2)
    loss, evals = charts.loss_curve(history), charts.eval_curves(history)
    with left:
        if loss is None:
            st.caption(tr("The loss curve appears after the first few steps."))
        else:
            st.plotly_chart(loss, config={"displayModeBar": False}, key="loss_curve")
    with right:
        if evals is None:
            st.caption(tr("Validation scores appear after each epoch."))
        else:
            st.plotly_chart(evals, config={"displayModeBar": False}, key="eval_curve")


def progress_panel(job: JobSnapshot, device: str | None) -> str | None:
    """Draw the panel for `job`; returns "cancel" or "resume" when the visitor pressed that button."""
    icon = STATUS_ICONS.get(job.status, "")
    with st.container(border=True):
        head, button = st.columns([4, 1], vertical_alignment="center")
        head.markdown(f"#### {icon} {md(job.name)}")
        action = None
        if job.active and button.button(tr("Cancel"), icon=":material/stop_circle:", key=f"cancel_{job.id}"):
            action = "cancel"
        if job.resumable and button.button(
            tr("Resume"),
            icon=":material/resume:",
            key=f"resume_{job.id}",
            help=tr("Continue from the last saved epoch."),
        ):
            action = "resume"
        st.progress(job.progress, text=progress_text(job))
        info = [
            tr("Model: {model}", model=job.model),
            tr("Device: {device}", device=job.device or device or "…"),
        ]
        if job.loss is not None:
            info.append(tr("Latest loss: {loss}", loss=format(job.loss, ".4f")))
        st.caption(md(" · ".join(info)))
        if job.error:
            st.error(md(job.error), icon=":material/error:")
        if job.resumable:
            st.caption(tr("Stopped before the end; it can continue from its last saved epoch."))
        elif job.status == "cancelled":
            st.caption(
                tr("Cancelled before its first epoch was saved: started again, it begins from the start.")
            )
        if job.status == "finished" and (note := stopped_note(job.run_dir)):
            st.info(md(note), icon=":material/timer:")
        curves(job.history)
    return action
