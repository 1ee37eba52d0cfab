"""How a file of new text gets scored on the Apply page: the uploader and the sample, then a preview of the
file and its columns (text, date, group, time buckets), until the person asks to score it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from insight_ui import state
from insight_ui.reads import datasets
from insight_ui.safe import md, trim
from insight_ui.wording import in_app
from trainer import i18n
from trainer.apply.score import text_column_of
from trainer.data import DataError
from trainer.data import stream as streaming
from trainer.evaluate.trends import propose_group_column, propose_time_column
from trainer.i18n import N_, tr
from trainer.runs import Run
from trainer.runs.scoring import Spec, keep_file

SAMPLE = datasets.SAMPLE_DIR / "market_news.csv"
NONE = N_("(none)")  # the option value for no column (English); shown as tr(NONE)
BUCKETS = {
    "auto": N_("Automatic (from the dates)"),
    "day": N_("Day"),
    "week": N_("Week"),
    "month": N_("Month"),
}
UPLOAD_ID = "apply_upload_id"  # the file_id of the upload last kept, so a rerun does not keep it again


@st.cache_data(show_spinner=False, max_entries=8)
def _preview(path: str, mtime: float) -> pd.DataFrame:
    return streaming.preview(path, 200)


@st.cache_data(show_spinner=False, max_entries=8)
def _rows(path: str, mtime: float) -> int:
    return streaming.count_rows(path)


def file_name(source: Path) -> str:
    """The name the person gave the file (uploads are kept as <hash>-<name>)."""
    return source.name.split("-", 1)[1] if source.parent.name == "files" else source.name


def index_of(options: list[str], value: str | None) -> int:
    return options.index(value) if value in options else 0


def source_section(run: Run) -> Path | None:
    """The uploader and the sample; returns the chosen file (kept on disk for the job), if any."""
    upload, sample = st.columns([3, 2], gap="large")
    with upload:
        file = st.file_uploader(
            tr("Upload new text (no labels needed)"),
            key="apply_uploader",
            help=tr("One row per text. A date column and a topic, channel or product column are optional."),
        )
        st.caption(
            tr("CSV, TSV, JSON Lines, or a CoNLL file of words. Large files are read a chunk at a time.")
        )
    if file is not None and file.file_id != state.get(UPLOAD_ID):
        state.put(UPLOAD_ID, file.file_id)
        state.put(state.APPLY_FILE, str(keep_file(run.path, file.name, file.getvalue())))
    with sample:
        st.markdown(tr("**…or try the sample**"))
        if SAMPLE.is_file() and st.button(
            tr("Market news headlines"), key="apply_sample", icon=":material/newspaper:"
        ):
            state.put(state.APPLY_FILE, str(SAMPLE))
        st.caption(
            tr(
                "Three months of made-up business headlines over four topics, dated: one topic has a bad week."
            )
        )
    chosen = state.get(state.APPLY_FILE)
    return Path(chosen) if chosen and Path(chosen).is_file() else None


def mapping_section(run: Run, path: Path) -> Spec | None:
    """Preview and column choices; returns the spec once the person asks to score."""
    mtime = path.stat().st_mtime
    try:
        frame = _preview(str(path), mtime)
        total = _rows(str(path), mtime)
    except DataError as exc:
        st.error(md(in_app(exc.message)), icon=":material/error:")
        return None
    st.caption(md(tr("{file}: {rows} rows, {columns} columns. The first rows:", file=file_name(path),
                     rows=i18n.number(total), columns=len(frame.columns))))  # fmt: skip
    st.dataframe(frame.head(50), hide_index=True, height=220)
    columns = [str(c) for c in frame.columns]
    try:
        text_guess = text_column_of(frame, run.adapter, None)
    except DataError:
        text_guess = columns[0]
    key = f"apply_{abs(hash((str(path), mtime)))}"
    with st.container(border=True):
        a, b, c, d = st.columns(4)
        text = a.selectbox(tr("Text column"), columns, index_of(columns, text_guess), key=f"{key}_text",
                           help=tr("What the model reads. Proposed from the column names and contents."))  # fmt: skip
        others = [NONE] + [col for col in columns if col != text]
        time_guess = propose_time_column(frame, [text])
        when = b.selectbox(tr("Date column (optional)"), others, index_of(others, time_guess), key=f"{key}_time",
                           format_func=_shown, help=tr("Dates or timestamps: label shares over time, and alerts."))  # fmt: skip
        rest = [col for col in others if col != when or col == NONE]
        group_guess = propose_group_column(frame, [text, when])
        group = c.selectbox(tr("Group column (optional)"), rest, index_of(rest, group_guess), key=f"{key}_group",
                            format_func=_shown, help=tr("A topic, channel or product: trends and alerts per group."))  # fmt: skip
        bucket = d.selectbox(tr("Time buckets"), list(BUCKETS), format_func=lambda b: tr(BUCKETS[b]), key=f"{key}_bucket",
                             disabled=when == NONE, help=tr("Automatic: days up to two months, weeks up to two years."))  # fmt: skip
    variant = _variant(run, key)
    if not st.button(md(tr("Score {rows} rows with “{run}”", rows=i18n.number(total), run=trim(run.info.name, 40))),
                     type="primary", icon=":material/play_arrow:", key="apply_score"):  # fmt: skip
        return None
    return Spec(str(path), text, None if when == NONE else when, None if group == NONE else group, bucket,
                variant=variant)  # fmt: skip


def _variant(run: Run, key: str) -> str | None:
    """Which version of the model scores: the model itself, or a faster version kept by Export's check (the
    choice is offered only when the run has one)."""
    from trainer.runs.variants import Variants

    kept = Variants(run.folder).accepted()
    if not kept:
        return None
    choice = st.radio(tr("Model version"), [NONE, *kept], horizontal=True, key=f"{key}_variant",
                      format_func=lambda v: tr("the model itself") if v == NONE else tr("faster: {name}", name=v),
                      help=tr("A faster version gives the same answers within the check Export made of it."))  # fmt: skip
    return None if choice == NONE else choice


def _shown(column: str) -> str:
    """A column choice as shown: "(none)" in the current language, a column of the file as it is."""
    return tr(NONE) if column == NONE else column
