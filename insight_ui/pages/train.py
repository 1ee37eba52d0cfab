"""Train: settings, start a background job, live progress, and the list of runs."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from insight_ui import auth, layout, state
from insight_ui.components import plain_words
from insight_ui.components.progress import progress_panel
from insight_ui.components.runs import model_name, runs_table, visible_runs
from insight_ui.components.storage import storage_section
from insight_ui.components.train_form import train_form
from insight_ui.reads import datasets
from insight_ui.safe import md
from insight_ui.wording import in_app
from trainer import i18n
from trainer import runs as run_store
from trainer.i18n import N_, tr
from trainer.jobs.manager import JobSnapshot
from trainer.jobs.start import StartRefused, start_run
from trainer.runs.records import status_name
from trainer.tasks import get_task

INTRO = N_(
    "Fine-tune a pretrained language model on your data. Training runs in its own process: you can "
    "look at other pages, refresh or close the browser, even restart the app, and come back — it keeps "
    "going. Jobs run one at a time; later ones wait in a queue."
)


def shown_job() -> JobSnapshot | None:
    """The job this visitor started, else their newest job (so a refresh finds it); never another person's."""
    manager = state.job_manager()
    job_id = state.get(state.CURRENT_JOB)
    snap = manager.snapshot(job_id) if job_id else None
    if snap is None or not auth.can_change(snap.run_dir):
        jobs = [j for j in manager.jobs() if auth.can_change(j.run_dir)]
        snap = next((j for j in jobs if j.active), jobs[0] if jobs else None)
    return snap


def job_section(job: JobSnapshot) -> None:
    """Live progress, refreshed every second by a fragment while the job is active."""

    @st.fragment(run_every=1.0 if job.active else None)  # a resumed job turns active: the page reruns
    @layout.guarded
    def live() -> None:
        manager = state.job_manager()
        snap = manager.snapshot(job.id) or job
        action = progress_panel(snap, None)
        if action in ("cancel", "resume") and not auth.can_change(snap.run_dir):
            st.error(
                tr("Only the person who started this run (or an admin) can do that."), icon=":material/lock:"
            )
        elif action == "cancel":
            manager.cancel(snap.id)
            auth.record("cancel", snap.id)
            st.toast(tr("Cancelling: the job stops after the current step."), icon=":material/stop_circle:")
        elif action == "resume":
            manager.resume(snap.id)
            auth.record("resume", snap.id)
            state.put(state.CURRENT_JOB, snap.id)
            st.rerun()
        if snap.active:
            state.put(state.JOB_SEEN_ACTIVE, snap.id)
            return
        if snap.status == run_store.FINISHED:
            if state.get(state.JOB_SEEN_ACTIVE) == snap.id:
                state.set_current_run(snap.run_dir)
            said, scores = plain_words.finished(snap.task, snap.metrics)
            st.success(md(said), icon=":material/check_circle:")
            if scores:
                st.caption(tr("For specialists: {scores}.", scores=scores), help=tr("See the Glossary."))
            if st.button(
                tr("See the results"), type="primary", icon=":material/fact_check:", key="see_results"
            ):
                state.set_current_run(snap.run_dir)
                layout.go("evaluate")
        if state.get(state.JOB_SEEN_ACTIVE) == snap.id:
            state.put(state.JOB_SEEN_ACTIVE, None)
            st.rerun()  # once, at the end: refresh the run list and stop polling

    live()


# The seed and max length of the data check the form shows (TrainConfig's defaults); a run asking for
# others has its data checked again with them before it is queued.
FORM_CHECK = {"seed": 42, "max_length": None}


def dataset_line(name: str, data) -> None:
    """What the run trains on: the file, its splits, the task and its labels (or only the file's name)."""
    if data:
        st.markdown(
            md(
                tr(
                    "Dataset: {name} · {train} to train on, {validation} to validate, {test} to test"
                    " · {task} with {labels} labels",
                    name=name,
                    train=i18n.number(len(data.train)),
                    validation=i18n.number(len(data.validation)),
                    test=i18n.number(len(data.test)),
                    task=tr(get_task(data.task).short),
                    labels=len(data.labels),
                )
            )
        )
    else:
        st.markdown(md(tr("Dataset: {name}", name=name)))


def settings(outcome: datasets.Prepared):
    """The settings form's TrainConfig, or None with what is wrong said (the settings, or the data)."""
    data = outcome.data
    try:
        config = train_form(
            outcome.task,
            data.text_column if data else None,
            data.label_column if data else None,
            len(data.train) if data else None,
            data,
        )
        problem = None
    except ValueError as exc:
        config, problem = None, str(exc)
    if problem:
        st.error(md(problem), icon=":material/error:")
    if data is None:
        st.error(
            md(tr("The data cannot be trained on yet: {problem}", problem=in_app(outcome.error))),
            icon=":material/error:",
        )
        st.page_link(layout.PAGES["data"], label=tr("Fix it on the Data page"), icon=":material/table_view:")
    return config


def start_row(enabled: bool) -> tuple[str, bool]:
    """The run's name box and the Start button with where it runs; (the name typed, whether clicked)."""
    run_name = st.text_input(
        tr("Run name (optional)"),
        key=state.FORM_KEYS["name"],
        persist_state="session",
        placeholder=tr("e.g. first try"),
    )
    start, where = st.columns([1, 3], vertical_alignment="center")
    clicked = start.button(
        tr("Start training"),
        type="primary",
        icon=":material/play_arrow:",
        disabled=not enabled,
        key="start_training",
    )
    where.caption(md(tr("Runs on: {device}", device=state.device_label())))
    return run_name, clicked


def form_section() -> None:
    """The settings and the Start button (or what to do first)."""
    outcome = datasets.current_prepared(**FORM_CHECK)
    if outcome is None:
        layout.empty_state(
            tr("Load a dataset first: upload a file or pick a sample."), "data", tr("Go to Data")
        )
        return
    dataset_line(state.get(state.DATASET)[0], outcome.data)
    config = settings(outcome)
    if config is not None and outcome.data is not None:
        from trainer.train.few_shot import few_shot_choice

        if said := few_shot_choice(config, outcome.data)[1]:  # few labels: the few-label way (SetFit)
            st.info(md(said), icon=":material/auto_awesome:")
    run_name, clicked = start_row(config is not None and outcome.data is not None)
    if clicked and config is not None:
        start_job(config, run_name, outcome)


def data_for(config, checked: datasets.Prepared) -> datasets.Prepared | None:
    """The data to queue the run on: the form's data check when it used this run's seed and max length,
    else the check again with them (the seed draws the splits; the max length decides what the report
    counts as cut, and what the length check says)."""
    if config.seed == FORM_CHECK["seed"] and config.max_length == FORM_CHECK["max_length"]:
        return checked
    return datasets.current_prepared(seed=config.seed, max_length=config.max_length)


def start_job(config, run_name: str, checked: datasets.Prepared) -> None:
    """Queue the job on data checked with the run's seed and max length (trainer.jobs.start: the model
    allowed, the quotas, the audit line)."""
    outcome = data_for(config, checked)
    if outcome is None or outcome.data is None:
        st.error(md(in_app(outcome.error) if outcome else tr("No data loaded.")), icon=":material/error:")
        return
    dataset = Path(state.get(state.DATASET)[0]).stem

    def default_name(allowed) -> str:
        return tr("{model} on {dataset}", model=model_name(allowed.model), dataset=dataset)

    try:
        job_id = start_run(
            auth.me(),
            config,
            outcome.data,
            run_name.strip() or default_name,
            manager=state.job_manager(),
            runs_dir=state.runs_dir(),
            check_model=auth.signed_in(),  # without sign-in, any folder or hub id (auth.model_for)
        )
    except StartRefused as exc:  # a model outside the model roots, or a quota reached
        st.error(md(str(exc)), icon=":material/block:")
        return
    state.put(state.CURRENT_JOB, job_id)
    st.rerun()


def runs_section() -> None:
    st.subheader(tr("Runs"))
    items = visible_runs()
    message = state.get(state.STORAGE_MESSAGE)
    if message and not any(str(r.path) == state.get(state.STORAGE_RUN) for r in items):
        st.success(md(message), icon=":material/check_circle:")  # the run itself was deleted
        state.put(state.STORAGE_MESSAGE, None)
    if not items:
        st.caption(tr("No runs yet. Your first run will appear here."))
        return
    st.caption(tr("Select a run to open it on the Evaluate, Explain, Embeddings and Export pages."))
    picked = runs_table(items)
    if picked is None:
        return
    if picked.error:
        st.error(md(f"{picked.name}: {picked.error}"), icon=":material/error:")
    snap = state.job_manager().snapshot(picked.id)
    if snap is not None and snap.resumable and auth.can_change(picked.path):
        st.info(
            md(
                tr(
                    "{name} is {status}; it can continue from its last saved epoch.",
                    name=picked.name,
                    status=status_name(picked.status),
                )
            )
        )
        if st.button(tr("Resume this run"), icon=":material/resume:", key="resume_picked"):
            state.job_manager().resume(picked.id)
            auth.record("resume", picked.id)
            state.put(state.CURRENT_JOB, picked.id)
            st.rerun()
    if picked.has_model:
        state.set_current_run(picked.path)
        st.success(md(tr("Opened {name}.", name=picked.name)), icon=":material/check_circle:")
        st.page_link(layout.PAGES["evaluate"], label=tr("Go to Evaluate"), icon=":material/fact_check:")
    elif not picked.error:
        st.info(
            md(
                tr(
                    "{name} is {status}: it has no model to open.",
                    name=picked.name,
                    status=status_name(picked.status),
                )
            ),
            icon=":material/info:",
        )
    storage_section(picked)


def render() -> None:
    job = shown_job()
    if job is not None:
        job_section(job)
    st.subheader(tr("New run"))
    form_section()
    runs_section()


layout.page(tr("Train"), tr(INTRO), render)
