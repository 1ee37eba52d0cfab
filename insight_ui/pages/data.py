"""Data (landing page): upload or pick a sample, map the columns, read the validation report.

Never imports torch: the tokenizer checks use a light tokenizer for local model folders.
"""

from __future__ import annotations

import streamlit as st

from insight_ui import layout, state
from insight_ui.components.heatmap import entity_spans_html
from insight_ui.components.model_choice import model_choice
from insight_ui.components.report_view import report_view
from insight_ui.reads import datasets
from insight_ui.safe import md, trim
from insight_ui.wording import in_app
from trainer import i18n
from trainer.config import HELP
from trainer.i18n import N_, tr, trn
from trainer.tasks import TASKS, get_task

INTRO = N_(
    "Start here. Upload a spreadsheet of **labeled text** (CSV, TSV, JSON Lines) or a **CoNLL** file of "
    "tagged words, or try a sample. Insight checks it the way a careful colleague would and tells you "
    "what it will train on."
)
UPLOAD_HELP = N_(
    "One row per example: a column with the text and a column with its label. CoNLL: one word and its "
    "tag per line, a blank line between sentences."
)


def source_section() -> None:
    """The uploader and the one-click samples."""
    upload, sample = st.columns([1, 1], gap="large")
    with upload:
        st.file_uploader(
            tr("Upload a labeled file"),
            key=state.UPLOADER,
            on_change=datasets.on_upload,
            help=tr(UPLOAD_HELP),
            type=None,
        )
        st.caption(tr("CSV, TSV or JSON Lines with a text and a label column; CoNLL for named entities."))
        datasets.take_incoming()
    with sample:
        st.markdown(tr("**…or try a sample** (one click)"))
        files = datasets.samples()
        if not files:
            st.caption(tr("No sample files came with this copy of Insight."))
        chinese = next((p.name for p in files if p.name in datasets.NEEDS_CHINESE_MODEL), None)
        for path in files:
            if path.name == chinese:  # after the ones the default model reads
                st.caption(tr("In Chinese (these need a model that reads Chinese, not the default one):"))
            button, note = st.columns([2, 3], vertical_alignment="center")
            button.button(
                tr(datasets.SAMPLE_TITLES[path.name])
                if path.name in datasets.SAMPLE_TITLES
                else md(path.stem),
                key=f"sample_{path.name}",
                on_click=datasets.load_sample,
                args=(str(path),),
                width="stretch",
                help=md(path.name),
            )
            note.caption(
                md(tr(datasets.SAMPLE_NOTES[path.name]) if path.name in datasets.SAMPLE_NOTES else path.name)
            )


def fit_choices(keys: tuple[str, ...], allowed: list, proposed: list) -> None:
    """Put the proposal into each widget key that holds nothing this file (task) allows: a new file (whose
    choices set_dataset forgot) gets its own, and a column of another file is never kept. Set through
    session state, so the browser's boxes are told too (a keyed widget keeps its id from file to file)."""
    for key, choice in zip(keys, proposed, strict=True):
        state.put_unless_among(key, allowed, choice)


def mapping_section(name: str, raw: bytes) -> tuple[str, str | None, str | None]:
    """Task and columns, with the proposed ones preselected; returns (task, text column, label column)."""
    frame = datasets.read_frame(name, raw)
    columns = list(frame.columns)
    fit_choices((state.TASK_CHOICE,), list(TASKS), [datasets.proposed_task(name, frame)])
    with st.container(border=True):
        st.markdown(tr("**What should the model learn?**"))
        task_col, text_col, label_col = st.columns([2, 1, 1])
        task = task_col.radio(
            tr("Task"),
            list(TASKS),
            format_func=lambda name: tr(TASKS[name].title),
            key=state.TASK_CHOICE,
            persist_state="session",
            on_change=state.forget_columns,
        )
        guess_text, guess_label = datasets.proposal(frame, task)
        fit_choices(
            (state.TEXT_COLUMN, state.LABEL_COLUMN),
            columns,
            [guess_text if guess_text in columns else columns[0],
             guess_label if guess_label in columns else columns[min(1, len(columns) - 1)]],
        )  # fmt: skip
        text_name, label_name = get_task(task).column_labels
        text = text_col.selectbox(
            tr(text_name),
            columns,
            key=state.TEXT_COLUMN,
            persist_state="session",
            help=tr("Proposed from the column names and contents."),
        )
        label = label_col.selectbox(
            tr(label_name),
            columns,
            key=state.LABEL_COLUMN,
            persist_state="session",
            help=tr("What the model should predict."),
        )
    return task, text, label


def preview_section(name: str, raw: bytes) -> None:
    frame = datasets.read_frame(name, raw)
    origin = {
        "sample": tr("sample"),
        "corrected": tr("corrected dataset"),
        "upload": tr("uploaded file"),
    }.get(state.get(state.DATASET_ORIGIN) or "", tr("file"))
    st.subheader(tr("Preview"))
    st.caption(
        md(
            tr(
                "{name} ({origin}): {rows} rows, {columns} columns. First 100 rows:",
                name=name,
                origin=origin,
                rows=i18n.number(len(frame)),
                columns=len(frame.columns),
            )
        )
    )
    st.dataframe(frame.head(100), hide_index=True, height=260)
    if {"tokens", "tags"} <= set(frame.columns):
        with st.expander(tr("The first sentences with their entities marked")):
            for _, row in frame.head(5).iterrows():
                st.html(entity_spans_html(str(row["tokens"]).split(), str(row["tags"]).split()))


def report_section() -> None:
    st.subheader(tr("Data check"))
    left, right = st.columns([2, 3], vertical_alignment="bottom")
    left.text_input(
        tr("Model to check against"),
        value="default",
        key=state.BACKBONE,
        persist_state="session",
        help=tr(HELP["model"]) + tr(" Its tokenizer measures text lengths and unknown words."),
    )
    right.caption(
        tr(
            "The model's tokenizer measures how long your texts are and how many words it does not "
            "know. Change the model here or on the Train page."
        )
    )
    model_choice("data")
    with st.spinner(tr("Checking the data…")):
        outcome = datasets.current_prepared()
    if outcome is None:
        return
    if outcome.tokenizer_problem:
        st.warning(
            md(tr("Length and vocabulary checks skipped: {problem}", problem=outcome.tokenizer_problem))
        )
    if outcome.error and not outcome.report:
        st.error(md(in_app(outcome.error)), icon=":material/error:")
        return
    if outcome.error and outcome.error not in (outcome.report.errors or []):
        st.error(md(in_app(outcome.error)), icon=":material/error:")
    report_view(outcome.report)
    if outcome.data is None and outcome.report.rare_labels:
        offer_to_drop_rare_labels(outcome.report.rare_labels)
    if outcome.data is not None and st.button(
        tr("Next: choose settings and train"), type="primary", icon=":material/arrow_forward:", key="to_train"
    ):
        layout.go("train")


def offer_to_drop_rare_labels(labels: list[str]) -> None:
    """One click to go on without the labels that have too few examples: says first how many rows it removes,
    refuses to remove more than half the file, and keeps the file itself (Back to the original file)."""
    choice = datasets.current_choice()
    name, raw = state.get(state.DATASET)
    if choice is None or not choice[2]:
        return
    listed = ", ".join(f"“{trim(label, 30)}”" for label in labels[:5])
    if len(labels) > 5:
        listed = tr("{listed} and {n} more", listed=listed, n=i18n.number(len(labels) - 5))
    dropped, total = datasets.rows_labeled(name, raw, choice[2], labels)
    if dropped > datasets.MAX_DROP_SHARE * total:
        st.warning(
            md(
                tr(
                    "Dropping the rows labeled {labels} would remove {n} of the {total} rows, more than half of "
                    "the file, so Insight does not offer it. When most labels are this rare, the label column "
                    "is probably not the label: choose the right one above, or add examples of these labels.",
                    labels=listed,
                    n=i18n.number(dropped),
                    total=i18n.number(total),
                )
            ),
            icon=":material/block:",
        )
        return
    if st.button(
        md(
            trn(
                "Drop the {n} row labeled {labels} and check again",
                "Drop the {n} rows labeled {labels} and check again",
                dropped,
                labels=listed,
            )
        ),
        icon=":material/filter_alt_off:",
        key="drop_rare_labels",
        help=tr(
            "Removes {n} of the {total} rows, in a copy of your data: your file stays as it was, one click away.",
            n=i18n.number(dropped),
            total=i18n.number(total),
        ),
    ):
        new_name, new_raw, dropped = datasets.without_labels(name, raw, choice[2], labels)
        state.set_dataset(new_name, new_raw, "corrected")
        st.toast(
            tr("Dropped {n} rows; the copy is now the current dataset.", n=dropped), icon=":material/check:"
        )
        st.rerun()


def original_section() -> None:
    """While a corrected copy is the current dataset: the file it was made from, one click away."""
    original = state.get(state.ORIGINAL_DATASET)
    dataset = state.get(state.DATASET)
    if not original or not dataset:
        return
    rows = len(datasets.read_frame(*dataset))
    first = len(datasets.read_frame(original[0], original[1]))
    note, button = st.columns([3, 1], vertical_alignment="center")
    note.info(
        md(
            tr(
                "You are working on a copy: {name} ({rows} rows). The original file, {original} ({first} rows), "
                "is kept.",
                name=dataset[0],
                rows=i18n.number(rows),
                original=original[0],
                first=i18n.number(first),
            )
        ),
        icon=":material/content_copy:",
    )
    button.button(
        tr("Back to the original file"),
        icon=":material/undo:",
        key="back_to_original",
        on_click=state.back_to_original,
        width="stretch",
    )


def render() -> None:
    source_section()
    message = state.get(state.DATA_MESSAGE)
    if message:
        st.error(md(message), icon=":material/error:")
    dataset = state.get(state.DATASET)
    if not dataset:
        st.info(
            tr("No data loaded yet. Upload a file above, or click a sample to see how it works."),
            icon=":material/upload_file:",
        )
        return
    name, raw = dataset
    if message:
        st.caption(md(tr("Still using the previous data: {name}.", name=name)))
    original_section()
    preview_section(name, raw)
    mapping_section(name, raw)
    report_section()


layout.page(tr("Data"), tr(INTRO), render)
