"""Evaluate: scores, per-class table, clickable confusion matrix, mistakes, likely label issues."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from insight_ui import layout, state
from insight_ui.components import charts, entity_sentences, paging, weak_slices
from insight_ui.components import plain_words as plain
from insight_ui.components.evaluate_words import (
    CLASS_COLUMNS,
    CLASS_TABLE_NOTE,
    INTERVAL_NOTES,
    PER_CLASS,
    SPLIT_TOTALS,
    TEXT_COLUMNS,
    cell_count,
    class_word,
)
from insight_ui.components.label_issues import issues_section
from insight_ui.components.runs import run_selector
from insight_ui.reads import analysis
from insight_ui.safe import md, plot_label, trim
from trainer.evaluate import predictions as tables
from trainer.evaluate.uncertainty import interval_text
from trainer.i18n import N_, percent, tr
from trainer.runs import Run

INTRO = N_("How good is the model, and where does it go wrong?")
CM_TRUE, CM_PRED, CM_CLICK = state.CM_TRUE, state.CM_PRED, state.CM_CLICK


def score_cards(run: Run, split: str, metrics: dict) -> None:
    """The plain sentence first, then the everyday scores; every technical score in one expander."""
    found = analysis.intervals(run) if split == "test" else {}
    sentence = plain.headline(run, split, metrics, found)
    if sentence:
        st.markdown(f"#### {sentence}")
    for line in (plain.basis(run, metrics) if found else None, plain.weakest(run, metrics)):
        if line:
            st.caption(line)
    cards = {card.key: card for card in run.adapter.metric_cards}
    leading = [cards[k] for k in plain.LEADING.get(run.adapter.unit, ()) if k in cards] or list(
        cards.values()
    )
    cols = st.columns(len(leading) + 1)
    for col, card in zip(cols, leading, strict=False):
        value = metrics.get(card.key)
        col.metric(plain.score_title(card), "–" if value is None else percent(value), help=plain.score_help(card),
                   border=True, delta=plain.between(found.get(card.key)), delta_color="off", delta_arrow="off")  # fmt: skip
    total = SPLIT_TOTALS.get((split, run.adapter.unit))
    cols[-1].metric(
        tr(total) if total else f"{split.capitalize()} {run.adapter.units()}",
        f"{metrics.get('n', 0):,}",
        border=True,
        help=tr(
            "How many examples these scores are measured on, set aside before training. Few examples: noisy scores."
        ),
    )
    with st.expander(tr("Details for specialists: every score with its 95% interval")):
        technical_cards(run, metrics, found)


def technical_cards(run: Run, metrics: dict, found: dict) -> None:
    """The adapter's score cards by their technical names, with their bootstrap intervals."""
    cards = run.adapter.metric_cards
    for col, card in zip(st.columns(len(cards)), cards, strict=False):
        value = metrics.get(card.key)
        col.metric(tr(card.title), "–" if value is None else f"{value:.1%}", help=tr(card.help), border=True,
                   delta=interval_text(found.get(card.key)) or None, delta_color="off", delta_arrow="off")  # fmt: skip
    if found:
        st.caption(
            tr(INTERVAL_NOTES.get(run.adapter.unit, INTERVAL_NOTES["text"]), n=f"{metrics.get('n', 0):,}")
        )
    plain.glossary_link()


def per_class_table(run: Run, metrics: dict) -> None:
    frame = analysis.per_class_frame(metrics)
    if frame.empty:
        return
    word = run.adapter.class_word
    st.subheader(tr(PER_CLASS[word]) if word in PER_CLASS else f"Per {word.lower()}")
    st.caption(tr(CLASS_TABLE_NOTE))
    bar = {"min_value": 0.0, "max_value": 1.0, "format": "percent"}
    heads = {key: (tr(title), tr(help_)) for key, (title, help_) in CLASS_COLUMNS.items()}
    st.dataframe(
        frame.sort_values("f1"),
        hide_index=True,
        width="stretch",
        column_config={
            "class": st.column_config.TextColumn(class_word(run)),
            "precision": st.column_config.ProgressColumn(heads["precision"][0], help=heads["precision"][1], **bar),
            "recall": st.column_config.ProgressColumn(heads["recall"][0], help=heads["recall"][1], **bar),
            "f1": st.column_config.ProgressColumn(heads["f1"][0], help=heads["f1"][1], **bar),
            "support": st.column_config.NumberColumn(heads["support"][0], help=heads["support"][1]),
        },
    )  # fmt: skip


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
    if state.get(CM_CLICK) != (gold, predicted):
        state.put(CM_CLICK, (gold, predicted))
        state.put(CM_TRUE, gold)
        state.put(CM_PRED, predicted)


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
    st.subheader(tr("Which labels it mixes up (the confusion matrix)"))
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
        if not state.has(CM_TRUE) or state.get(CM_TRUE) not in labels:
            gold, predicted = tables.biggest_confusion(labels, matrix)
            state.put(CM_TRUE, gold)
            state.put(CM_PRED, predicted)
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
        entity_sentences.cell_sentences(run, rows)
        return
    shown = paging.page_of(rows, "cell_rows")
    selected = example_table(shown, "cell_table", labels)
    open_button(shown, selected, "explain_cell", tr("Confusion matrix"))


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
        entity_sentences.sentences_section(run, frame)
    if run.adapter.supports("mistakes"):
        mistakes_section(run, frame)
    weak_slices.section(run, frame)
    if run.adapter.supports("label_issues"):
        issues_section(run)


layout.page(tr("Evaluate"), tr(INTRO), render)
