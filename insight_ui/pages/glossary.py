"""Glossary: every technical word the result pages keep one hover away, in plain words, and where it appears."""

from __future__ import annotations

import streamlit as st

from insight_ui import layout
from insight_ui.components.glossary_terms import TERMS
from trainer.i18n import N_, tr

INTRO = N_(
    "The technical words behind Insight's results, each in plain words and where you meet it. The pages "
    "lead with plain sentences; hover a heading or open “Details for specialists” to see these words there."
)


def render() -> None:
    wanted = st.text_input(
        tr("Find a word"), key="glossary_find", placeholder=tr("e.g. F1, bootstrap, drift")
    )
    needle = (wanted or "").strip().lower()
    shown = 0
    for term, meaning, where in TERMS:
        name, text, place = tr(term), tr(meaning), tr(where)
        if needle and needle not in f"{name} {text} {term}".lower():
            continue
        shown += 1
        with st.container(border=True):
            st.markdown(f"**{name}**")
            st.markdown(text)
            st.caption(tr("Where: {where}", where=place))
    if not shown:
        st.info(tr("No word of the glossary matches."), icon=":material/search:")


layout.page(tr("Glossary"), tr(INTRO), render)
