"""A short shareable report of a scoring, as one self-contained HTML page: no scripts, no links, every
value escaped, the trend drawn as inline SVG."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence

from insight_ui.components.charts import PALETTE
from insight_ui.safe import html_table
from trainer import i18n
from trainer.evaluate import drift as drifts
from trainer.evaluate.trends import ALL_GROUPS
from trainer.i18n import N_, tr, trn
from trainer.runs import Run

STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:900px;margin:2rem auto;padding:0 1rem;color:#1f2937}"
    "table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #e5e7eb;padding:.35rem .7rem;"
    "text-align:left;vertical-align:top}th{background:#f3f4f6}h1{color:#4f46e5}.up{color:#dc2626}"
    ".down{color:#2563eb}.box{border:1px solid #e5e7eb;border-radius:8px;padding:.6rem 1rem;margin:.8rem 0}"
    ".legend span{margin-right:1rem}"
)

# trainer.apply's words (a time bucket, the drift verdict), marked here and translated where shown.
BUCKETS = {"day": N_("day"), "week": N_("week"), "month": N_("month")}
WHEN = {"day": N_("day of {start}"), "week": N_("week of {start}"), "month": N_("month of {start}")}
VERDICTS = {"similar": N_("similar"), "some drift": N_("some drift"), "strong drift": N_("strong drift")}


def _said(words: dict[str, str], key: str) -> str:
    """`key`'s phrase from `words` in the current language; `key` itself when it has none."""
    return tr(words[key]) if key in words else key


def _day(value: object) -> str:
    """A bucket's start (an ISO date) as the current language writes a date."""
    try:
        return i18n.date(str(value))
    except ValueError:
        return str(value)


def _html_lang() -> str:
    """The report's <html lang>: the language it is written in."""
    return "zh-Hans" if i18n.language() == "zh" else "en"


def _esc(value: object) -> str:
    return html.escape(str(value))


def trend_svg(counts: Sequence[dict], labels: Sequence[str], width: int = 860, height: int = 240) -> str:
    """Each label's share per bucket (all groups together) as an inline SVG line chart."""
    rows = [c for c in counts if c["group"] == ALL_GROUPS]
    buckets = sorted({c["bucket"] for c in rows})
    if len(buckets) < 2:
        return ""
    share = {(c["bucket"], c["label"]): c["share"] for c in rows}
    left, top, inner_w, inner_h = 40, 10, width - 50, height - 40

    def x(i: int) -> float:
        return left + inner_w * i / (len(buckets) - 1)

    def y(v: float) -> float:
        return top + inner_h * (1 - v)

    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' role='img'>"]
    for v in (0, 0.25, 0.5, 0.75, 1):
        parts.append(
            f"<line x1='{left}' x2='{left + inner_w}' y1='{y(v):.1f}' y2='{y(v):.1f}' stroke='#e5e7eb'/>"
        )
        parts.append(f"<text x='2' y='{y(v) + 4:.1f}' font-size='10' fill='#6b7280'>{v:.0%}</text>")
    for i, label in enumerate(labels):
        points = " ".join(f"{x(j):.1f},{y(share.get((b, label), 0.0)):.1f}" for j, b in enumerate(buckets))
        parts.append(
            f"<polyline fill='none' stroke='{PALETTE[i % len(PALETTE)]}' stroke-width='2' points='{points}'/>"
        )
    parts.append(
        f"<text x='{left}' y='{height - 6}' font-size='10' fill='#6b7280'>{_esc(_day(buckets[0]))}</text>"
    )
    parts.append(
        f"<text x='{left + inner_w}' y='{height - 6}' font-size='10' fill='#6b7280' text-anchor='end'>"
        f"{_esc(_day(buckets[-1]))}</text></svg>"
    )
    legend = "".join(
        f"<span style='color:{PALETTE[i % len(PALETTE)]}'>&#9632; {_esc(label)}</span>"
        for i, label in enumerate(labels)
    )
    return "".join(parts) + f"<div class='legend'>{legend}</div>"


def scoring_html(run: Run, file_name: str, results: dict) -> str:
    """The report: what was scored with which model, the drift verdict, the trend, and the alerts."""
    drift = results.get("drift") or {}
    scored = results.get("scored", 0)
    untrusted = results.get("untrusted", 0)
    rows = format(results.get("rows", 0), ",")
    facts = [
        (tr("File"), file_name),
        (tr("Model"), f"{run.info.name} ({run.path.name})"),
        (tr("Scored"), i18n.date(dt.datetime.now(), with_time=True)),
        (tr("Rows"), tr("{read} read, {scored} scored", read=rows, scored=format(scored, ","))),
        (tr("Untrusted"), f"{untrusted:,} ({drifts.share(untrusted / max(scored, 1))})"),
        (tr("Drift"), _said(VERDICTS, drift.get("verdict", ""))),
    ]
    title = _esc(tr("Insight scoring: {file}", file=file_name))
    parts = [
        f"<!doctype html><html lang='{_html_lang()}'><head><meta charset='utf-8'><title>{title}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{title}</h1>",
        html_table(facts),
        "<div class='box'><b>" + _esc(tr("Drift.")) + "</b> " + _esc(drifts.describe(drift)) + "</div>",
    ]
    if results.get("counts"):
        per = _said(BUCKETS, results.get("bucket", "bucket"))
        parts += [
            "<h2>" + _esc(tr("Share of each label per {bucket}", bucket=per)) + "</h2>",
            trend_svg(results["counts"], results.get("labels") or []),
        ]
    alerts = results.get("alerts") or []
    if results.get("counts"):
        parts.append("<h2>" + _esc(tr("Alerts ({n})", n=len(alerts))) + "</h2>")
        if not alerts:
            parts.append("<p>" + _esc(tr("No label's share moved beyond what chance explains.")) + "</p>")
    for alert in alerts:
        parts.append(_alert_box(alert, results.get("bucket", "")))
    parts.append("</body></html>")
    return "".join(parts)


def _alert_box(alert: dict, bucket: str) -> str:
    """One alert: which label moved where and when, by how much, the words behind it and examples."""
    arrow, kind = ("&#9650;", "up") if alert["direction"] == "up" else ("&#9660;", "down")
    start = _esc(_day(alert["bucket_start"]))
    if bucket in WHEN:
        when = tr(WHEN[bucket], start=start)
    else:
        when = tr("{bucket} of {start}", bucket=_esc(bucket), start=start)
    values = {
        "label": f"<b class='{kind}'>{arrow} {_esc(alert['label'])}</b>",
        "when": when,
        "share": format(alert["share"], ".0%"),
        "count": format(alert["n"], ","),
        "baseline": format(alert["baseline_share"], ".0%"),
        "p": format(alert["p_value"], ".1e"),
    }
    if alert.get("group"):
        sentence = trn(
            "{label} in {group}, {when}: {share} of {count} text against {baseline} before (p = {p})",
            "{label} in {group}, {when}: {share} of {count} texts against {baseline} before (p = {p})",
            alert["n"],
            group=_esc(alert["group"]),
            **values,
        )
    else:
        sentence = trn(
            "{label}, {when}: {share} of {count} text against {baseline} before (p = {p})",
            "{label}, {when}: {share} of {count} texts against {baseline} before (p = {p})",
            alert["n"],
            **values,
        )
    words = ", ".join(_esc(w["word"]) for w in alert.get("words") or [])
    examples = "".join(f"<li>{_esc(t)}</li>" for t in alert.get("examples", [])[:5])
    return (
        f"<div class='box'>{sentence}"
        + ("<br>" + tr("Words behind it: {words}", words=words) if words else "")
        + (f"<ul>{examples}</ul>" if examples else "")
        + "</div>"
    )
