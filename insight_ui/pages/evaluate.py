"""Evaluate: scores, per-class table, clickable confusion matrix, mistakes, likely label issues."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from insight_ui import auth, layout, state
from insight_ui.components import background, charts, paging
from insight_ui.components.evaluate_words import (
    ACTION_NAMES,
    INTERVAL_NOTES,
    ISSUE_SCORE,
    ISSUE_SCORE_HELP,
    PER_CLASS,
    SPLIT_TOTALS,
    SPLITS,
    TEXT_COLUMNS,
    cell_count,
    class_word,
    issues_note,
    label_chance,
)
from insight_ui.components.heatmap import entity_spans_html
from insight_ui.components.runs import run_selector
from insight_ui.reads import analysis
from insight_ui.safe import md, plot_label, trim
from trainer.data.safe_csv import csv_bytes
from trainer.evaluate import predictions as tables
from trainer.evaluate.metrics import span_errors
from trainer.evaluate.uncertainty import interval_text
from trainer.i18n import N_, tr
from trainer.inspect import corrections
from trainer.inspect.corrections import ACTIONS, Correction, corrected_dataset
from trainer.runs import Run

INTRO = N_(
    "How good is the model, and where does it go wrong? Scores are measured on the **test split**: "
    "examples the model never saw while training."
)
CM_TRUE, CM_PRED, CM_CLICK = "cm_true", "cm_pred", "cm_last_click"
PER_PAGE = 10
SPAN_LEGEND = N_(
    "Left: the true entities; right: what the model predicted. A red outline with ✗ marks a predicted "
    "entity that is wrong (its words or its type differ from the truth); a dashed outline marks a true "
    "entity the model missed."
)


def score_cards(run: Run, split: str, metrics: dict) -> None:
    cards = run.adapter.metric_cards
    cols = st.columns(len(cards) + 1)
    found = analysis.intervals(run) if split == "test" else {}
    for col, card in zip(cols, cards, strict=False):
        value = metrics.get(card.key)
        col.metric(tr(card.title), "–" if value is None else f"{value:.1%}", help=tr(card.help), border=True,
                   delta=interval_text(found.get(card.key)) or None, delta_color="off", delta_arrow="off")  # fmt: skip
    total = SPLIT_TOTALS.get((split, run.adapter.unit))
    cols[-1].metric(
        tr(total) if total else f"{split.capitalize()} {run.adapter.units()}",
        f"{metrics.get('n', 0):,}",
        border=True,
        help=tr("How many examples these scores are measured on. Few examples: noisy scores."),
    )
    if found:
        st.caption(
            tr(INTERVAL_NOTES.get(run.adapter.unit, INTERVAL_NOTES["text"]), n=f"{metrics.get('n', 0):,}")
        )


def per_class_table(run: Run, metrics: dict) -> None:
    frame = analysis.per_class_frame(metrics)
    if frame.empty:
        return
    word = run.adapter.class_word
    st.subheader(tr(PER_CLASS[word]) if word in PER_CLASS else f"Per {word.lower()}")
    st.caption(
        tr(
            "Precision: of the examples predicted as this class, how many are right. Recall: of the "
            "examples of this class, how many the model finds. F1 balances the two."
        )
    )
    bar = {"min_value": 0.0, "max_value": 1.0, "format": "percent"}
    st.dataframe(
        frame.sort_values("f1"),
        hide_index=True,
        width="stretch",
        column_config={
            "class": st.column_config.TextColumn(class_word(run)),
            "precision": st.column_config.ProgressColumn(tr("Precision"), **bar),
            "recall": st.column_config.ProgressColumn(tr("Recall"), **bar),
            "f1": st.column_config.ProgressColumn("F1", **bar),
            "support": st.column_config.NumberColumn(tr("Examples")),
        },
    )


def apply_click(event: object, labels: list[str]) -> None:
    """A clicked heatmap cell selects (true, predicted) in the two selectboxes below it."""
    points = getattr(getattr(event, "selection", None), "points", None) or []
    if not points:
        return
    point = points[0]
    cell = point.get("customdata")
    if isinstance(cell, list) and len(cell) == 2:
        gold, predicted = labels[int(cell[0])], labels[int(cell[1])]
    else:
        names = [plot_label(x, 24) for x in labels]
        if point.get("x") not in names or point.get("y") not in names:
            return
        gold, predicted = labels[names.index(point["y"])], labels[names.index(point["x"])]
    if st.session_state.get(CM_CLICK) != (gold, predicted):
        st.session_state[CM_CLICK] = (gold, predicted)
        st.session_state[CM_TRUE], st.session_state[CM_PRED] = gold, predicted


def open_button(frame: pd.DataFrame, selected: list[int], key: str, origin: str) -> None:
    """'Explain this example' for the selected row of `frame`."""
    if not selected:
        st.caption(tr("Select a row to explain it."))
        return
    row = frame.iloc[selected[0]]
    text = str(row[tables.text_column(frame)])
    if st.button(tr("Explain this example"), icon=":material/lightbulb:", key=key):
        origin = tr("{origin}: true label {gold}, predicted {predicted}", origin=origin, gold=row["gold"],
                    predicted=row["predicted"])  # fmt: skip
        state.open_in_explain(text, origin)
        layout.go("explain")


def example_table(frame: pd.DataFrame, key: str, labels: list[str]) -> list[int]:
    """A selectable table of examples; returns the selected row positions."""
    column = tables.text_column(frame)
    shown = [column, "gold", "predicted", "confidence"]
    event = st.dataframe(
        frame[shown],
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key=key,
        height=min(400, 38 + 35 * max(1, len(frame))),
        column_config={
            column: st.column_config.TextColumn(
                tr(TEXT_COLUMNS[column]) if column in TEXT_COLUMNS else column.capitalize(), width="large"
            ),
            "gold": tr("True label"),
            "predicted": tr("Predicted"),
            "confidence": st.column_config.ProgressColumn(
                tr("Confidence"), min_value=0.0, max_value=1.0, format="percent"
            ),
        },
    )
    return list(event.selection.rows) if event is not None else []


def confusion_section(run: Run, metrics: dict, frame: pd.DataFrame | None) -> None:
    cm = metrics.get("confusion_matrix") or {}
    labels, matrix = cm.get("labels") or [], cm.get("matrix") or []
    if not labels:
        return
    st.subheader(tr("Confusion matrix"))
    st.caption(
        tr(
            "Rows are the true labels, columns what the model predicted; the diagonal is right. "
            "Click a cell (or pick it below) to list those examples."
        )
    )
    left, right = st.columns([3, 2], gap="large")
    with left:
        normalise = st.toggle(tr("Show shares of each true label"), key="cm_normalise")
        event = st.plotly_chart(
            charts.confusion_matrix(labels, matrix, normalise),
            on_select="rerun",
            selection_mode="points",
            key="confusion_matrix",
            config={"displayModeBar": False},
        )
        apply_click(event, labels)
    with right:
        if CM_TRUE not in st.session_state or st.session_state[CM_TRUE] not in labels:
            st.session_state[CM_TRUE], st.session_state[CM_PRED] = tables.biggest_confusion(labels, matrix)
        gold = st.selectbox(tr("True label"), labels, key=CM_TRUE)
        predicted = st.selectbox(tr("Predicted label"), labels, key=CM_PRED)
    if frame is None:
        return
    by_word = run.adapter.supports("entity_spans")
    rows = tables.cell_rows(frame, gold, predicted, by_word)
    st.markdown(cell_count(run, len(rows), md(trim(gold, 40)), md(trim(predicted, 40))))
    if not len(rows):
        return
    if by_word:
        st.caption(tr(SPAN_LEGEND))
        sentence_pairs(run, rows.head(PER_PAGE), "cell")
        if len(rows) > PER_PAGE:
            st.caption(tr("The {shown} most confident of {n}.", shown=PER_PAGE, n=len(rows)))
        return
    shown = paging.page_of(rows, "cell_rows")
    selected = example_table(shown, "cell_table", labels)
    open_button(shown, selected, "explain_cell", tr("Confusion matrix"))


def sentence_pairs(run: Run, rows: pd.DataFrame, key: str) -> None:
    """Each sentence twice, side by side: true entities (missed ones dashed), predicted (wrong ones ✗)."""
    types = tables.entity_types(run.labels)
    head = st.columns([5, 5, 1])
    head[0].markdown(tr("**True entities**"))
    head[1].markdown(tr("**Predicted entities**"))
    for position, (_, row) in enumerate(rows.iterrows()):
        tokens, gold, predicted = (str(row[c]).split() for c in ("tokens", "gold", "predicted"))
        missed, wrong = span_errors(gold, predicted)
        left, right, action = st.columns([5, 5, 1], vertical_alignment="center")
        left.html(entity_spans_html(tokens, gold, missed, "missed", types))
        right.html(entity_spans_html(tokens, predicted, wrong, "wrong", types))
        if action.button(
            "",
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


def mistakes_section(run: Run, frame: pd.DataFrame | None) -> None:
    if frame is None:
        return
    wrong = tables.misclassified(frame)
    st.subheader(tr("Mistakes, most confident first"))
    if wrong.empty:
        st.success(tr("The model gets every test example right."), icon=":material/check_circle:")
        return
    st.caption(
        tr(
            "A confident mistake is worth a look: the model may have learned a shortcut — or the label may be "
            "wrong."
        )
    )
    shown = paging.page_of(wrong, "mistakes")
    selected = example_table(shown, "mistakes_table", run.labels)
    open_button(shown, selected, "explain_mistake", tr("Mistake"))


ISSUES_PER_PAGE = 50


def issues_section(run: Run) -> None:
    """Likely label issues over every split (a background job), decided row by row, then trained on again."""
    st.subheader(tr("Likely label issues"))
    issues = run.folder.issues()
    if issues is None:
        label = tr(
            "Looking for likely label issues in every split (cross-validated over the model's embeddings)"
        )
        if background.job_task(run.path, "issues", label):
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
    st.caption(issues_note(run, len(issues), int(meta.get("rows", 0) or 0), by_word))
    saved: dict[tuple, Correction] = corrections.load(
        run.path
    )  # saved in the run folder: a refresh keeps them
    before, owner = dict(saved), auth.can_change(run.path)
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
    table["action"] = [saved.get(k, Correction()).action for k in keys]
    table["new label"] = [
        saved[k].label if k in saved and saved[k].label else s
        for k, s in zip(keys, table["suggested"], strict=True)
    ]
    table["chance"] = [label_chance(s) for s in pd.to_numeric(table["score"], errors="coerce")]
    columns = ["split", "text", "word_text", "given", "suggested", "chance", "action", "new label"]
    edited = st.data_editor(
        table[[c for c in columns if c in table and (c != "word_text" or by_word)]],
        hide_index=True,
        width="stretch",
        key=f"issues_{run.path.name}_{page}_{'-'.join(splits)}",
        disabled=["split", "text", "word_text", "given", "suggested", "chance"] if owner else True,
        column_config={
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
        },
    )
    for key, action, new in zip(keys, edited["action"], edited["new label"], strict=True):
        if action in ("drop", "relabel"):
            saved[key] = Correction(str(action), str(new) if action == "relabel" else None)
        else:
            saved.pop(key, None)
    if saved != before and owner:  # relabelling is the owner's (and an admin's)
        corrections.save(run.path, saved)
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


def render() -> None:
    run = run_selector("evaluate_run")
    if run is None:
        layout.empty_state(
            tr("No trained model yet. Train one first; its scores appear here."), "train", tr("Go to Train")
        )
        return
    split, metrics = analysis.scores_of(run)
    if not metrics:
        st.warning(
            tr("This run has no scores (it has no validation or test split)."), icon=":material/warning:"
        )
        return
    frame = analysis.predictions(run)
    score_cards(run, split, metrics)
    per_class_table(run, metrics)
    confusion_section(run, metrics, frame)
    if run.adapter.supports("entity_spans"):
        sentences_section(run, frame)
    if run.adapter.supports("mistakes"):
        mistakes_section(run, frame)
    if run.adapter.supports("label_issues"):
        issues_section(run)


layout.page(tr("Evaluate"), tr(INTRO), render)
