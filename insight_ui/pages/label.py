"""Label: start from a pile of unlabelled text, label it where a label helps the model most, a round of
training every few labels, and a learning curve that says how many more labels it takes (issue 32)."""

from __future__ import annotations

import streamlit as st

from insight_ui import auth, layout, state
from insight_ui.components import label_progress, label_start, label_work
from trainer.access import owners
from trainer.apply import label_project
from trainer.i18n import N_, tr

INTRO = N_(
    "Have a pile of text and no labels? Name the labels, then label here, one text at a time (the keys 1 to "
    "9 pick a label, 0 skips). The app chooses the texts a label helps most, and every few labels a model "
    "trains in the background on the labels so far; the curve below shows how good it is and how many more "
    "labels it takes to get better. Everything is saved as you go, and colleagues can label the same "
    "project at once."
)
OPEN = "label_project_open"  # the name of the project this visitor has open, or None


def visible() -> list[label_project.Settings]:
    """The projects the person using the app may see: their own (an admin: every one)."""
    return owners.mine(auth.me(), label_project.list_projects(state.runs_dir()), lambda s: s.owner)


def choose(items: list[label_project.Settings]) -> label_project.Project | None:
    names = [s.name for s in items]
    if not names:
        return None
    current = state.get(OPEN) if state.get(OPEN) in names else names[0]
    chosen = st.selectbox(tr("Project"), names, index=names.index(current), key=f"label_pick_{current}")
    state.put(OPEN, chosen)
    return label_project.Project(state.runs_dir(), chosen)


def render() -> None:
    items = visible()
    with st.expander(tr("Start a new project"), expanded=not items, icon=":material/add:"):
        made = label_start.start_form()
        if made:
            state.put(OPEN, made)
            st.rerun()
    project = choose(items)
    if project is None:
        return
    label_progress.counts_line(project)
    label_work.label_one(project)
    if label_progress.training(project):
        label_progress.live(project.settings.name)
    else:
        label_progress.maybe_train(project)
    label_progress.curve_section(project)


layout.page(tr("Label text"), tr(INTRO), render)
