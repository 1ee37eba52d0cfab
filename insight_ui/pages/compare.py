"""Compare: did a change really help? Runs side by side with intervals and paired tests."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from insight_ui import layout, state
from insight_ui.components import compare_charts, compare_robustness, compare_words, paging
from insight_ui.components.evaluate_words import class_word
from insight_ui.components.plain_words import PLAIN_SCORES
from insight_ui.components.runs import finished_runs, headline_in_words
from insight_ui.safe import md, trim
from trainer import i18n
from trainer.i18n import N_, tr
from trainer.inspect import compare as cmp
from trainer.runs import load_run

INTRO = N_(
    "Did a change really help? Pick two or more runs: Insight says whether one is really better or the "
    "difference could be chance, what changed for each label, how they trained, and the examples on which "
    "they disagree."
)
PICK = state.COMPARE_RUNS


@st.cache_resource(show_spinner=False, max_entries=4)
def _comparison(paths: tuple[str, ...], stamps: tuple[float, ...], lang: str) -> dict:
    """Everything the page shows for these runs (recomputed when a run's predictions change), its sentences
    in `lang` (part of the cache key: the cache is shared by every visitor)."""
    del stamps, lang
    runs = [load_run(Path(p)) for p in paths]
    cmp.check_runs(runs)
    sides = cmp.sides_of(runs)
    pairs = []
    for other in sides[1:]:
        order, why = cmp.pairing(sides[0], other)
        if order is not None:
            other = cmp.aligned(other, order)
        pairs.append({"b": other, "paired": order is not None, "why": why, "same_order": cmp.same_order(order),
                      "tests": cmp.paired_tests(sides[0], other) if order is not None else []})  # fmt: skip
    return {"runs": runs, "sides": sides, "scores": cmp.headline_scores(sides), "pairs": pairs}


def pick_runs() -> list[str]:
    items = finished_runs()
    paths = [str(r.path) for r in items]
    names = {str(r.path): f"{r.name} · {headline_in_words(r)}" if r.metric is not None else r.name for r in items}  # fmt: skip
    if not state.has(PICK) or not set(state.get(PICK)) <= set(paths):
        current = state.get(state.CURRENT_RUN)
        first = current if current in paths else paths[0]
        task = next(r.task for r in items if str(r.path) == first)
        second = next((p for p, r in zip(paths, items, strict=True) if p != first and r.task == task), None)
        state.put(PICK, [first] + ([second] if second else []))
    return st.multiselect(
        tr("Runs to compare (the first is the baseline)"),
        paths,
        key=PICK,
        format_func=lambda p: f"{names[p]}  ({Path(p).name})",
        max_selections=6,
        help=tr("Every other run is compared with the first one."),
    )


def scores_section(data: dict) -> None:
    scores = data["scores"]
    table = scores.assign(cell=[f"{v:.3f}  ({lo:.3f}–{hi:.3f})" for v, lo, hi in zip(scores["value"], scores["low"], scores["high"], strict=True)])  # fmt: skip
    order = list(dict.fromkeys(scores["score"]))  # the task's own order of scores
    wide = table.pivot_table(index="run", columns="score", values="cell", aggfunc="first")[order]
    wide = wide.reindex(list(dict.fromkeys(s.name for s in data["sides"])))
    wide["test examples"] = [i18n.number(s.counts.n) for s in data["sides"]]
    st.subheader(tr("Scores"))
    st.caption(
        tr("Each score with, in brackets, the range it would likely fall in on other test texts like these."),
        help=tr("The 95% interval: a bootstrap over the run's own test split. See the Glossary."),
    )
    keys = dict(zip(scores["score"], scores["key"], strict=True))
    headers = {"run": tr("run"), "test examples": tr("test examples")} | {
        score: st.column_config.TextColumn(
            tr(PLAIN_SCORES[keys[score]]) if keys[score] in PLAIN_SCORES else tr(score), help=tr(score)
        )
        for score in order
    }
    st.dataframe(wide.reset_index(), hide_index=True, width="stretch", column_config=headers)
    card = data["runs"][0].adapter.metric_cards[0]
    title = tr(PLAIN_SCORES[card.key]) if card.key in PLAIN_SCORES else tr(card.title)
    st.plotly_chart(compare_charts.score_intervals(scores, card.key, title), width="stretch", key="cmp_ci")


def verdicts(data: dict) -> None:
    base = data["sides"][0]
    st.subheader(tr("Is the difference real?"))
    compare_words.verdict_boxes(data["pairs"], base.name, cmp.titles(base.run))


def closer_look(data: dict) -> None:
    """Per-class changes, the confusion difference and the disagreements of one pair."""
    base = data["sides"][0]
    pairs = data["pairs"]
    index = 0
    if len(pairs) > 1:
        index = st.selectbox(tr("Look closer at"), range(len(pairs)), format_func=lambda i: pairs[i]["b"].name,
                             key="cmp_pair")  # fmt: skip
    pair = pairs[index]
    other = pair["b"]
    word = class_word(base.run).lower()
    left, right = st.columns(2, gap="large")
    with left:
        deltas = cmp.per_class_deltas(base, other)
        if not deltas.empty:
            st.plotly_chart(compare_charts.class_deltas(deltas, base.name, other.name, word), width="stretch",
                            key="cmp_deltas")  # fmt: skip
    with right:
        labels, diff = cmp.confusion_difference(base, other)
        if labels:
            st.markdown(tr("**Right and wrong answers: {b} against {a}**", b=md(other.name), a=md(base.name)),
                        help=tr("The difference of the two confusion matrices. See the Glossary."))  # fmt: skip
            st.caption(tr("Green: better (more right on the diagonal, fewer mistakes off it); red: worse."))
            st.plotly_chart(compare_charts.confusion_difference(labels, diff, base.name, other.name),
                            width="stretch", key="cmp_confusion")  # fmt: skip
    if pair["paired"]:
        disagreements_section(base, other)


# Both runs' answers before the text, each a narrow column, so a long text never pushes the second run's
# columns out of sight (the text comes last, in what is left).
DISAGREEMENT_ORDER = ("right", "gold", "predicted_a", "confidence_a", "predicted_b", "confidence_b", "text")


def disagreement_columns(base: cmp.Side, other: cmp.Side) -> dict:
    """The disagreement table's headings and widths in pixels (the text column last and widest)."""
    bar = {"min_value": 0.0, "max_value": 1.0, "format": "percent", "width": 100}
    return {
        "right": st.column_config.TextColumn(tr("Who is right"), width=140),
        "gold": st.column_config.TextColumn(tr("True label"), width=110),
        "predicted_a": st.column_config.TextColumn(tr("{name} says", name=trim(base.name, 20)), width=120),
        "confidence_a": st.column_config.ProgressColumn(
            tr("{name}: how sure", name=trim(base.name, 12)), **bar
        ),
        "predicted_b": st.column_config.TextColumn(tr("{name} says", name=trim(other.name, 20)), width=120),
        "confidence_b": st.column_config.ProgressColumn(
            tr("{name}: how sure", name=trim(other.name, 12)), **bar
        ),
        "text": st.column_config.TextColumn(tr("text"), width="large"),
    }


def disagreements_section(base: cmp.Side, other: cmp.Side) -> None:
    frame = cmp.disagreements(base, other)
    st.subheader(tr("Where they disagree ({n})", n=i18n.number(len(frame))))
    if frame.empty:
        st.caption(tr("The two runs predict the same on every test example."))
        return
    who = {"A": tr("only {name}", name=base.name), "B": tr("only {name}", name=other.name),
           "neither": tr("neither"), "both": tr("both")}  # fmt: skip
    shown = frame.assign(right=frame["right"].map(who))
    st.dataframe(paging.page_of(shown, "cmp_disagree", per_page=20), hide_index=True, width="stretch",
                 column_order=DISAGREEMENT_ORDER, column_config=disagreement_columns(base, other))  # fmt: skip
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    with left:
        chosen = paging.picker(tr("Example"), frame, lambda i: f"{frame.loc[i, 'gold']} · {trim(frame.loc[i, 'text'], 90)}",
                               "cmp_example")  # fmt: skip
    if chosen is not None and right.button(tr("Explain both"), icon=":material/lightbulb:", key="cmp_explain",
                                           help=tr("Opens Explain with both runs' explanations side by side.")):  # fmt: skip
        state.set_current_run(base.run.path)
        state.open_in_explain(
            str(frame.loc[chosen, "text"]),
            tr("a disagreement on the Compare page (true label: {gold})", gold=frame.loc[chosen, "gold"]),
        )
        state.put(state.EXPLAIN_COMPARE, str(other.run.path))
        layout.go("explain")


def training_section(data: dict) -> None:
    runs = data["runs"]
    st.subheader(tr("How they trained"))
    key = runs[0].adapter.best_metric
    names = [s.name for s in data["sides"]]
    title = tr(PLAIN_SCORES[key]) if key in PLAIN_SCORES else tr(runs[0].adapter.headline_name)
    figure = compare_charts.curves_overlay(cmp.curves(runs, names), key, title)
    if figure is not None:
        st.plotly_chart(figure, width="stretch", key="cmp_curves")
    settings = cmp.settings_that_differ(runs, names)
    if settings.empty:
        st.caption(tr("Every setting is the same."))
    else:
        st.markdown(tr("**Settings that differ**"))
        st.dataframe(settings, hide_index=True, width="stretch", column_config={"setting": tr("setting")})


def render() -> None:
    if len(finished_runs()) < 2:
        layout.empty_state(tr("Train at least two runs to compare them."), "train", tr("Go to Train"))
        return
    chosen = pick_runs()
    if len(chosen) < 2:
        st.info(tr("Pick at least two runs."), icon=":material/compare:")
        return
    stamps = tuple(Path(p, "predictions.csv").stat().st_mtime if Path(p, "predictions.csv").exists() else 0.0 for p in chosen)  # fmt: skip
    try:
        with st.spinner(tr("Comparing…")):
            data = _comparison(tuple(chosen), stamps, i18n.language())
    except ValueError as exc:
        st.warning(md(str(exc)), icon=":material/warning:")
        return
    verdicts(data)
    scores_section(data)
    compare_robustness.section(data)
    closer_look(data)
    training_section(data)


layout.page(tr("Compare"), tr(INTRO), render)
