"""Explain: why did the model decide this? Word attributions (integrated gradients) and trust."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from insight_ui import layout, state
from insight_ui.components import charts, paging
from insight_ui.components.explanation import attribution_view
from insight_ui.components.heatmap import entity_spans_html
from insight_ui.components.runs import finished_runs, run_selector
from insight_ui.components.word_ranking import dataset_section
from insight_ui.reads import analysis, explaining
from insight_ui.safe import md, trim
from trainer.evaluate import predictions as tables
from trainer.evaluate.metrics import span_errors
from trainer.i18n import N_, tr
from trainer.runs import Run, load_run

INTRO = N_(
    "Pick an example or type your own text. Insight shows what the model predicts, which words pushed it "
    "there, and how far that explanation can be trusted."
)
MODES = {"test": N_("An example from the test texts"), "own": N_("My own text")}


def choose_text(run: Run, frame: pd.DataFrame | None) -> tuple[str, str]:
    """(text, where it came from) picked by the visitor."""
    if frame is None or frame.empty:
        state.put(state.EXPLAIN_MODE, "own")
    if not state.has(state.EXPLAIN_MODE):
        state.put(state.EXPLAIN_MODE, "test")
    mode = st.segmented_control(
        tr("Explain"), list(MODES), format_func=lambda m: tr(MODES[m]), key=state.EXPLAIN_MODE, required=True
    )
    if mode == "test" and frame is not None and not frame.empty:
        column = tables.text_column(frame)
        rows = (
            paging.search(frame, column, f"test_search_{run.path.name}")
            if len(frame) > paging.MAX_OPTIONS
            else frame
        )

        def label(i: int) -> str:
            row = frame.iloc[i]
            mark = "✓" if str(row["gold"]) == str(row["predicted"]) else "✗"
            if run.adapter.supports("entity_spans"):  # a sentence: its tags are too long to list
                return f"{mark} {trim(row[column], 100)}"
            return f"{mark} {trim(row['gold'], 20)} → {trim(row['predicted'], 20)} · {trim(row[column], 90)}"

        index = paging.picker(
            tr("Test example (✓ right, ✗ wrong; true → predicted)"),
            rows,
            label,
            f"test_example_{run.path.name}",
        )
        if index is None:
            return "", ""
        return str(frame.iloc[index][column]), tr("test example #{n}", n=index + 1)
    text = st.text_area(
        tr("Your text"),
        key=state.OWN_TEXT,
        persist_state="session",
        height=110,
        placeholder=tr("Type or paste a text, e.g. a review or a support message."),
    )
    origin = state.get(state.EXPLAIN_ORIGIN) if text == state.get(state.EXPLAIN_TEXT) else None
    return text, origin or tr("your text")


def explain_text_task(run: Run, text: str) -> None:
    with st.spinner(tr("Reading the text with the model and computing word attributions…")):
        first = explaining.explain_text(str(run.path), text, None)
    left, right = st.columns([2, 3], gap="large")
    with left:
        st.markdown(tr("**Prediction**"))
        st.metric(
            tr("Predicted label"),
            md(trim(first.predicted, 40)),
            border=True,
            help=tr(
                "Probability {share}; all labels below.", share=f"{first.probabilities[first.predicted]:.1%}"
            ),
        )
        labels = list(first.probabilities)
        st.plotly_chart(
            charts.probability_bars(labels, [first.probabilities[x] for x in labels], first.predicted),
            config={"displayModeBar": False},
            key="probabilities",
        )
        target = st.selectbox(
            tr("Explain the decision toward"),
            labels,
            index=labels.index(first.predicted),
            key=f"target_{hash(text)}",
            help=tr("By default the predicted label; pick another to see what speaks for or against it."),
        )
    exp = first
    if target != first.target:
        with st.spinner(tr("Computing word attributions…")):
            exp = explaining.explain_text(str(run.path), text, target)
    with right:
        attribution_view(exp, tr("Which words pushed toward “{label}”", label=trim(target, 40)))


def second_run(run: Run) -> Run | None:
    """Another finished run of the same task to explain side by side (chosen here or on Compare)."""
    others = [r for r in finished_runs() if r.path != run.path and r.task == run.info.task]
    options = [""] + [str(r.path) for r in others]
    state.put_unless_among(state.EXPLAIN_COMPARE, options, "")
    if not others:
        return None
    names = {str(r.path): r.name for r in others}
    chosen = st.selectbox(tr("Side by side with"), options, key=state.EXPLAIN_COMPARE,
                          format_func=lambda p: names.get(p, tr("(no other run)")),
                          help=tr("Explain the same text with a second run of the same task, next to this one."))  # fmt: skip
    return load_run(Path(chosen)) if chosen else None


def side_by_side(runs: list[Run], text: str) -> None:
    """The same text (or, for entities, the same word) explained by two runs, toward each one's answer."""
    columns = st.columns(2, gap="large")
    if runs[0].adapter.supports("word_explanations"):
        tokens = tuple(runs[0].adapter.read_input(text))
        if not tokens:
            return
        word = st.selectbox(tr("Word to explain"), range(len(tokens)), format_func=lambda i: tokens[i],
                            key=f"pair_word_{hash(tokens)}")  # fmt: skip
    for column, run in zip(columns, runs, strict=True):
        with column, st.spinner(md(tr("Explaining with {run}…", run=run.info.name))):
            st.markdown(f"#### {md(trim(run.info.name, 40))}")
            if run.adapter.supports("word_explanations"):
                tags, _ = explaining.predict_tags(str(run.path), tokens)
                st.html(entity_spans_html(list(tokens), tags, types=tables.entity_types(run.labels)))
                exp = explaining.explain_word(str(run.path), tokens, word, tags[word])
                heading = tr(
                    "Which words made “{word}” {tag}", word=trim(tokens[word], 30), tag=trim(tags[word], 20)
                )
            else:
                exp = explaining.explain_text(str(run.path), text, None)
                heading = tr("Which words pushed toward “{label}”", label=trim(exp.predicted, 40))
            sure = tr("{share} sure", share=f"{exp.probabilities[exp.predicted]:.0%}")
            st.metric(tr("Predicted"), md(trim(exp.predicted, 40)), border=True,
                      delta=sure, delta_color="off", delta_arrow="off")  # fmt: skip
            attribution_view(exp, heading)


def explain_token_task(run: Run, text: str, frame: pd.DataFrame | None) -> None:
    tokens = tuple(run.adapter.read_input(text))
    if not tokens:
        return
    with st.spinner(tr("Tagging the sentence…")):
        tags, confidence = explaining.predict_tags(str(run.path), tokens)
    gold = explaining.gold_tags(frame, tokens)
    types = tables.entity_types(run.labels)
    if gold is None:
        st.markdown(tr("**Entities the model finds**"))
        st.html(entity_spans_html(list(tokens), tags, types=types))
    else:
        missed, wrong = span_errors(gold, tags)
        true_col, predicted_col = st.columns(2)
        true_col.markdown(
            tr("**True entities** (dashed: missed by the model)") if missed else tr("**True entities**")
        )
        true_col.html(entity_spans_html(list(tokens), gold, missed, "missed", types))
        predicted_col.markdown(
            tr("**Entities the model finds** (✗: wrong)") if wrong else tr("**Entities the model finds**")
        )
        predicted_col.html(entity_spans_html(list(tokens), tags, wrong, "wrong", types))
    options = list(range(len(tokens)))
    default = next((i for i, t in enumerate(tags) if t != "O"), 0)
    word_key = f"word_{hash(tokens)}"
    wanted = state.get(state.EXPLAIN_WORD)
    if wanted is not None and text == state.get(state.EXPLAIN_TEXT) and 0 <= int(wanted) < len(tokens):
        state.put(word_key, int(wanted))  # the word clicked on another page
        state.put(state.EXPLAIN_WORD, None)
    left, right = st.columns([2, 3], gap="large")
    with left:
        word = st.selectbox(
            tr("Word to explain"),
            options,
            index=default,
            key=word_key,
            format_func=lambda i: f"{tokens[i]} → {tags[i]} ({confidence[i]:.0%})",
        )
        target = st.selectbox(
            tr("Explain the tag"),
            run.labels,
            index=run.labels.index(tags[word]) if tags[word] in run.labels else 0,
            key=f"tag_{hash(tokens)}_{word}",
        )
    with st.spinner(tr("Computing word attributions…")):
        exp = explaining.explain_word(str(run.path), tokens, word, target)
    with left:
        st.plotly_chart(
            charts.probability_bars(list(exp.probabilities), list(exp.probabilities.values()), exp.predicted),
            config={"displayModeBar": False},
            key="tag_probabilities",
        )
    with right:
        attribution_view(
            exp, tr("Which words made “{word}” {tag}", word=trim(tokens[word], 30), tag=trim(target, 20))
        )


def changed_copy(run: Run, text: str) -> str | None:
    """The small change of `text` handed over with it (Evaluate's changes that should not matter), or None."""
    changed = state.get(state.EXPLAIN_CHANGED)
    if changed and text == state.get(state.EXPLAIN_TEXT) and not run.adapter.supports("word_explanations"):
        return changed
    return None


def before_and_after(run: Run, text: str, changed: str) -> None:
    """A text and its small change side by side, both explained toward the original answer."""
    with st.spinner(tr("Computing word attributions…")):
        first = explaining.explain_text(str(run.path), text, None)
        second = explaining.explain_text(str(run.path), changed, first.predicted)
    st.caption(tr("The text and its small change, both explained toward “{label}”: the words whose colour moved "
                  "are the ones that changed the answer.", label=trim(first.predicted, 40)))  # fmt: skip
    columns = st.columns(2, gap="large")
    for column, exp, title in zip(columns, (first, second), (tr("Before the change"), tr("After the change")),
                                  strict=True):  # fmt: skip
        with column:
            st.markdown(f"#### {title}")
            sure = tr("{share} sure", share=f"{exp.probabilities[exp.predicted]:.0%}")
            st.metric(tr("Predicted"), md(trim(exp.predicted, 40)), border=True,
                      delta=sure, delta_color="off", delta_arrow="off")  # fmt: skip
            attribution_view(exp, tr("Which words pushed toward “{label}”", label=trim(first.predicted, 40)))


def render() -> None:
    run = run_selector("explain_run")
    if run is None:
        layout.empty_state(
            tr("No trained model yet. Train one first, then come back to see why it decides."),
            "train",
            tr("Go to Train"),
        )
        return
    frame = analysis.predictions(run)
    text, origin = choose_text(run, frame)
    other = second_run(run)
    if not text or not text.strip():
        st.info(tr("Type a text above to see the model's prediction and why."), icon=":material/edit:")
    elif changed_copy(run, text):
        before_and_after(run, text, changed_copy(run, text))
    elif other is not None:
        st.caption(md(tr("Explaining {origin} with two runs.", origin=origin)))
        side_by_side([run, other], text)
    else:
        st.caption(md(tr("Explaining {origin}.", origin=origin)))
        if run.adapter.supports("word_explanations"):
            explain_token_task(run, text, frame)
        else:
            explain_text_task(run, text)
    dataset_section(run, frame)


layout.page(tr("Explain"), tr(INTRO), render)
