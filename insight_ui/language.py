"""Which language a visitor reads: the URL's `?lang=`, their switch in the sidebar, or their browser.

A shared link keeps its language (`?lang=zh`); the switch writes the URL so the link the visitor copies
opens the way they see it; without either, `st.context.locale` (the browser's `navigator.language`)
decides. The choice lives in the session, so a fragment rerun (which skips app.py) speaks it too.
"""

from __future__ import annotations

import streamlit as st

from insight_ui import state
from trainer import i18n
from trainer.i18n import tr

KEY = state.LANGUAGE
SWITCH = state.LANGUAGE_SWITCH


def _session_language() -> str | None:
    return state.get(KEY)


i18n.add_resolver(_session_language)


def choose() -> str:
    """Decide this run's language, remember it, and keep it in the URL; returns "en" or "zh"."""
    asked = i18n.normalize(st.query_params.get("lang"))
    lang = asked or state.get(KEY) or i18n.normalize(st.context.locale) or i18n.DEFAULT
    state.put(KEY, lang)
    if st.query_params.get("lang") != lang:
        st.query_params["lang"] = lang
    i18n.set_language(lang)
    return lang


def _switched() -> None:
    lang = i18n.normalize(state.get(SWITCH))
    if lang:
        state.put(KEY, lang)
        st.query_params["lang"] = lang
        i18n.set_language(lang)


def switch() -> None:
    """The sidebar's language switch: English / 简体中文 (each written in its own language)."""
    lang = choose()
    state.put(SWITCH, lang)
    with st.sidebar:
        st.segmented_control(
            tr("Language"),
            list(i18n.LANGUAGES),
            format_func=i18n.LANGUAGES.get,
            key=SWITCH,
            on_change=_switched,
            label_visibility="collapsed",
        )
