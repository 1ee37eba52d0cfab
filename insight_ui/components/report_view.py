"""The data validation report as a person reads it: numbers, then errors, warnings and notes."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from insight_ui.components import charts
from insight_ui.safe import md
from insight_ui.wording import in_app
from trainer.data import ValidationReport, pct
from trainer.tasks import get_task

SPLITS = ("train", "validation", "test")


def summary_cards(report: ValidationReport) -> None:
    """Rows read / used / dropped, classes, imbalance and length checks as metric cards."""
    dropped = sum(report.dropped.values())
    unit = get_task(report.task).units().capitalize()
    cols = st.columns(5)
    cols[0].metric(f"{unit} read", f"{report.rows_read:,}", border=True)
    cols[1].metric(f"{unit} used", f"{report.rows_used:,}", border=True)
    cols[2].metric("Dropped", f"{dropped:,}", border=True, help="Rows that could not be used; see below why.")
    cols[3].metric(
        get_task(report.task).label_word.capitalize() + "s",
        len(report.class_counts),
        border=True,
        help="Imbalance: largest class / smallest class."
        + (f" Here {report.imbalance_ratio:.1f} to 1." if report.imbalance_ratio else ""),
    )
    if report.max_length:
        cols[4].metric(
            "Max length (tokens)",
            f"{report.max_length}",
            border=True,
            help=f"Texts longer than this are cut: {pct(report.truncated_share)}. "
            f"Words unknown to the model: {pct(report.unk_share)}.",
        )
    else:
        cols[4].metric(
            "Max length (tokens)", "auto", border=True, help="Chosen from the data when training starts."
        )


def messages(report: ValidationReport) -> None:
    """Errors in red, warnings in amber, notes neutral; every message is plain text."""
    for text in report.errors:
        st.error(md(in_app(text)), icon=":material/error:")
    for text in report.warnings:
        st.warning(md(in_app(text)), icon=":material/warning:")
    notes = report.notes
    if notes:
        with st.container(border=True):
            for text in notes:
                st.markdown(f":material/info: {md(in_app(text))}")
    if not (report.errors or report.warnings or notes):
        st.success("No problems found in this data.", icon=":material/check_circle:")


def details(report: ValidationReport) -> None:
    """What was dropped and merged, as small tables."""
    dropped, merged, unseen = report.dropped, report.merged_labels, report.unseen_labels
    if not (dropped or merged or unseen or report.duplicate_texts):
        return
    with st.expander("What was dropped, merged or repaired", expanded=bool(dropped or merged)):
        if dropped:
            st.markdown("**Dropped rows**")
            st.dataframe(
                pd.DataFrame({"reason": list(dropped), "rows": list(dropped.values())}),
                hide_index=True,
                width="content",
            )
        if merged:
            st.markdown("**Labels merged** (they differed only by case or spaces)")
            st.dataframe(
                pd.DataFrame(
                    {"kept as": list(merged), "also written as": [", ".join(v) for v in merged.values()]}
                ),
                hide_index=True,
                width="content",
            )
        if unseen:
            st.markdown(
                "**Labels only outside training** (those rows were dropped: the model cannot learn them)"
            )
            st.dataframe(
                pd.DataFrame({"split": list(unseen), "labels": [", ".join(v) for v in unseen.values()]}),
                hide_index=True,
                width="content",
            )
        st.caption(
            f"Duplicate texts: {report.duplicate_texts}, "
            f"of which with conflicting labels: {report.conflicting_duplicates}."
            + (f" Tags repaired: {report.repaired_tags}." if report.repaired_tags else "")
        )


def label_chart(report: ValidationReport) -> None:
    """The label (or entity type) distribution."""
    if report.class_counts:
        task = get_task(report.task)
        title = f"{task.balance_unit.capitalize()} per {task.label_word}"
        st.plotly_chart(
            charts.label_distribution(report.class_counts, title), config={"displayModeBar": False}
        )


def split_table(report: ValidationReport) -> None:
    """How many examples (and of which label) go to train, validation and test."""
    sizes, per_label = report.split_sizes, report.split_counts
    if not sizes and not per_label:
        return
    labels = sorted({label for counts in per_label.values() for label in counts})
    rows = {split: [per_label.get(split, {}).get(label, 0) for label in labels] for split in SPLITS}
    frame = pd.DataFrame(rows, index=labels)
    task = get_task(report.task)
    frame.loc["All " + task.units()] = [sizes.get(s, int(frame[s].sum())) for s in SPLITS]
    frame.index.name = task.label_word
    st.dataframe(frame, width="stretch")


def report_view(report: ValidationReport) -> None:
    """The whole report: cards, messages, chart and split preview side by side, details."""
    summary_cards(report)
    messages(report)
    left, right = st.columns([1, 1])
    with left:
        label_chart(report)
    with right:
        st.markdown(
            "**Split preview**: the model learns from *train*, picks its best epoch on *validation* "
            "and is scored on *test*, which it never sees while training."
        )
        split_table(report)
    details(report)
