"""Evaluate's "Where it does worse": the groups of test examples the model gets wrong more often than the
rest beyond chance (trainer.inspect.slices), said in words, with the false-discovery rate they keep; the
tests' figures one expander away."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from insight_ui import state
from insight_ui.components import background
from insight_ui.reads import analysis
from insight_ui.safe import md, trim
from trainer import i18n
from trainer.i18n import N_, tr
from trainer.runs import Run

SHOWN = 8
CHANGES = {
    "typos": N_("A typing slip in one word in ten"),
    "case": N_("Capital letters changed"),
    "punctuation": N_("The final full stop, question or exclamation mark taken away or added"),
    "whitespace": N_("A space doubled"),
    "numbers": N_("Numbers changed"),
    "width": N_("Chinese punctuation written half-width, or the other way"),
}
GROUPS = {
    ("text", "word"): N_("Texts with “{value}”"),
    ("text", "length"): N_("Texts of {value} words"),
    ("text", "label"): N_("Texts labeled “{value}”"),
    ("text", "label_issue"): N_("Texts with a likely label issue"),
    ("sentence", "word"): N_("Sentences with “{value}”"),
    ("sentence", "length"): N_("Sentences of {value} words"),
    ("sentence", "entity_type"): N_("Sentences with a {value} entity"),
    ("sentence", "label_issue"): N_("Sentences with a likely label issue"),
}


def group_name(unit: str, feature: str, value: str) -> str:
    """A slice as people read it: "Texts with “refund”", "Sentences with a LOC entity"."""
    pattern = GROUPS.get((unit, feature))
    return tr(pattern, value=trim(value, 40)) if pattern else f"{feature}: {trim(value, 40)}"


def section(run: Run, frame: pd.DataFrame | None) -> None:
    if frame is None or frame.empty:
        return
    slices_part(run)
    small_changes(run)


def slices_part(run: Run) -> None:
    unit = run.adapter.unit
    report = analysis.weak_slices(run)
    if report is None:
        return
    flagged = [s for s in report["slices"] if s["flagged"]]
    st.subheader(tr("Where it does worse"))
    tried = i18n.number(len(report["slices"]))
    if not flagged:
        st.success(tr("No group of test examples does worse than the rest beyond chance ({tried} groups tried: "
                      "words, lengths, labels, likely label issues).", tried=tried), icon=":material/check_circle:")  # fmt: skip
        return
    st.caption(tr("Groups of test examples the model gets wrong more often than the rest, beyond chance. Of the "
                  "groups listed, at most 1 in {one_in} is expected to be chance ({tried} groups tried).",
                  one_in=round(1 / report["alpha"]), tried=tried))  # fmt: skip
    for s in flagged[:SHOWN]:
        st.markdown(tr("**{group}**: wrong on {errors} of {n} ({rate}; likely between {low} and {high}), "
                          "against {overall} overall.", group=md(group_name(unit, s["feature"], s["value"])),
                          errors=i18n.number(s["errors"]), n=i18n.number(s["n"]), rate=i18n.percent(s["error_rate"]),
                          low=i18n.percent(s["ci_low"]), high=i18n.percent(s["ci_high"]),
                          overall=i18n.percent(report["overall"])))  # fmt: skip
    st.caption(tr("To fix one: label more examples like them, or check their labels, and train again."))
    with st.expander(tr("Details for specialists: the tests behind it")):
        st.caption(tr("Each group against the rest of the test split: a one-sided Fisher exact test, a Wilson "
                      "95% interval, and Benjamini–Hochberg q-values over every group tried; listed when q is "
                      "at most {alpha}.", alpha=i18n.percent(report["alpha"])))  # fmt: skip
        table = pd.DataFrame([{tr("group"): group_name(unit, s["feature"], s["value"]), "n": s["n"],
                               tr("wrong"): s["errors"], "p": f"{s['p_value']:.1e}", "q": f"{s['q_value']:.1e}"}
                              for s in flagged])  # fmt: skip
        st.dataframe(table, hide_index=True, width="stretch")


def small_changes(run: Run) -> None:
    """Behavioural tests of a text run: how often a change that should not matter changes the answer."""
    from trainer.inspect.behaviour import saved
    from trainer.runs.records import computation_name

    if not run.adapter.supports("small_changes"):
        return
    st.markdown("#### " + tr("Small changes that should not matter"))
    results = saved(run.path)
    if results is None:
        manager, name = state.job_manager(), computation_name("robustness", {})
        task = manager.computation(run.path, name)
        if task is None or not task.running and task.status != "failed":
            st.caption(tr("Change each test text a little (a typing slip, capitals, the final punctuation, a "
                          "space, a number) and see how often the model's answer changes. It should not."))  # fmt: skip
            if st.button(tr("Try small changes"), icon=":material/science:", key="start_robustness"):
                manager.forget_computation(run.path, name)
                manager.start_computation(run.path, "robustness")
                st.rerun()
            return
        if not background.job_computation(run.path, "robustness", tr("Trying small changes"), start=False):
            return
        results = saved(run.path) or {"tests": []}
    untried = [tr(CHANGES.get(t["name"], t["name"])) for t in results["tests"] if not t["changed"]]
    for t in results["tests"]:
        what = tr(CHANGES.get(t["name"], t["name"]))
        if not t["changed"]:
            continue
        st.markdown(tr("**{what}**: changes the answer on {failed} of {changed} texts ({rate}; likely between "
                       "{low} and {high}).", what=what, failed=i18n.number(t["failed"]),
                       changed=i18n.number(t["changed"]), rate=i18n.percent(t["fail_rate"]),
                       low=i18n.percent(t["ci_low"]), high=i18n.percent(t["ci_high"])))  # fmt: skip
    if untried:
        st.caption(
            tr("Not tried, since no test text can be changed that way: {names}.", names="; ".join(untried))
        )
    flipped = [(t, e) for t in results["tests"] for e in t.get("examples", []) if e["before"] != e["after"]]
    if flipped:
        with st.expander(tr("Texts whose answer changed ({n})", n=len(flipped))):
            st.dataframe(pd.DataFrame([{tr("change"): tr(CHANGES.get(t["name"], t["name"])), tr("text"): e["original"],
                                        tr("changed to"): e["perturbed"], tr("answer"): e["before"],
                                        tr("then"): e["after"]} for t, e in flipped]),
                         hide_index=True, width="stretch")  # fmt: skip
