"""Compare's "Small changes that should not matter": did robustness improve between the baseline and each other
run (trainer.inspect.compare_robustness), family by family in a sentence with its interval and how often chance
would give such a difference, the false-alarm rate kept over the families, and what it cost on the headline
score (Compare's own paired test, not computed again). The tests' names and figures wait in an expander."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from insight_ui.components import plain_words
from insight_ui.components.compare_words import IN_SENTENCE
from insight_ui.components.weak_slices import change_name
from insight_ui.safe import md
from trainer import i18n
from trainer.evaluate.uncertainty import chance_words
from trainer.i18n import N_, tr, trn
from trainer.inspect import compare_robustness as robustness
from trainer.inspect.behaviour import saved

SENTENCES = {
    "text": N_("**{what}**: changed the answer on {before} of texts before and {after} after ({change}); with this "
               "many texts, a difference this large would happen by chance {chance}."),
    "sentence": N_("**{what}**: moved a tag it should keep in {before} of sentences before and {after} after "
                   "({change}); with this many sentences, a difference this large would happen by chance "
                   "{chance}."),
}  # fmt: skip


def change_words(difference: float, low: float, high: float) -> str:
    """'a drop of 8 points, likely between 3 and 13' for a difference of shares and its 95% interval."""
    d, lo, hi = (round(x * 100) for x in (difference, low, high))
    if d < 0:
        change = trn("a drop of {n} point", "a drop of {n} points", -d)
    elif d > 0:
        change = trn("a rise of {n} point", "a rise of {n} points", d)
    else:
        change = tr("no change")
    if d < 0 and hi <= 0:
        return tr("{change}, likely between {low} and {high}", change=change, low=-hi, high=-lo)
    if d > 0 and lo >= 0:
        return tr("{change}, likely between {low} and {high}", change=change, low=lo, high=hi)
    return tr(
        "{change}, likely between a drop of {drop} and a rise of {rise}", change=change, drop=-lo, rise=hi
    )


def family_sentence(f: robustness.FamilyChange, what: str) -> str:
    """One family before and after, in Markdown; `what` is its name, escaped for where it goes."""
    template = SENTENCES["sentence" if f.unit == "sentence" else "text"]
    return tr(template, what=what, before=i18n.percent(f.rate_before), after=i18n.percent(f.rate_after),
              change=change_words(f.difference, f.low, f.high), chance=chance_words(f.p_value))  # fmt: skip


def false_alarm_note(found: robustness.RobustnessComparison) -> str:
    """The false-alarm rate kept over the families compared."""
    return tr("A change is called clear only when it stays clear after allowing for the {n} kinds of change "
              "compared at once: of those called clear, at most 1 in {one_in} is expected to be chance.",
              n=i18n.number(len(found.families)), one_in=round(1 / found.alpha))  # fmt: skip


def cost_line(pair: dict, scores: pd.DataFrame, base_name: str) -> str | None:
    """What the other run cost on the headline score, from Compare's own paired test (or, unpaired, its scores)."""
    if pair["paired"] and pair["tests"]:
        test = pair["tests"][0]  # the task's headline test: accuracy (McNemar) for text runs
        score = tr(IN_SENTENCE[test.score]) if test.score in IN_SENTENCE else tr(test.score)
        return tr("**What it cost in {score}**: {a} before and {b} after ({change}); chance alone would give a "
                  "difference this large {chance}.", score=score, a=i18n.percent(test.a), b=i18n.percent(test.b),
                  change=change_words(test.difference, test.low, test.high), chance=chance_words(test.p_value))  # fmt: skip
    key = scores["key"].iloc[0] if len(scores) else None
    values = {row["run"]: row["value"] for row in scores[scores["key"] == key].to_dict("records")}
    if base_name not in values or pair["b"].name not in values:
        return None
    score = tr(IN_SENTENCE[key]) if key in IN_SENTENCE else tr(key)
    return tr("**What it cost in {score}**: {a} before and {b} after, measured on different texts (see above).",
              score=score, a=i18n.percent(values[base_name]), b=i18n.percent(values[pair["b"].name]))  # fmt: skip


def missing_note(names: list[str]) -> str:
    """The one caption for runs with no saved results of small changes (names escaped for where they go)."""
    return trn("No small changes have been tried on {names} yet: open it on the Evaluate page and press “Try "
               "small changes”, then come back here to compare.", "No small changes have been tried on {names} "
               "yet: open each on the Evaluate page and press “Try small changes”, then come back here to compare.",
               len(names), names=", ".join(names))  # fmt: skip


def details(found: robustness.RobustnessComparison) -> None:
    """The tests behind the sentences, for specialists."""
    with st.expander(tr("Details for specialists: the tests behind it")):
        st.caption(tr("Families that followed the same texts in both runs: McNemar's exact test on the texts only "
                      "one run failed, and Newcombe's 95% interval for paired shares; the others: Fisher's exact "
                      "test and Newcombe's hybrid score interval. Each share with a Wilson 95% interval; "
                      "Benjamini–Hochberg q-values over the families compared; called clear when q is at most "
                      "{alpha}.", alpha=i18n.percent(found.alpha)))  # fmt: skip
        span = "{:.0%} ({:.0%}–{:.0%})".format
        table = pd.DataFrame([{tr("change"): change_name(f.name), tr("test"): f.test,
                               tr("before"): span(f.rate_before, f.low_before, f.high_before),
                               tr("after"): span(f.rate_after, f.low_after, f.high_after),
                               tr("difference"): f"{f.difference * 100:+.1f} ({f.low * 100:+.1f} to {f.high * 100:+.1f})",
                               tr("only before"): f.only_before, tr("only after"): f.only_after,
                               "p": f"{f.p_value:.1e}", "q": f"{f.q_value:.1e}"} for f in found.families])  # fmt: skip
        st.dataframe(table, hide_index=True, width="stretch")
        plain_words.glossary_link()


def pair_part(before: dict, after: dict, pair: dict, scores: pd.DataFrame, base_name: str) -> None:
    """The families of one pair of runs, each in a sentence, then what it cost."""
    found = robustness.compare(before, after, bool(pair.get("same_order")))
    if not found.families:
        st.caption(tr("No kind of small change touched texts of both runs."))
    for f in found.families:
        sentence = family_sentence(f, md(change_name(f.name)))
        if not f.flagged:
            st.info(
                sentence + " " + tr("Not clearly different: this could be chance."), icon=":material/balance:"
            )
        elif f.difference < 0:
            st.success(sentence, icon=":material/check_circle:")
        else:
            st.warning(sentence, icon=":material/warning:")
    cost = cost_line(pair, scores, base_name)
    if cost:
        st.markdown(cost)
    if found.families:
        st.caption(false_alarm_note(found))
        for reason in dict.fromkeys(f.unpaired for f in found.families if f.unpaired):
            st.caption(robustness.why_unpaired(reason))
        details(found)


def section(data: dict) -> None:
    """Whether small changes that should not matter change the answers less in each other run than in the
    baseline; one caption when a run has no saved results."""
    st.subheader(tr("Small changes that should not matter"))
    sides = data["sides"]
    records = [saved(s.run.path) for s in sides]
    missing = [md(s.name) for s, r in zip(sides, records, strict=True) if r is None]
    if missing:
        st.caption(missing_note(missing))
    for pair, side, record in zip(data["pairs"], sides[1:], records[1:], strict=True):
        if records[0] is None or record is None:
            continue
        if len(data["pairs"]) > 1:
            st.markdown(tr("**{after} against {before}**", after=md(side.name), before=md(sides[0].name)))
        pair_part(records[0], record, pair, data["scores"], sides[0].name)
