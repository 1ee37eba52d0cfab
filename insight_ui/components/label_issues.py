"""Likely label issues on the Evaluate page: the background computation that finds them, the table in
which each is decided (keep, drop, relabel), and the corrected dataset to download or train on again."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from insight_ui import auth, layout, state
from insight_ui.components import background
from insight_ui.components.evaluate_words import (
    ACTION_NAMES,
    ISSUE_METHOD,
    ISSUE_SCORE,
    ISSUE_SCORE_HELP,
    SPLITS,
    issues_note,
    label_chance,
)
from insight_ui.reads import analysis
from trainer.data.report import split_name
from trainer.data.safe_csv import csv_bytes
from trainer.i18n import tr
from trainer.inspect import corrections
from trainer.inspect.corrections import ACTIONS, Correction, corrected_dataset
from trainer.runs import Run

ISSUES_PER_PAGE = 50
SHOWN = ["split", "text", "word_text", "given", "suggested", "chance", "action", "new label"]
READ_ONLY = ["split", "text", "word_text", "given", "suggested", "chance"]


def issues_section(run: Run) -> None:
    """Likely label issues over every split (a background job), decided row by row, then trained on again."""
    st.subheader(tr("Likely label issues"), help=tr("Examples whose label may be wrong. See the Glossary."))
    issues = run.folder.issues()
    if issues is None:
        label = tr(
            "Looking for labels that may be wrong, in every split: each part of the data is checked by a model "
            "that never saw it"
        )
        if background.job_computation(run.path, "issues", label):
            state.job_manager().forget_computation(run.path, "issues")  # it finished, yet its file is gone
            st.rerun()
        return
    meta = run.folder.issues_meta()
    # the file is read without NA: a text run's empty word cells are "", not missing
    by_word = "word" in issues and pd.to_numeric(issues["word"], errors="coerce").notna().any()
    if issues.empty:
        st.success(
            tr(
                "No example of any split looks mislabeled ({rows} checked).",
                rows=f"{meta.get('rows', '?'):,}",
            ),
            icon=":material/check_circle:",
        )
        return
    st.caption(issues_note(run, len(issues), int(meta.get("rows", 0) or 0), by_word), help=tr(ISSUE_METHOD))
    saved: dict[tuple, Correction] = corrections.load(
        run.path
    )  # saved in the run folder: a refresh keeps them
    before, owner = dict(saved), auth.can_change(run.path)
    decide(run, issues, saved, by_word, owner)
    if saved != before and owner:  # relabelling is the owner's (and an admin's)
        corrections.save(run.path, saved)
    corrected_actions(run, saved, owner)


def decide(
    run: Run, issues: pd.DataFrame, saved: dict[tuple, Correction], by_word: bool, owner: bool
) -> None:
    """One page of the issues of the chosen splits as an editable table; its decisions go into `saved`."""
    left, right = st.columns([2, 1])
    splits = left.multiselect(tr("Splits"), ["train", "validation", "test"], default=["train", "validation", "test"],
                              format_func=lambda s: tr(SPLITS[s]), key=f"issue_splits_{run.path.name}")  # fmt: skip
    shown = issues[issues["split"].isin(splits)]
    pages = max(1, -(-len(shown) // ISSUES_PER_PAGE))
    page = int(
        right.number_input(
            tr("Page (of {pages})", pages=pages), 1, pages, 1, key=f"issue_page_{run.path.name}"
        )
    )
    table = shown.iloc[(page - 1) * ISSUES_PER_PAGE : page * ISSUES_PER_PAGE].copy()
    keys = [_key(r) for _, r in table.iterrows()]
    if "split" in table.columns:  # the split's name in the visitor's language (the key keeps the stored one)
        table["split"] = [split_name(s) for s in table["split"]]
    table["action"] = [saved.get(k, Correction()).action for k in keys]
    table["new label"] = [
        saved[k].label if k in saved and saved[k].label else s
        for k, s in zip(keys, table["suggested"], strict=True)
    ]
    table["chance"] = [label_chance(s) for s in pd.to_numeric(table["score"], errors="coerce")]
    edited = st.data_editor(
        table[[c for c in SHOWN if c in table and (c != "word_text" or by_word)]],
        hide_index=True,
        width="stretch",
        key=f"issues_{run.path.name}_{page}_{'-'.join(splits)}",
        disabled=READ_ONLY if owner else True,
        column_config=_columns(run),
    )
    for key, action, new in zip(keys, edited["action"], edited["new label"], strict=True):
        if action in ("drop", "relabel"):
            saved[key] = Correction(str(action), str(new) if action == "relabel" else None)
        else:
            saved.pop(key, None)


def _columns(run: Run) -> dict:
    """The issues table's column headings and editors."""
    return {
        "split": tr("Split"),
        "text": st.column_config.TextColumn(tr("Text"), width="large"),
        "word_text": tr("Word"),
        "given": tr("Given label"),
        "suggested": tr("Model suggests"),
        "chance": st.column_config.TextColumn(tr(ISSUE_SCORE), help=tr(ISSUE_SCORE_HELP)),
        "action": st.column_config.SelectboxColumn(
            tr("Action"),
            options=list(ACTIONS),
            required=True,
            help=tr("keep, drop, or relabel to the new label"),
            format_func=lambda a: tr(ACTION_NAMES[a]) if a in ACTION_NAMES else str(a),
        ),
        "new label": st.column_config.SelectboxColumn(
            tr("New label"), options=run.labels, help=tr("Used by relabel.")
        ),
    }


def corrected_actions(run: Run, saved: dict[tuple, Correction], owner: bool) -> None:
    """What the decisions add up to, the corrected CSV to download, and the button to train on it."""
    corrected = corrected_dataset(run, saved)
    drops = sum(fix.action == "drop" for fix in saved.values())
    st.caption(
        tr(
            "{drops} to drop, {relabels} to relabel; the corrected dataset has {rows} rows.",
            drops=drops,
            relabels=len(saved) - drops,
            rows=f"{len(corrected):,}",
        )
    )
    left, right = st.columns(2)
    data = analysis.to_csv_bytes(corrected)  # the data as it is, to train on again
    left.download_button(
        tr("Download corrected CSV"),
        csv_bytes(corrected),  # what a person opens in a spreadsheet: formula-like cells neutralised
        file_name=f"{run.path.name}-corrected.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click=auth.recorder("download", f"{run.path.name}/corrected.csv"),
    )
    if right.button(tr("Use it as the current dataset"), icon=":material/restart_alt:", key="use_corrected",
                    disabled=not owner, help=None if owner else tr("Relabelling is the run owner's.")):  # fmt: skip
        state.set_dataset(f"{run.path.name}-corrected.csv", data, "corrected")
        layout.go("data")


def _key(issue: pd.Series) -> tuple:
    """Which row (and, for a sentence, which word) a decision is about."""
    word = issue.get("word")
    return (
        str(issue["split"]),
        int(issue["index"]),
        None if word is None or word != word or word == "" else int(word),
    )
