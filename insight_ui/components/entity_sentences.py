"""Sentences on the Evaluate page (token task): each sentence twice, its true entities beside the
predicted ones, mistakes marked, with a button to explain it; for a confusion matrix cell, or all."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from insight_ui import layout, state
from insight_ui.components.heatmap import entity_spans_html
from trainer.evaluate import predictions as tables
from trainer.evaluate.metrics import span_errors
from trainer.i18n import N_, tr
from trainer.runs import Run

PER_PAGE = 10
SPAN_LEGEND = N_(
    "Left: the true entities; right: what the model predicted. A red outline with ✗ marks a predicted "
    "entity that is wrong (its words or its type differ from the truth); a dashed outline marks a true "
    "entity the model missed."
)


def cell_sentences(run: Run, rows: pd.DataFrame) -> None:
    """The sentences of a confusion matrix cell, the most confident first (one page of them)."""
    st.caption(tr(SPAN_LEGEND))
    sentence_pairs(run, rows.head(PER_PAGE), "cell")
    if len(rows) > PER_PAGE:
        st.caption(tr("The {shown} most confident of {n}.", shown=PER_PAGE, n=len(rows)))


def sentence_pairs(run: Run, rows: pd.DataFrame, key: str) -> None:
    """Each sentence twice, side by side: true entities (missed ones dashed), predicted (wrong ones ✗)."""
    types = tables.entity_types(run.labels)
    head = st.columns([5, 5, 1.6])  # room for the whole "Explain" button
    head[0].markdown(tr("**True entities**"))
    head[1].markdown(tr("**Predicted entities**"))
    for position, (_, row) in enumerate(rows.iterrows()):
        tokens, gold, predicted = (str(row[c]).split() for c in ("tokens", "gold", "predicted"))
        missed, wrong = span_errors(gold, predicted)
        left, right, action = st.columns([5, 5, 1.6], vertical_alignment="center")
        left.html(entity_spans_html(tokens, gold, missed, "missed", types))
        right.html(entity_spans_html(tokens, predicted, wrong, "wrong", types))
        if action.button(
            tr("Explain"),
            icon=":material/lightbulb:",
            key=f"explain_{key}_{position}",
            help=tr("Explain this sentence: which words drove each tag"),
        ):
            state.open_in_explain(
                " ".join(tokens),
                tr("test sentence ({missed} missed, {wrong} wrong)", missed=len(missed), wrong=len(wrong)),
            )
            layout.go("explain")


def sentences_section(run: Run, frame: pd.DataFrame | None) -> None:
    """Token task: the test sentences as entity spans, gold against predicted, mistakes first."""
    if frame is None or frame.empty:
        return
    st.subheader(tr("Sentences: true and predicted entities"))
    st.caption(tr(SPAN_LEGEND))
    table = tables.entity_errors(frame)
    n_wrong = int((table["errors"] > 0).sum())
    show = st.segmented_control(
        tr("Show"),
        ["mistakes", "all"],
        format_func={
            "mistakes": tr("Sentences with mistakes ({n})", n=n_wrong),
            "all": tr("All test sentences ({n})", n=len(table)),
        }.get,
        default="mistakes",
        required=True,
        key="ner_show",
    )
    rows = table[table["errors"] > 0] if show == "mistakes" else table
    if rows.empty:
        st.success(
            tr("Every entity of the test split is found, with the right words and type."),
            icon=":material/check_circle:",
        )
        return
    pages = -(-len(rows) // PER_PAGE)
    page = 1
    if pages > 1:
        page = int(
            st.number_input(
                tr("Page (of {pages}, {per_page} sentences each)", pages=pages, per_page=PER_PAGE),
                1,
                pages,
                1,
                key="ner_page",
            )
        )
    sentence_pairs(run, rows.iloc[(page - 1) * PER_PAGE : page * PER_PAGE], "sentence")
