"""Explain: why did the model decide this? Word attributions (integrated gradients) and trust."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from insight_ui import layout, state
from insight_ui.components import charts, paging
from insight_ui.components.heatmap import entity_spans_html, legend_html, token_heatmap_html
from insight_ui.components.progress import duration
from insight_ui.components.runs import finished_runs, run_selector
from insight_ui.reads import analysis, explaining
from insight_ui.safe import md, plot_label, trim
from trainer.data.safe_csv import csv_bytes
from trainer.evaluate import predictions as tables
from trainer.evaluate.metrics import span_errors
from trainer.i18n import N_, tr
from trainer.jobs.worker import computation_name
from trainer.runs import Run, load_run

INTRO = N_(
    "Pick an example or type your own text. Insight shows what the model predicts and which words "
    "pushed it there, measured with *integrated gradients*, plus how far that explanation can be trusted."
)
TRUST_BADGE = {
    "good": ("green", ":material/verified:"),
    "fair": ("orange", ":material/info:"),
    "poor": ("red", ":material/warning:"),
}
TRUST_LEVELS = {
    "good": N_("Explanation trust: good"),
    "fair": N_("Explanation trust: fair"),
    "poor": N_("Explanation trust: poor"),
}
MODES = {"test": N_("An example from the test split"), "own": N_("My own text")}


def choose_text(run: Run, frame: pd.DataFrame | None) -> tuple[str, str]:
    """(text, where it came from) picked by the visitor."""
    if frame is None or frame.empty:
        st.session_state[state.EXPLAIN_MODE] = "own"
    if state.EXPLAIN_MODE not in st.session_state:
        st.session_state[state.EXPLAIN_MODE] = "test"
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


def trust_box(exp) -> None:
    colour, icon = TRUST_BADGE.get(exp.trust, ("gray", ":material/help:"))
    badge = TRUST_LEVELS.get(exp.trust)
    st.badge(
        tr(badge) if badge else tr("Explanation trust: {level}", level=exp.trust), color=colour, icon=icon
    )
    st.caption(
        md(
            tr(
                "{reason} Delta (how far the word scores miss the model's score change): "
                "{delta} logits, {share} of the change.",
                reason=exp.trust_reason,
                delta=f"{exp.delta:+.4f}",
                share=f"{exp.relative_delta:.1%}",
            )
        )
    )


def attribution_view(exp, heading: str) -> None:
    """Heatmap, legend, trust and faithfulness for one explanation."""
    st.markdown(f"**{md(heading)}**")
    st.html(token_heatmap_html(exp.text, exp.words, exp.scores, exp.word_spans))
    st.html(legend_html(exp.target))
    trust_box(exp)
    sentence = explaining.faithfulness_sentence(exp)
    if sentence:
        st.markdown(":material/science: " + md(sentence))
    if exp.truncated:
        st.caption(tr("Only the start of this text was read: it is longer than the model's max length."))
    with st.expander(tr("Token-level view")):
        st.caption(tr("The model reads subword tokens; each word's score is the sum of its tokens' scores."))
        st.dataframe(
            explaining.token_frame(exp),
            hide_index=True,
            width="stretch",
            column_config={
                "token": tr("token"),
                "score": st.column_config.NumberColumn(tr("score"), format="%+.4f"),
                "word": tr("word"),
            },
        )


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
    if st.session_state.get(state.EXPLAIN_COMPARE) not in options:
        st.session_state[state.EXPLAIN_COMPARE] = ""
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


def gold_tags(frame: pd.DataFrame | None, tokens: tuple[str, ...]) -> list[str] | None:
    """The true tags of a test sentence, when `tokens` is one."""
    if frame is None or frame.empty or "tokens" not in frame.columns:
        return None
    match = frame[frame["tokens"].astype(str) == " ".join(tokens)]
    return str(match.iloc[0]["gold"]).split() if len(match) else None


def explain_token_task(run: Run, text: str, frame: pd.DataFrame | None) -> None:
    tokens = tuple(run.adapter.read_input(text))
    if not tokens:
        return
    with st.spinner(tr("Tagging the sentence…")):
        tags, confidence = explaining.predict_tags(str(run.path), tokens)
    gold = gold_tags(frame, tokens)
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
        st.session_state[word_key] = int(wanted)  # the word clicked on another page
        st.session_state[state.EXPLAIN_WORD] = None
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


def dataset_section(run: Run, frame: pd.DataFrame | None) -> None:
    """The words that push most toward each label over the test split: a stratified sample answers first."""
    from trainer.attribution.dataset import SAMPLE, estimate_seconds

    st.divider()
    st.subheader(tr("Across the test split"))
    if not run.adapter.supports("dataset_ranking") or frame is None or frame.empty:
        st.caption(
            tr("Dataset-wide word rankings are computed for text classification runs with a test split.")
        )
        return
    manager = state.job_manager()
    n, speed = len(frame), run.folder.rank_speed()  # seconds per text, as last measured here
    sample, everything = min(SAMPLE, n), estimate_seconds(n, speed)
    tasks = {
        limit: manager.computation(run.path, computation_name("rank", {"limit": limit}))
        for limit in ("sample", "all")
    }
    running = next((limit for limit, t in tasks.items() if t is not None and t.running), None)
    if run.folder.top_words() is None and running is None:
        if everything is None:
            intro = tr(
                "Rank the words that push the model toward each label, from integrated gradients over the test "
                "texts. A stratified sample of {sample} texts answers first; how long it takes is measured on "
                "the first texts and shown while it runs.",
                sample=f"{sample:,}",
            )
        else:
            intro = tr(
                "Rank the words that push the model toward each label, from integrated gradients over the test "
                "texts. A stratified sample of {sample} texts answers first (about {sample_time} at the speed "
                "last measured on this computer); all {n} take about {all_time}.",
                sample=f"{sample:,}",
                sample_time=duration(estimate_seconds(sample, speed)),
                n=f"{n:,}",
                all_time=duration(everything),
            )
        st.caption(intro)
        if st.button(
            tr("Find the words that matter"), icon=":material/travel_explore:", key="start_top_words"
        ):
            manager.start_computation(run.path, "rank", limit="sample")
            st.rerun()
        return
    live_ranking(run, running, n)


def progress_line(done: int, total: int, eta_seconds: float | None) -> str:
    """The line under the ranking's bar: how far, and the time left at the speed measured so far."""
    if eta_seconds is None:
        return tr(
            "Explaining test texts: {done} of {total} (measuring this computer's speed on the first texts…)",
            done=f"{done:,}",
            total=f"{total:,}" if total else "…",
        )
    return tr(
        "Explaining test texts: {done} of {total}, about {time} left at the speed measured here",
        done=f"{done:,}",
        total=f"{total:,}",
        time=duration(eta_seconds),
    )


def live_ranking(run: Run, running: str | None, n: int) -> None:
    """The ranking as it stands, refreshed while the job explains more texts."""
    from trainer.attribution.dataset import estimate_seconds

    manager = state.job_manager()

    @st.fragment(run_every=2.0 if running else None)
    @layout.guarded
    def live() -> None:
        task = (
            manager.computation(run.path, computation_name("rank", {"limit": running})) if running else None
        )
        if running and (task is None or not task.running):
            st.rerun()  # it just finished: draw the final ranking with its buttons
        if task is not None:
            st.progress(task.progress, text=progress_line(task.done, task.total, task.eta_seconds))
            if st.button(tr("Stop"), key="stop_top_words", icon=":material/stop_circle:"):
                manager.stop_computation(run.path, task.name)
        saved, meta = run.folder.top_words(), run.folder.top_words_meta()
        if saved is not None:
            top_words_view(run, saved, meta, done=task is None)
        failed = [t for t in (manager.computation(run.path, computation_name("rank", {"limit": x})) for x in ("sample", "all"))
                  if t is not None and t.status == "failed"]  # fmt: skip
        if failed and task is None:
            st.error(md(failed[0].error or tr("The ranking failed.")), icon=":material/error:")
        everything = estimate_seconds(n, run.folder.rank_speed())
        label = (
            tr("Explain all {n} test texts", n=f"{n:,}")
            if everything is None
            else tr("Explain all {n} test texts (about {time})", n=f"{n:,}", time=duration(everything))
        )
        if (
            task is None
            and meta.get("explained", 0) < n
            and st.button(label, key="rank_all", icon=":material/playlist_add_check:")
        ):
            manager.forget_computation(run.path, computation_name("rank", {"limit": "all"}))
            manager.start_computation(run.path, "rank", limit="all")
            st.rerun()

    live()


def left_out_caption(frame: pd.DataFrame, common: int) -> str:
    """What the ranking leaves out, with examples of common words in the language of its words."""
    from trainer.data.common_words import EXAMPLES
    from trainer.data.word_rule import is_cjk

    chinese = any(is_cjk(ch) for word in frame["word"].astype(str) for ch in word)
    examples = ", ".join(f"“{w}”" for w in EXAMPLES["zh" if chinese else "en"])
    return tr(
        "Left out: punctuation, pieces of words and {n} common words such as {examples}.",
        n=f"{common:,}",
        examples=examples,
    )


def top_words_view(run: Run, frame: pd.DataFrame, meta: dict, done: bool = True) -> None:
    explained, total = meta.get("explained"), meta.get("total")
    basis = (
        tr("{explained} of {total} test texts", explained=f"{explained:,}", total=f"{total:,}")
        if explained is not None and total
        else tr("the test texts")
    )
    if frame.empty:
        st.info(tr("No word stands out yet ({basis}): too few texts, or each word appears only once.", basis=basis),
                icon=":material/info:")  # fmt: skip
    else:
        st.caption(
            tr(
                "Mean attribution of each word toward the label the model predicted, over {basis} (a stratified "
                "sample first; words seen at least twice). Red bars push toward the label; the grey whiskers are "
                "95% bootstrap intervals: a word whose interval is wide rests on few texts.",
                basis=basis,
            )
        )
        if meta.get("common_left_out"):
            st.caption(left_out_caption(frame, int(meta["common_left_out"])))
        labels = [x for x in run.labels if x in set(frame["class"])]
        for start in range(0, len(labels), 2):
            cols = st.columns(2)
            for col, label in zip(cols, labels[start : start + 2], strict=False):
                part = frame[frame["class"] == label].head(10)
                col.plotly_chart(
                    charts.top_words(
                        list(part["word"]),
                        list(part["mean attribution"]),
                        tr("Toward “{label}”", label=plot_label(label, 30)),
                        list(part.get("low", part["mean attribution"])),
                        list(part.get("high", part["mean attribution"])),
                    ),  # fmt: skip
                    config={"displayModeBar": False},
                    key=f"top_words_{label}",
                )
    if not done:
        return
    left, right = st.columns([1, 3])
    left.download_button(
        tr("Download as CSV"),
        csv_bytes(frame),
        file_name=f"{run.path.name}-top-words.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
    )
    if right.button(tr("Compute again"), key="recompute_top_words", icon=":material/refresh:"):
        run.folder.forget_top_words()
        for limit in ("sample", "all"):
            state.job_manager().forget_computation(run.path, computation_name("rank", {"limit": limit}))
        st.rerun()


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
