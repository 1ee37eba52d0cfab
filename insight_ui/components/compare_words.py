"""The Compare page's verdict in plain words: which run is better on what, and how often chance alone would
give such a difference; the tests' names and p-values wait in "Details for specialists"."""

from __future__ import annotations

import streamlit as st

from insight_ui.components import plain_words
from insight_ui.safe import md
from trainer.evaluate import uncertainty
from trainer.i18n import N_, percent, tr

# A score inside a sentence ("... is better than ... on right answers"), by its key.
IN_SENTENCE = {
    "accuracy": N_("right answers"),
    "macro_f1": N_("the average over labels"),
    "f1": N_("entities right overall"),
    "token_accuracy": N_("words tagged right"),
}


def plain_verdict(test: uncertainty.Paired, name_a: str, name_b: str, title: str) -> str:
    """'tuned is better than baseline on right answers: 90% against 71%. Chance alone ...' (not escaped)."""
    score = tr(IN_SENTENCE[test.score]) if test.score in IN_SENTENCE else tr(title)
    chance = uncertainty.chance_words(test.p_value)
    if test.p_value < 0.05 and test.difference != 0:
        (better, high), (worse, low) = sorted([(name_a, test.a), (name_b, test.b)], key=lambda x: -x[1])
        return tr(
            "{better} is better than {worse} on {score}: {high} against {low}. Chance alone would give a "
            "difference this large {chance}.",
            better=better,
            worse=worse,
            score=score,
            high=percent(high),
            low=percent(low),
            chance=chance,
        )
    return tr(
        "{name_a} and {name_b} are not clearly different on {score}: {a} and {b}. Chance alone gives a "
        "difference this large {chance}, too often to tell them apart.",
        name_a=name_a,
        name_b=name_b,
        score=score,
        a=percent(test.a),
        b=percent(test.b),
        chance=chance,
    )


def verdict_boxes(pairs: list[dict], base_name: str, titles: dict[str, str]) -> None:
    """One plain sentence per paired test; the tests by name, with their p-values, in one expander."""
    technical = []
    for pair in pairs:
        other = pair["b"]
        if not pair["paired"]:
            st.info(md(pair["why"]), icon=":material/info:")
            continue
        for test in pair["tests"]:
            title = titles.get(test.score, test.score)
            box = st.success if test.p_value < 0.05 and test.difference != 0 else st.info
            box(md(plain_verdict(test, base_name, other.name, title)), icon=":material/balance:")
            technical.append(uncertainty.in_words(test, base_name, other.name, title))
    if not technical:
        return
    with st.expander(tr("Details for specialists: the tests behind each verdict")):
        st.caption(
            tr(
                "Accuracy is compared with McNemar's exact test (only the examples one run gets right and the "
                "other wrong count); the F1 scores with a paired bootstrap (the same resampled examples for "
                "both runs). The p-value is how often chance alone would give a difference this large."
            )
        )
        for sentence in technical:
            st.markdown(md(sentence))
        plain_words.glossary_link()
