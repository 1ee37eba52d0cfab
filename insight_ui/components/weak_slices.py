"""Evaluate's "Where it does worse": the groups of test examples the model gets wrong more often than the
rest beyond chance (trainer.inspect.slices), said in words, with the false-discovery rate they keep; the
tests' figures one expander away; each group's rows as a file to check. Its sentences are plain functions,
which the run report (insight_ui.reports.robustness_section) shares."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from functools import partial

import pandas as pd
import streamlit as st

from insight_ui import auth, layout, state
from insight_ui.components import background, own_rules, train_on_changes
from insight_ui.reads import analysis
from insight_ui.safe import md, trim
from trainer import i18n
from trainer.data.safe_csv import csv_bytes
from trainer.i18n import N_, tr
from trainer.runs import Run

SHOWN = 8
ROWS_HELP = N_(
    "A CSV file of the group's test examples (text, given label, the model's answer) to check by hand. They "
    "are not sent to labelling: the labelling round trip never trains on test examples, so that the next run "
    "is measured on the same ones."
)
CHANGES = {
    "typos": N_("A typing slip in one word in ten"),
    "case": N_("Capital letters changed"),
    "punctuation": N_("The final full stop, question or exclamation mark taken away or added"),
    "whitespace": N_("A space doubled"),
    "numbers": N_("Numbers changed"),
    "width": N_("Chinese punctuation written half-width, or the other way"),
    "contractions": N_("Contractions written out or shortened (“don't” and “do not”)"),
    "fillers": N_("A neutral opening or ending added (“Re:”, “Sent from my phone.”, a link)"),
    "names": N_("People's names swapped for others"),
    "places": N_("Places swapped for others"),
    "script": N_("Simplified Chinese characters written traditional, or the other way"),
    "homophones": N_("A Chinese character swapped for another that sounds the same"),
}
GROUPS = {
    ("text", "word"): N_("Texts with “{value}”"),
    ("text", "length"): N_("Texts of {value} words"),
    ("text", "label"): N_("Texts labeled “{value}”"),
    ("text", "label_issue"): N_("Texts with a likely label issue"),
    ("sentence", "word"): N_("Sentences with “{value}”"),
    ("sentence", "length"): N_("Sentences of {value} words"),
    ("sentence", "entity_type"): N_("Sentences with a {value} entity"),
    ("sentence", "entity_length"): N_("Sentences with an entity of {value} words"),
    ("sentence", "label_issue"): N_("Sentences with a likely label issue"),
}


def group_name(unit: str, feature: str, value: str) -> str:
    """A slice as people read it: "Texts with “refund”", "Sentences with a LOC entity"."""
    pattern = GROUPS.get((unit, feature))
    return tr(pattern, value=trim(value, 40)) if pattern else f"{feature}: {trim(value, 40)}"


def nothing_flagged(report: dict) -> str:
    """The sentence for a run where no group does worse (it says how many were tried)."""
    return tr("No group of test examples does worse than the rest beyond chance ({tried} groups tried: words, "
              "lengths, labels, likely label issues).", tried=i18n.number(len(report["slices"])))  # fmt: skip


def flagged_note(report: dict) -> str:
    """What the listed groups are, and the false-discovery rate they keep."""
    return tr("Groups of test examples the model gets wrong more often than the rest, beyond chance. Of the "
              "groups listed, at most 1 in {one_in} is expected to be chance ({tried} groups tried).",
              one_in=round(1 / report["alpha"]), tried=i18n.number(len(report["slices"])))  # fmt: skip


def slice_line(s: dict, overall: float, group: str) -> str:
    """One flagged group in words, in Markdown; `group` is its name (group_name), escaped for where it goes."""
    return tr("**{group}**: wrong on {errors} of {n} ({rate}; likely between {low} and {high}), against "
              "{overall} overall.", group=group, errors=i18n.number(s["errors"]), n=i18n.number(s["n"]),
              rate=i18n.percent(s["error_rate"]), low=i18n.percent(s["ci_low"]), high=i18n.percent(s["ci_high"]),
              overall=i18n.percent(overall))  # fmt: skip


def fix_note() -> str:
    return tr("To fix one: label more examples like them, or check their labels, and train again.")


def change_name(name: str) -> str:
    """A behavioural family in words ("Numbers changed"); a family this version does not know, by its name."""
    return tr(CHANGES[name]) if name in CHANGES else str(name)


def change_line(t: dict, what: str) -> str:
    """How often one family changed the answer, in Markdown; `what` is its name, escaped for where it goes."""
    if t.get("kind") == "directional":
        rule = t.get("rule") or {}
        where = (tr("before {words}", words=", ".join(rule.get("before") or [])) if rule.get("before")
                 else tr("at the end"))  # fmt: skip
        said = tr("adding “{phrase}” {where} should lower {label}", phrase=rule.get("insert", ""), where=where,
                  label=rule.get("label", "")) if rule.get("direction") == "down" else tr(
                  "adding “{phrase}” {where} should raise {label}", phrase=rule.get("insert", ""), where=where,
                  label=rule.get("label", ""))  # fmt: skip
        return tr("**{what}** ({said}): did not do so on {failed} of {changed} texts ({rate}; likely between {low} "
                  "and {high}).", what=what, said=md(said), failed=i18n.number(t["failed"]),
                  changed=i18n.number(t["changed"]), rate=i18n.percent(t["fail_rate"]),
                  low=i18n.percent(t["ci_low"]), high=i18n.percent(t["ci_high"]))  # fmt: skip
    if t.get("unit") == "sentence":
        return tr("**{what}**: moves a tag it should keep in {failed} of {changed} sentences ({rate}; likely "
                  "between {low} and {high}); {entities_failed} of {entities} entities lost their tags.", what=what,
                  failed=i18n.number(t["failed"]), changed=i18n.number(t["changed"]),
                  rate=i18n.percent(t["fail_rate"]), low=i18n.percent(t["ci_low"]),
                  high=i18n.percent(t["ci_high"]), entities_failed=i18n.number(t.get("entities_failed") or 0),
                  entities=i18n.number(t.get("entities") or 0))  # fmt: skip
    return tr("**{what}**: changes the answer on {failed} of {changed} texts ({rate}; likely between {low} and "
              "{high}).", what=what, failed=i18n.number(t["failed"]), changed=i18n.number(t["changed"]),
              rate=i18n.percent(t["fail_rate"]), low=i18n.percent(t["ci_low"]), high=i18n.percent(t["ci_high"]))  # fmt: skip


def untried_note(results: dict, escape: Callable[[str], str] = str) -> str | None:
    """The families that changed no test text, in a sentence (each name through `escape`); None when every
    one changed some."""
    untried = [escape(change_name(t["name"])) for t in results["tests"] if not t["changed"]]
    if not untried:
        return None
    return tr("Not tried, since no test text can be changed that way: {names}.", names="; ".join(untried))


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
    if not flagged:
        st.success(nothing_flagged(report), icon=":material/check_circle:")
        return
    st.caption(flagged_note(report))
    for s in flagged[:SHOWN]:
        words, action = st.columns([2, 1], vertical_alignment="center")
        words.markdown(slice_line(s, report["overall"], md(group_name(unit, s["feature"], s["value"]))))
        rows_action(run, s, action)
    st.caption(fix_note())
    with st.expander(tr("Details for specialists: the tests behind it")):
        st.caption(tr("Each group against the rest of the test split: a one-sided Fisher exact test, a Wilson "
                      "95% interval, and Benjamini–Hochberg q-values over every group tried; listed when q is "
                      "at most {alpha}.", alpha=i18n.percent(report["alpha"])))  # fmt: skip
        table = pd.DataFrame([{tr("group"): group_name(unit, s["feature"], s["value"]), "n": s["n"],
                               tr("wrong"): s["errors"], "p": f"{s['p_value']:.1e}", "q": f"{s['q_value']:.1e}"}
                              for s in flagged])  # fmt: skip
        st.dataframe(table, hide_index=True, width="stretch")


def rows_file_name(run: Run, s: dict) -> str:
    """The file of one group's rows, named after the run and the group ("<run>-word-refund.csv")."""
    slug = re.sub(r"\W+", "-", str(s["value"])).strip("-_")[:40] or "rows"
    return f"{run.path.name}-{s['feature']}-{slug}.csv"


def rows_frame(run: Run, feature: str, value: str) -> pd.DataFrame:
    """One group's test examples as a file to check: their row in the data file (when the run kept it), the
    text (an entity run: its words), the given label (tags) and the model's answer."""
    from trainer.inspect.slices import rows_of

    predictions, positions = run.folder.predictions(), rows_of(run, feature, value)
    if predictions is None or not positions:
        return pd.DataFrame(columns=["text", "label", "model_answer", "confidence"])
    chosen = predictions.iloc[positions]
    text = chosen["tokens" if "tokens" in chosen else "text"]
    frame = pd.DataFrame({"text": text.astype(str), "label": chosen["gold"].astype(str),
                          "model_answer": chosen["predicted"].astype(str)})  # fmt: skip
    if "confidence" in chosen:
        frame["confidence"] = chosen["confidence"]
    test = run.split("test")
    if test is not None and "row" in test and len(test) == len(predictions):
        frame.insert(0, "row", test["row"].iloc[positions].to_numpy())
    return frame.reset_index(drop=True)


def rows_csv(run: Run, feature: str, value: str) -> bytes:
    """The group's rows as safe CSV (formula-like cells neutralised), made when the button is clicked."""
    return csv_bytes(rows_frame(run, feature, value))


def rows_action(run: Run, s: dict, where) -> None:
    """The action on one flagged group: its test rows as a file to check, then a word on what to do next."""
    name = rows_file_name(run, s)
    key = "slice_rows_" + hashlib.sha1(f"{s['feature']}\n{s['value']}".encode()).hexdigest()[:12]
    clicked = where.download_button(
        tr("Download these {n} rows to check", n=i18n.number(s["n"])),
        partial(rows_csv, run, s["feature"], s["value"]),  # deferred: no reading until a click
        file_name=name, mime="text/csv", icon=":material/download:", key=key, help=tr(ROWS_HELP),
        on_click=auth.recorder("download", f"{run.path.name}/{name}", rows=s["n"]),
    )  # fmt: skip
    if clicked:
        group = group_name(run.adapter.unit, s["feature"], s["value"])
        st.success(tr("{n} rows of “{group}” went to the file {file}, each with its given label and the model's "
                      "answer. Next: check their labels and correct any wrong one in your data (or under “Likely "
                      "label issues”, where it is listed); then label more examples like them, add them to the "
                      "training data and train again. These rows stay in the test split, so the next run is "
                      "measured on them.", n=i18n.number(s["n"]), group=md(group), file=md(name)),
                   icon=":material/check:")  # fmt: skip


def small_changes(run: Run) -> None:
    """Behavioural tests of a run: how often a change that should not matter changes the answer (an entity
    run: a tag it should keep)."""
    from trainer.inspect.behaviour import saved
    from trainer.runs.records import computation_name

    st.markdown("#### " + tr("Small changes that should not matter"))
    results = saved(run.path)
    if results is None:
        manager, name = state.job_manager(), computation_name("robustness", {})
        task = manager.computation(run.path, name)
        if task is None or not task.running and task.status != "failed":
            if run.adapter.supports("small_changes"):
                st.caption(tr("Change each test text a little (a typing slip, capitals, the final punctuation, a "
                              "space, a number, a person's name, a place) and see how often the model's answer "
                              "changes. It should not."))  # fmt: skip
            else:
                st.caption(tr("Change each test sentence a little (a typing slip outside the entities, a person's "
                              "name or a place swapped for another) and see how often a tag moves that should "
                              "not."))  # fmt: skip
            if st.button(tr("Try small changes"), icon=":material/science:", key="start_robustness"):
                manager.forget_computation(run.path, name)
                manager.start_computation(run.path, "robustness")
                st.rerun()
            return
        if not background.job_computation(run.path, "robustness", tr("Trying small changes"), start=False):
            return
        results = saved(run.path) or {"tests": []}
    for t in results["tests"]:
        if t["changed"]:
            st.markdown(change_line(t, md(change_name(t["name"]))))
    untried = untried_note(results, md)
    if untried:
        st.caption(untried)
    train_on_changes.offer(run, results, {name: change_name(name) for name in CHANGES})
    flipped = [(t, e) for t in results["tests"] for e in t.get("examples", []) if e["before"] != e["after"]]
    if flipped:
        with st.expander(tr("Texts whose answer changed ({n})", n=len(flipped))):
            st.dataframe(pd.DataFrame([{tr("change"): change_name(t["name"]), tr("text"): e["original"],
                                        tr("changed to"): e["perturbed"], tr("answer"): e["before"],
                                        tr("then"): e["after"]} for t, e in flipped]),
                         hide_index=True, width="stretch")  # fmt: skip
            if run.adapter.supports("small_changes"):
                explain_a_change(flipped)
    own_rules.form(run)


def explain_a_change(flipped: list[tuple[dict, dict]]) -> None:
    """Pick one text whose answer changed and see both explanations side by side on the Explain page."""
    left, right = st.columns([5, 2], vertical_alignment="bottom")
    pick = left.selectbox(tr("Which words moved the answer?"), range(len(flipped)), key="change_to_explain",
                          format_func=lambda i: trim(flipped[i][1]["original"], 90))  # fmt: skip
    if right.button(tr("Explain the change"), icon=":material/lightbulb:", key="explain_change"):
        example = flipped[pick][1]
        state.open_in_explain(
            example["original"], tr("a small change on Evaluate"), changed=example["perturbed"]
        )
        layout.go("explain")
