"""One explanation on the Explain page: the words as a heatmap with its legend, how far the explanation
can be trusted, what removing the top words does, and the token-level view."""

from __future__ import annotations

import streamlit as st

from insight_ui.components.heatmap import legend_html, token_heatmap_html
from insight_ui.reads import explaining
from insight_ui.safe import md
from trainer.i18n import N_, tr

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


def trust_box(exp) -> None:
    colour, icon = TRUST_BADGE.get(exp.trust, ("gray", ":material/help:"))
    badge = TRUST_LEVELS.get(exp.trust)
    st.badge(
        tr(badge) if badge else tr("Explanation trust: {level}", level=exp.trust), color=colour, icon=icon
    )
    st.caption(
        md(
            tr(
                "{reason} Added up, the word scores miss the model's change of mind by {share}.",
                reason=exp.trust_reason,
                share=f"{exp.relative_delta:.1%}",
            )
        ),
        help=tr(
            "Word scores come from integrated gradients: the model's score is followed from a blank text to "
            "this one, and each word gets its share of the change. The miss is the delta: {delta} logits (the "
            "model's raw scores before they become probabilities), {share} of the change. The smaller, the "
            "more the word scores can be trusted. See the Glossary.",
            delta=f"{exp.delta:+.4f}",
            share=f"{exp.relative_delta:.1%}",
        ),
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
