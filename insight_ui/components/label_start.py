"""Start a labelling project: a file of texts (or sentences to tag), the labels to give, a name."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from insight_ui import auth, state
from insight_ui.safe import md
from insight_ui.wording import in_app
from trainer.apply import label_project
from trainer.data import DataError, read_table
from trainer.i18n import tr

NO_COLUMN = "—"
MADE = "label_projects_made"  # projects this visit made: a fresh form (and uploader) after each


def _texts(frame: pd.DataFrame, column: str, task: str) -> list:
    """The column's cells: texts, or (to tag) sentences split into words at spaces."""
    cells = frame[column].tolist()
    if task == "token":
        return [str(c).split() if isinstance(c, str) else None for c in cells]
    return cells


def _given(frame: pd.DataFrame, column: str) -> list | None:
    if column == NO_COLUMN:
        return None
    return [None if pd.isna(v) or not str(v).strip() else str(v).strip() for v in frame[column].tolist()]


def _read(upload) -> pd.DataFrame | None:
    try:
        return read_table((upload.name, upload.getvalue()))
    except DataError as exc:
        st.error(md(in_app(exc.message)), icon=":material/error:")
        return None


def start_form() -> str | None:
    """The form; the new project's name once it is made."""
    upload = st.file_uploader(
        tr("A file of texts to label (CSV, TSV, JSON Lines or Excel-exported CSV)"),
        type=["csv", "tsv", "txt", "jsonl", "json"],
        key=f"label_upload_{state.get(MADE) or 0}",
    )
    if upload is None:
        return None
    frame = _read(upload)
    if frame is None:
        return None
    columns = [str(c) for c in frame.columns]
    task = st.radio(tr("What to label"), ["text", "token"], horizontal=True, key="label_task",
                    format_func=lambda t: tr("A label for each text") if t == "text"
                    else tr("The names in each sentence (people, places…)"))  # fmt: skip
    text_column = st.selectbox(tr("Column with the text"), columns, key="label_text_column")
    given_column = NO_COLUMN
    if task == "text":
        given_column = st.selectbox(tr("Column with labels already given (optional)"), [NO_COLUMN] + columns,
                                    key="label_given_column")  # fmt: skip
    wanted = st.text_input(
        tr("The labels, separated by commas")
        if task == "text"
        else tr("The kinds of names, separated by commas"),
        placeholder="positive, negative" if task == "text" else "PER, LOC, ORG",
        key="label_names",
    )
    name = st.text_input(tr("Project name"), value=upload.name.rsplit(".", 1)[0], key="label_project_name")
    model = st.text_input(tr("Model each round fine-tunes"), value="default", key="label_model")
    if not st.button(tr("Start labelling"), type="primary", key="label_create"):
        return None
    labels = [w.strip() for w in wanted.replace("，", ",").split(",") if w.strip()]
    try:
        project = label_project.create(state.runs_dir(), name, task, labels, _texts(frame, text_column, task),
                                       auth.me().id, given=_given(frame, given_column),
                                       model=model.strip() or "default")  # fmt: skip
    except DataError as exc:
        st.error(md(in_app(exc.message)), icon=":material/error:")
        return None
    state.put(MADE, (state.get(MADE) or 0) + 1)
    return project.settings.name
