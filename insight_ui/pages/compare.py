"""Compare: did a change really help? Runs side by side with intervals and paired tests."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from insight_ui import layout, state
from insight_ui.components import compare_charts, paging
from insight_ui.components.runs import finished_runs
from insight_ui.safe import md, trim
from trainer import i18n
from trainer.evaluate import uncertainty
from trainer.i18n import N_, tr
from trainer.inspect import compare as cmp
from trainer.runs import load_run

INTRO = N_(
    "Did a change really help? Pick two or more runs: their scores with **95% intervals**, a **paired "
    "test** of whether the difference is more than chance, what changed per class, how they trained, "
    "and the examples on which they disagree."
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
        pairs.append({"b": other, "paired": order is not None, "why": why,
                      "tests": cmp.paired_tests(sides[0], other) if order is not None else []})  # fmt: skip
    return {"runs": runs, "sides": sides, "scores": cmp.headline_scores(sides), "pairs": pairs}


def pick_runs() -> list[str]:
    items = finished_runs()
    paths = [str(r.path) for r in items]
    names = {str(r.path): f"{r.name} · {tr(r.metric_name)} {r.metric:.3f}" if r.metric is not None else r.name for r in items}  # fmt: skip
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
    st.caption(tr("Each score with its 95% interval (bootstrap over the run's own test split)."))
    headers = {"run": tr("run"), "test examples": tr("test examples")} | {score: tr(score) for score in order}
    st.dataframe(wide.reset_index(), hide_index=True, width="stretch", column_config=headers)
    base = data["runs"][0]
    card = base.adapter.metric_cards[0]
    st.plotly_chart(
        compare_charts.score_intervals(scores, card.key, tr(card.title)), width="stretch", key="cmp_ci"
    )


def verdicts(data: dict) -> None:
    base = data["sides"][0]
    titles = cmp.titles(base.run)
    st.subheader(tr("Is the difference real?"))
    for pair in data["pairs"]:
        other = pair["b"]
        if not pair["paired"]:
            st.info(md(pair["why"]), icon=":material/info:")
            continue
        for test in pair["tests"]:
            sentence = uncertainty.in_words(test, base.name, other.name, titles.get(test.score, test.score))
            box = st.success if test.p_value < 0.05 and test.difference != 0 else st.info
            box(md(sentence), icon=":material/balance:")


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
    word = tr(base.run.adapter.class_word).lower()
    left, right = st.columns(2, gap="large")
    with left:
        deltas = cmp.per_class_deltas(base, other)
        if not deltas.empty:
            st.plotly_chart(compare_charts.class_deltas(deltas, base.name, other.name, word), width="stretch",
                            key="cmp_deltas")  # fmt: skip
    with right:
        labels, diff = cmp.confusion_difference(base, other)
        if labels:
            st.markdown(tr("**Confusion matrix: {b} minus {a}**", b=md(other.name), a=md(base.name)))
            st.caption(tr("Green: better (more right on the diagonal, fewer mistakes off it); red: worse."))
            st.plotly_chart(compare_charts.confusion_difference(labels, diff, base.name, other.name),
                            width="stretch", key="cmp_confusion")  # fmt: skip
    if pair["paired"]:
        disagreements_section(base, other)


def disagreements_section(base: cmp.Side, other: cmp.Side) -> None:
    frame = cmp.disagreements(base, other)
    st.subheader(tr("Where they disagree ({n})", n=i18n.number(len(frame))))
    if frame.empty:
        st.caption(tr("The two runs predict the same on every test example."))
        return
    who = {"A": tr("only {name}", name=base.name), "B": tr("only {name}", name=other.name),
           "neither": tr("neither"), "both": tr("both")}  # fmt: skip
    shown = frame.assign(right=frame["right"].map(who))
    st.dataframe(
        paging.page_of(shown, "cmp_disagree", per_page=20),
        hide_index=True,
        width="stretch",
        column_config={
            "text": tr("text"),
            "gold": tr("gold"),
            "predicted_a": tr("{name} says", name=trim(base.name, 20)),
            "predicted_b": tr("{name} says", name=trim(other.name, 20)),
            "confidence_a": st.column_config.ProgressColumn(tr("{name} conf.", name=trim(base.name, 12)), min_value=0.0, max_value=1.0, format="percent"),
            "confidence_b": st.column_config.ProgressColumn(tr("{name} conf.", name=trim(other.name, 12)), min_value=0.0, max_value=1.0, format="percent"),
            "right": tr("Who is right"),
        },
    )  # fmt: skip
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    with left:
        chosen = paging.picker(tr("Example"), frame, lambda i: f"{frame.loc[i, 'gold']} · {trim(frame.loc[i, 'text'], 90)}",
                               "cmp_example")  # fmt: skip
    if chosen is not None and right.button(tr("Explain both"), icon=":material/lightbulb:", key="cmp_explain",
                                           help=tr("Opens Explain with both runs' explanations side by side.")):  # fmt: skip
        state.set_current_run(base.run.path)
        state.open_in_explain(
            str(frame.loc[chosen, "text"]),
            tr("a disagreement on the Compare page (gold: {gold})", gold=frame.loc[chosen, "gold"]),
        )
        state.put(state.EXPLAIN_COMPARE, str(other.run.path))
        layout.go("explain")


def training_section(data: dict) -> None:
    runs = data["runs"]
    st.subheader(tr("How they trained"))
    key = runs[0].adapter.best_metric
    names = [s.name for s in data["sides"]]
    figure = compare_charts.curves_overlay(cmp.curves(runs, names), key, tr(runs[0].adapter.headline_name))
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
    scores_section(data)
    verdicts(data)
    closer_look(data)
    training_section(data)


layout.page(tr("Compare"), tr(INTRO), render)
