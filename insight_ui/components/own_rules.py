"""A person's own rule on Evaluate's small changes (issue 31): word pairs that should not matter, or a phrase
that should lower or raise a label, tried on the test split in the background like the built-in changes
(trainer.data.rules), its result kept beside theirs."""

from __future__ import annotations

import streamlit as st

from insight_ui import state
from insight_ui.components import background
from insight_ui.safe import md
from trainer.data.errors import DataError
from trainer.i18n import tr
from trainer.runs import Run

PAIRS, PHRASE = "pairs", "phrase"


def _pairs(text: str) -> list[list[str]]:
    """ "cheap = inexpensive" per line -> [["cheap", "inexpensive"], ...] (lines without "=" left as they are,
    so the rule's check says what is wrong with them)."""
    return [[w.strip() for w in line.split("=")] for line in text.splitlines() if line.strip()]


def _asked(run: Run) -> dict | None:
    """The rule the form describes, as trainer.data.rules reads it, or None before the button."""
    kind = st.radio(tr("Your rule"), [PAIRS, PHRASE], horizontal=True, key="own_rule_kind",
                    format_func=lambda k: tr("Words that should not matter") if k == PAIRS
                    else tr("A phrase that should move a label"))  # fmt: skip
    name = st.text_input(tr("Its name"), value=tr("my rule"), max_chars=60, key="own_rule_name")
    if kind == PAIRS:
        text = st.text_area(tr("One pair per line, such as: cheap = inexpensive"), key="own_rule_pairs")
        raw = {"name": name, "swap": _pairs(text)}
    else:
        left, right = st.columns(2)
        insert = left.text_input(tr("The phrase to add, such as: not"), max_chars=80, key="own_rule_insert")
        before = right.text_input(tr("Before these words (separated by commas; empty: at the end)"),
                                  key="own_rule_before")  # fmt: skip
        left, right = st.columns(2)
        label = left.selectbox(tr("Label"), run.labels, key="own_rule_label")
        direction = right.radio(tr("Its probability should go"), ["down", "up"], horizontal=True,
                                key="own_rule_direction", format_func=lambda d: tr(d))  # fmt: skip
        raw = {"name": name, "insert": insert, "label": label, "direction": direction,
               "before": [w.strip() for w in before.split(",") if w.strip()]}  # fmt: skip
    return raw if st.button(tr("Try this rule"), icon=":material/rule:", key="own_rule_try") else None


def _name(rule: dict) -> str:
    from trainer.runs.records import computation_name

    return computation_name("robustness", {"rules": [rule]})


def form(run: Run) -> None:
    """The form, and the rule being tried until its result is kept (then listed with the other changes)."""
    from trainer.data.rules import parse

    if not run.adapter.supports("small_changes"):
        return
    trying = state.get(state.OWN_RULE)
    current = trying.get(str(run.path))
    if current is not None and state.job_manager().computation(run.path, _name(current)) is None:
        trying.pop(str(run.path), None)  # forgotten after a failure ("Try again"): the form comes back
        current = None
    if current is not None:
        if background.job_computation(
            run.path, "robustness", tr("Trying your rule"), start=False, rules=[current]
        ):
            trying.pop(str(run.path), None)
            state.put(state.OWN_RULE, trying)
            st.rerun()
        return
    with st.expander(tr("Add your own rule")):
        st.caption(tr("Swap words that should not change the answer, or add a phrase that should lower or raise "
                      "a label, and see how often the model does what your rule says on the test texts."))  # fmt: skip
        raw = _asked(run)
        if raw is None:
            return
        try:
            parse([raw], run.labels)
        except DataError as exc:
            st.error(md(str(exc)), icon=":material/error:")
            return
        state.job_manager().start_computation(run.path, "robustness", rules=[raw])
        trying[str(run.path)] = raw
        state.put(state.OWN_RULE, trying)
        st.rerun()
