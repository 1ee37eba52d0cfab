"""The data validation report as a person reads it: numbers, then errors, warnings and notes."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from insight_ui.components import charts
from insight_ui.safe import md
from insight_ui.wording import in_app
from trainer.data import ValidationReport, pct
from trainer.i18n import N_, tr
from trainer.tasks import get_task

SPLITS = ("train", "validation", "test")
SPLIT_NAMES = {"train": N_("train"), "validation": N_("validation"), "test": N_("test")}

# trainer.tasks' words as the whole phrases shown here (keyed by the task's word), marked for the catalogue.
READ = {"texts": N_("Texts read"), "sentences": N_("Sentences read")}
USED = {"texts": N_("Texts used"), "sentences": N_("Sentences used")}
ALL = {"texts": N_("All texts"), "sentences": N_("All sentences")}
CLASSES = {"label": N_("Labels"), "entity type": N_("Entity types")}
LABEL_WORDS = {"label": N_("label"), "entity type": N_("entity type")}
PER_LABEL = {
    ("examples", "label"): N_("Examples per label"),
    ("entities", "entity type"): N_("Entities per entity type"),
}


def _said(words: dict, key: object, english: str) -> str:
    """`key`'s phrase from `words` in the current language; `english` (made from trainer's words) without one."""
    return tr(words[key]) if key in words else english


def summary_cards(report: ValidationReport) -> None:
    """Rows read / used / dropped, classes, imbalance and length checks as metric cards."""
    dropped = sum(report.dropped.values())
    task = get_task(report.task)
    units = task.units()
    unit = units.capitalize()
    cols = st.columns(5)
    cols[0].metric(_said(READ, units, f"{unit} read"), f"{report.rows_read:,}", border=True)
    cols[1].metric(_said(USED, units, f"{unit} used"), f"{report.rows_used:,}", border=True)
    cols[2].metric(
        tr("Dropped"), f"{dropped:,}", border=True, help=tr("Rows that could not be used; see below why.")
    )
    if report.imbalance_ratio:
        balance = tr(
            "Imbalance: largest class / smallest class. Here {ratio} to 1.",
            ratio=format(report.imbalance_ratio, ".1f"),
        )
    else:
        balance = tr("Imbalance: largest class / smallest class.")
    cols[3].metric(
        _said(CLASSES, task.label_word, task.label_word.capitalize() + "s"),
        len(report.class_counts),
        border=True,
        help=balance,
    )
    if report.max_length:
        cols[4].metric(
            tr("Max length (tokens)"),
            f"{report.max_length}",
            border=True,
            help=tr(
                "Texts longer than this are cut: {cut}. Words unknown to the model: {unknown}.",
                cut=pct(report.truncated_share),
                unknown=pct(report.unk_share),
            ),
        )
    else:
        cols[4].metric(
            tr("Max length (tokens)"),
            tr("auto"),
            border=True,
            help=tr("Chosen from the data when training starts."),
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
        st.success(tr("No problems found in this data."), icon=":material/check_circle:")


def details(report: ValidationReport) -> None:
    """What was dropped and merged, as small tables."""
    dropped, merged, unseen = report.dropped, report.merged_labels, report.unseen_labels
    if not (dropped or merged or unseen or report.duplicate_texts):
        return
    with st.expander(tr("What was dropped, merged or repaired"), expanded=bool(dropped or merged)):
        if dropped:
            st.markdown(tr("**Dropped rows**"))
            st.dataframe(
                pd.DataFrame({tr("reason"): [tr(r) for r in dropped], tr("rows"): list(dropped.values())}),
                hide_index=True,
                width="content",
            )
        if merged:
            st.markdown(tr("**Labels merged** (they differed only by case or spaces)"))
            st.dataframe(
                pd.DataFrame(
                    {
                        tr("kept as"): list(merged),
                        tr("also written as"): [", ".join(v) for v in merged.values()],
                    }
                ),
                hide_index=True,
                width="content",
            )
        if unseen:
            st.markdown(
                tr("**Labels only outside training** (those rows were dropped: the model cannot learn them)")
            )
            splits = [_said(SPLIT_NAMES, s, s) for s in unseen]
            st.dataframe(
                pd.DataFrame({tr("split"): splits, tr("labels"): [", ".join(v) for v in unseen.values()]}),
                hide_index=True,
                width="content",
            )
        if report.repaired_tags:
            duplicates = tr(
                "Duplicate texts: {duplicates}, of which with conflicting labels: {conflicting}. "
                "Tags repaired: {repaired}.",
                duplicates=report.duplicate_texts,
                conflicting=report.conflicting_duplicates,
                repaired=report.repaired_tags,
            )
        else:
            duplicates = tr(
                "Duplicate texts: {duplicates}, of which with conflicting labels: {conflicting}.",
                duplicates=report.duplicate_texts,
                conflicting=report.conflicting_duplicates,
            )
        st.caption(duplicates)


def label_chart(report: ValidationReport) -> None:
    """The label (or entity type) distribution."""
    if report.class_counts:
        task = get_task(report.task)
        english = f"{task.balance_unit.capitalize()} per {task.label_word}"
        title = _said(PER_LABEL, (task.balance_unit, task.label_word), english)
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
    units = task.units()
    frame.loc[_said(ALL, units, "All " + units)] = [sizes.get(s, int(frame[s].sum())) for s in SPLITS]
    frame.index.name = _said(LABEL_WORDS, task.label_word, task.label_word)
    frame.columns = [_said(SPLIT_NAMES, s, s) for s in SPLITS]
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
            tr(
                "**Split preview**: the model learns from *train*, picks its best epoch on *validation* "
                "and is scored on *test*, which it never sees while training."
            )
        )
        split_table(report)
    details(report)
