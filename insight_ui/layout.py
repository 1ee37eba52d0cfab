"""The frame every page shares: title and intro, the sidebar summary, and friendly errors."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from insight_ui import auth, language, state
from insight_ui.safe import md
from insight_ui.wording import in_app
from trainer import i18n
from trainer.data import DataError
from trainer.errors import friendly_error
from trainer.i18n import tr
from trainer.runs.folder import RunFolder
from trainer.runs.records import status_name

log = logging.getLogger("insight_ui")

PAGES = {
    "data": "insight_ui/pages/data.py",
    "label": "insight_ui/pages/label.py",
    "train": "insight_ui/pages/train.py",
    "evaluate": "insight_ui/pages/evaluate.py",
    "explain": "insight_ui/pages/explain.py",
    "embeddings": "insight_ui/pages/embeddings.py",
    "export": "insight_ui/pages/export.py",
    "apply": "insight_ui/pages/apply.py",
    "compare": "insight_ui/pages/compare.py",
    "monitors": "insight_ui/pages/monitors.py",
}


def friendly(exc: BaseException) -> str:
    """One readable sentence for an exception (a data message worded for the app)."""
    if isinstance(exc, DataError):
        return in_app(exc.message)
    text = friendly_error(exc, "showing this page")
    with i18n.speaking("en"):  # whether it was unexpected, asked of the English sentence
        unexpected = friendly_error(exc, "showing this page").startswith("Something unexpected")
    if unexpected:
        text += tr(" The full details are in the server log; try again, or go back a step.")
    return text


def show_error(exc: BaseException, where: str) -> None:
    """Log the traceback for the person running the server; show the visitor plain text."""
    log.error("%s failed", where, exc_info=exc)
    st.error(md(friendly(exc)), icon=":material/error:")


def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run `fn`, turning any exception into a readable message (Streamlit's reruns pass through)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - a page never shows a traceback
            show_error(exc, fn.__qualname__)
            return None

    return wrapper


def page(title: str, intro: str, body: Callable[[], None]) -> None:
    """Render one page: title, a short explanation, the sidebar summary, then `body` (guarded).
    Nobody gets past the sign-in (auth.gate) when sign-in is set up, whichever page they open."""
    state.init()
    language.switch()
    auth.gate()
    st.title(title)
    st.markdown(intro)
    guarded(body)()
    guarded(sidebar_summary)()  # after the body, so it shows what the body just loaded


def sidebar_summary() -> None:
    """What is loaded right now: the dataset, the current run, a running job."""
    with st.sidebar:
        dataset = state.get(state.DATASET)
        st.caption(tr("Dataset"))
        st.text(dataset[0] if dataset else tr("none yet"))
        current = state.get(state.CURRENT_RUN)
        if current and not auth.can_see(current):
            state.set_current_run(None)
            current = None
        st.caption(tr("Current run"))
        if current:  # the run's name as its owner gave it; the folder id only on hover
            name = RunFolder(current).read_status().name or Path(current).name
            st.text(name, help=tr("Run folder: {folder}", folder=Path(current).name))
        else:
            st.text(tr("none yet"))
        if state.job_manager().active():
            training_now()
        if auth.signed_in():
            person = auth.me()
            st.caption(tr("Signed in as"))
            st.text(person.shown + (tr(" (admin)") if person.admin else ""))
            if st.button(tr("Sign out"), icon=":material/logout:", key="sign_out"):
                auth.sign_out()  # OpenID Connect: st.logout sends the browser away to end the session
                st.rerun()


@st.fragment(run_every=2.0)
def training_now() -> None:
    """A small live progress bar in the sidebar while a job runs (on every page)."""
    active = state.job_manager().active()
    st.caption(tr("Training now"))
    if not active:
        st.text(tr("done: see the Train page"))
        return
    job = active[0]
    name = job.name if auth.can_see(job.run_dir) else tr("another person's job")
    st.progress(
        job.progress,
        text=md(
            tr(
                "{name}: {status}, {share}",
                name=name,
                status=status_name(job.status),
                share=i18n.percent(job.progress),
            )
        ),
    )


def empty_state(message: str, page_key: str, label: str, icon: str = ":material/arrow_forward:") -> None:
    """A friendly 'nothing here yet' with a link to the page that fixes it."""
    st.info(message, icon=":material/info:")
    st.page_link(PAGES[page_key], label=label, icon=icon)


def go(page_key: str) -> None:
    """Switch to another page of the app."""
    st.switch_page(PAGES[page_key])
