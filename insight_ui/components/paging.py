"""Long lists at real size: a page of a table, and a searchable picker instead of a 5,000-item list."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from insight_ui import state
from trainer import i18n
from trainer.i18n import tr

PER_PAGE = 100
MAX_OPTIONS = 200  # a picker lists at most this many matches


def page_of(frame: pd.DataFrame, key: str, per_page: int = PER_PAGE) -> pd.DataFrame:
    """One page of `frame` (rows in their order), with a page picker when there is more than one."""
    pages = max(1, -(-len(frame) // per_page))
    if pages == 1:
        return frame
    left, right = st.columns([1, 3], vertical_alignment="bottom")
    page = int(
        left.number_input(tr("Page (of {pages})", pages=i18n.number(pages)), 1, pages, 1, key=f"{key}_page")
    )
    right.caption(
        tr("{per_page} per page, {n} in all.", per_page=i18n.number(per_page), n=i18n.number(len(frame)))
    )
    return frame.iloc[(page - 1) * per_page : page * per_page]


def search(frame: pd.DataFrame, column: str, key: str, wrong_only: bool = False) -> pd.DataFrame:
    """The rows whose `column` contains the typed words (any case), optionally only the mistakes."""
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    query = left.text_input(
        tr("Search"), key=f"{key}_query", placeholder=tr("words in the text (empty: all)")
    )
    wrong = right.checkbox(tr("Only mistakes"), value=wrong_only, key=f"{key}_wrong")
    rows = frame
    if wrong and {"gold", "predicted"} <= set(frame.columns):
        rows = rows[rows["gold"].astype(str) != rows["predicted"].astype(str)]
    for word in query.split():
        rows = rows[rows[column].astype(str).str.contains(word, case=False, regex=False)]
    return rows


def picker(label: str, rows: pd.DataFrame, describe: Callable[[int], str], key: str) -> int | None:
    """A selectbox over at most MAX_OPTIONS of `rows` (by their index); None when nothing matches."""
    if rows.empty:
        st.caption(tr("No example matches."))
        return None
    options = list(rows.index[:MAX_OPTIONS])
    if len(rows) > MAX_OPTIONS:
        st.caption(
            tr(
                "The first {shown} of {n} matches; search to narrow them down.",
                shown=i18n.number(MAX_OPTIONS),
                n=i18n.number(len(rows)),
            )
        )
    state.keep_if_among(key, options)
    return st.selectbox(label, options, format_func=describe, key=key)
