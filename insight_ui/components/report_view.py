"""The data validation report as a person reads it: numbers, then errors, warnings and notes."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from insight_ui import tasks
from insight_ui.components import charts
from insight_ui.datasets import in_app_words
from insight_ui.safe import md

SPLITS = ("train", "validation", "test")


def _as_dict(report: Any) -> dict:
    return report.to_dict() if hasattr(report, "to_dict") else dict(report or {})


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{share:.1%}" if share < 0.1 else f"{share:.0%}"


def summary_cards(report: dict) -> None:
    """Rows read / used / dropped, classes, imbalance and length checks as metric cards."""
    task = report.get("task")
    dropped = sum((report.get("dropped") or {}).values())
    counts = (report.get("entity_counts") if tasks.is_token(task) else report.get("label_counts")) or {}
    unit = tasks.unit(task).capitalize()
    cols = st.columns(5)
    cols[0].metric(f"{unit} read", f"{report.get('rows_read', 0):,}", border=True)
    cols[1].metric(f"{unit} used", f"{report.get('rows_used', 0):,}", border=True)
    cols[2].metric("Dropped", f"{dropped:,}", border=True, help="Rows that could not be used; see below why.")
    cols[3].metric(
        "Entity types" if tasks.is_token(task) else "Labels",
        len(counts),
        border=True,
        help="Imbalance: largest class / smallest class."
        + (f" Here {report['imbalance_ratio']:.1f} to 1." if report.get("imbalance_ratio") else ""),
    )
    if report.get("max_length"):
        cols[4].metric(
            "Max length (tokens)",
            f"{report['max_length']}",
            border=True,
            help=f"Texts longer than this are cut: {_pct(report.get('truncated_share'))}. "
            f"Words unknown to the model: {_pct(report.get('unk_share'))}.",
        )
    else:
        cols[4].metric(
            "Max length (tokens)", "auto", border=True, help="Chosen from the data when training starts."
        )


def messages(report: dict) -> None:
    """Errors in red, warnings in amber, notes neutral; every message is plain text."""
    for text in report.get("errors") or []:
        st.error(md(in_app_words(text)), icon=":material/error:")
    for text in report.get("warnings") or []:
        st.warning(md(in_app_words(text)), icon=":material/warning:")
    notes = report.get("notes") or []
    if notes:
        with st.container(border=True):
            for text in notes:
                st.markdown(f":material/info: {md(in_app_words(text))}")
    if not (report.get("errors") or report.get("warnings") or notes):
        st.success("No problems found in this data.", icon=":material/check_circle:")


def details(report: dict) -> None:
    """What was dropped and merged, as small tables."""
    dropped = report.get("dropped") or {}
    merged = report.get("merged_labels") or {}
    unseen = report.get("unseen_labels") or {}
    if not (dropped or merged or unseen or report.get("duplicate_texts")):
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
            f"Duplicate texts: {report.get('duplicate_texts', 0)}, "
            f"of which with conflicting labels: {report.get('conflicting_duplicates', 0)}."
            + (f" Tags repaired: {report.get('repaired_tags')}." if report.get("repaired_tags") else "")
        )


def label_chart(report: dict) -> None:
    """The label (or entity type) distribution."""
    token = tasks.is_token(report.get("task"))
    counts = (report.get("entity_counts") if token else report.get("label_counts")) or {}
    if counts:
        title = "Entities per type" if token else "Examples per label"
        st.plotly_chart(charts.label_distribution(counts, title), config={"displayModeBar": False})


def split_table(report: dict) -> None:
    """How many examples (and of which label) go to train, validation and test."""
    sizes = report.get("split_sizes") or {}
    per_label = report.get("split_counts") or {}
    if not sizes and not per_label:
        return
    labels = sorted({label for counts in per_label.values() for label in counts})
    rows = {split: [per_label.get(split, {}).get(label, 0) for label in labels] for split in SPLITS}
    frame = pd.DataFrame(rows, index=labels)
    frame.loc["All " + tasks.unit(report.get("task"))] = [sizes.get(s, int(frame[s].sum())) for s in SPLITS]
    frame.index.name = (
        tasks.class_word(report.get("task")).lower() if tasks.is_token(report.get("task")) else "label"
    )
    st.dataframe(frame, width="stretch")


def report_view(report: Any) -> None:
    """The whole report: cards, messages, chart and split preview side by side, details."""
    report = _as_dict(report)
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
