"""The run report's "Where it does worse" and "Small changes that should not matter": the flagged weak slices
in the Evaluate page's own sentences (insight_ui.components.weak_slices), and the saved behavioural tests as
a table, for the HTML page and the Markdown file. No widget is drawn here."""

from __future__ import annotations

import html

from insight_ui.components.weak_slices import (
    change_name,
    fix_note,
    flagged_note,
    group_name,
    nothing_flagged,
    slice_line,
    untried_note,
)
from insight_ui.reads import analysis
from insight_ui.safe import html_table, md_cell
from trainer import i18n
from trainer.i18n import tr, trn
from trainer.runs import Run

LISTED = 20  # the flagged groups a report lists; the rest are counted
MARK = "\ufffc"  # where a group's name goes in a sentence, until it is escaped for HTML


def _flagged(run: Run) -> tuple[dict | None, list[dict]]:
    report = analysis.weak_slices(run)
    return report, [] if report is None else [s for s in report["slices"] if s["flagged"]]


def _behaviour(run: Run) -> dict | None:
    """The behavioural tests saved for the run, when any family changed a text (or was tried at all)."""
    from trainer.inspect.behaviour import saved

    results = saved(run.path)
    return results if results and results.get("tests") else None


def _more(flagged: list[dict]) -> str | None:
    left = len(flagged) - LISTED
    if left <= 0:
        return None
    return trn("And {n} more group, listed on the Evaluate page.", "And {n} more groups, listed on the "
               "Evaluate page.", left, n=i18n.number(left))  # fmt: skip


def _head() -> list[str]:
    return [
        tr("What changed"),
        tr("Changed texts"),
        tr("Answers changed"),
        tr("Share changed (95% interval)"),
    ]


def _rows(results: dict) -> list[list[str]]:
    """One row per family that changed a text: what changed, how many texts, answers changed, the share."""
    return [[change_name(t["name"]), i18n.number(t["changed"]), i18n.number(t["failed"]),
             f"{i18n.percent(t['fail_rate'])} ({i18n.percent(t['ci_low'])}–{i18n.percent(t['ci_high'])})"]
            for t in results["tests"] if t["changed"]]  # fmt: skip


def _behaviour_intro() -> str:
    return tr("How often a change that should not matter changed the model's answer on the test texts, with "
              "the range it is likely in (a 95% interval).")  # fmt: skip


def _html_bold(sentence: str, name: str) -> str:
    """A sentence of the catalogue, "**{group}**: ..." filled with MARK, as HTML: the name escaped, in bold."""
    page = html.escape(sentence).replace(f"**{MARK}**", f"<b>{MARK}</b>")
    return page.replace(MARK, html.escape(name))


def html_parts(run: Run) -> list[str]:
    """The two sections as HTML (every value escaped); none when the run has neither."""
    report, flagged = _flagged(run)
    parts = []
    if report is not None:
        parts.append("<h2>" + html.escape(tr("Where it does worse")) + "</h2>")
        if not flagged:
            parts.append(f"<p>{html.escape(nothing_flagged(report))}</p>")
        else:
            parts.append(f"<p>{html.escape(flagged_note(report))}</p><ul>")
            unit = run.adapter.unit
            for s in flagged[:LISTED]:
                name = group_name(unit, s["feature"], s["value"])
                parts.append(f"<li>{_html_bold(slice_line(s, report['overall'], MARK), name)}</li>")
            parts.append("</ul>")
            parts += [f"<p>{html.escape(line)}</p>" for line in (_more(flagged), fix_note()) if line]
    results = _behaviour(run)
    if results is not None:
        parts.append("<h2>" + html.escape(tr("Small changes that should not matter")) + "</h2>")
        parts.append(f"<p>{html.escape(_behaviour_intro())}</p>")
        rows = _rows(results)
        if rows:
            parts.append(html_table(rows, _head()))
        untried = untried_note(results)
        if untried:
            parts.append(f"<p>{html.escape(untried)}</p>")
    return parts


def markdown_lines(run: Run) -> list[str]:
    """The two sections as Markdown lines (user text escaped); none when the run has neither."""
    report, flagged = _flagged(run)
    lines = []
    if report is not None:
        lines += ["## " + md_cell(tr("Where it does worse")), ""]
        if not flagged:
            lines += [md_cell(nothing_flagged(report)), ""]
        else:
            lines += [md_cell(flagged_note(report)), ""]
            unit = run.adapter.unit
            lines += [f"- {slice_line(s, report['overall'], md_cell(group_name(unit, s['feature'], s['value'])))}"
                      for s in flagged[:LISTED]]  # fmt: skip
            lines += [""] + [md_cell(line) + "  " for line in (_more(flagged), fix_note()) if line] + [""]
    results = _behaviour(run)
    if results is not None:
        lines += [
            "## " + md_cell(tr("Small changes that should not matter")),
            "",
            md_cell(_behaviour_intro()),
            "",
        ]
        rows = _rows(results)
        if rows:
            lines += ["| " + " | ".join(map(md_cell, _head())) + " |", "|---|---|---|---|"]
            lines += ["| " + " | ".join(map(md_cell, row)) + " |" for row in rows] + [""]
        untried = untried_note(results, md_cell)
        if untried:
            lines += [untried, ""]
    return lines
