"""Label one row at a time: a label per text with the keys 1 to 9, or the names in a sentence tagged word by
word; saved at once (a refresh loses nothing), Skip passes a row on to someone else."""

from __future__ import annotations

import streamlit as st

from insight_ui import auth, state
from insight_ui.safe import md
from insight_ui.wording import in_app
from trainer.apply import label_rounds
from trainer.apply.label_project import Project, Row
from trainer.data import DataError
from trainer.i18n import tr

SPANS = "label_spans"  # {row id: [(first word, last word, type)]}: the names tagged so far in a sentence
SAID = "label_said"  # a refusal to show once (someone else labelled the row first), or None
SKIP_KEY = "0"


def _save(project: Project, row: Row, label) -> None:
    try:
        project.save(auth.me().id, row.id, label)
    except DataError as exc:
        state.put(SAID, exc.message)
    state.setdefault(SPANS, {}).pop(row.id, None)


def _skip(project: Project, row: Row) -> None:
    project.skip(auth.me().id, row.id)
    state.setdefault(SPANS, {}).pop(row.id, None)


def next_row(project: Project) -> Row | None:
    """The row to label now: the ones this person holds first, then the latest run's proposals."""
    rows = project.claim(auth.me().id, label_rounds.ranked(project), n=label_rounds.ROUND)
    return rows[0] if rows else None


def text_buttons(project: Project, row: Row) -> None:
    labels = project.settings.labels
    columns = st.columns(min(len(labels), 5) + 1)
    for i, label in enumerate(labels):
        key = str(i + 1) if i < 9 else None  # Streamlit shows the key on the button
        columns[i % (len(columns) - 1)].button(
            md(label), key=f"label_{row.id}_{i}", shortcut=key,
            on_click=_save, args=(project, row, label), width="stretch",
        )  # fmt: skip
    columns[-1].button(tr("Skip"), key=f"label_skip_{row.id}", shortcut=SKIP_KEY,
                       on_click=_skip, args=(project, row), width="stretch")  # fmt: skip


def _tags(words: list[str], spans: list) -> list[str]:
    tags = ["O"] * len(words)
    for first, last, kind in spans:
        tags[first] = f"B-{kind}"
        for i in range(first + 1, last + 1):
            tags[i] = f"I-{kind}"
    return tags


def _add_span(row: Row, picked_key: str, kind_key: str) -> None:
    picked = sorted(state.get(picked_key) or [])
    kind = state.get(kind_key)
    if not picked or not kind:
        state.put(SAID, tr("Click the words of a name, then its kind, then Tag."))
        return
    if picked != list(range(picked[0], picked[-1] + 1)):
        state.put(SAID, tr("A name is made of words next to each other: pick them without gaps."))
        return
    spans = state.setdefault(SPANS, {}).setdefault(row.id, [])
    spans[:] = [s for s in spans if s[1] < picked[0] or s[0] > picked[-1]] + [(picked[0], picked[-1], kind)]
    state.put(picked_key, [])


def token_tagging(project: Project, row: Row) -> None:
    words = list(row.text)
    spans = state.setdefault(SPANS, {}).setdefault(row.id, [])
    picked_key, kind_key = f"label_words_{row.id}", f"label_kind_{row.id}"
    st.pills(tr("Words"), list(range(len(words))), selection_mode="multi", key=picked_key,
             format_func=lambda i: md(words[i]))  # a button's text is Markdown: shown literally  # fmt: skip
    st.segmented_control(tr("Kind of name"), project.settings.labels, key=kind_key, format_func=md)
    tagged = [f"{' '.join(words[a : b + 1])} → {kind}" for a, b, kind in sorted(spans)]
    st.markdown(md(tr("Tagged: {names}", names="; ".join(tagged))) if tagged else tr("No name tagged yet."))
    one, two, three, four = st.columns(4)
    one.button(tr("Tag"), key=f"label_tag_{row.id}", shortcut="T", on_click=_add_span,
               args=(row, picked_key, kind_key), width="stretch")  # fmt: skip
    two.button(tr("Clear tags"), key=f"label_clear_{row.id}", on_click=lambda: spans.clear(), width="stretch")
    three.button(tr("Save"), key=f"label_save_{row.id}", shortcut="Enter", type="primary",
                 on_click=_save, args=(project, row, _tags(words, spans)), width="stretch")  # fmt: skip
    four.button(tr("Skip"), key=f"label_skip_{row.id}", shortcut=SKIP_KEY,
                on_click=_skip, args=(project, row), width="stretch")  # fmt: skip


def label_one(project: Project) -> bool:
    """The current row with its buttons; False when nothing is left to label."""
    if said := state.pop(SAID):
        st.warning(md(in_app(said)), icon=":material/group:")
    row = next_row(project)
    if row is None:
        st.success(
            tr("Every row is labelled or held by someone else. Train once more to see where you stand.")
        )
        return False
    with st.container(border=True, key="label_text"):
        shown = " ".join(row.text) if isinstance(row.text, list) else row.text
        st.markdown(md(shown))
    if project.settings.task == "text":
        text_buttons(project, row)
    else:
        token_tagging(project, row)
    return True
