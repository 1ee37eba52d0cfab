"""A short shareable report of a scoring, as one self-contained HTML page: no scripts, no links, every
value escaped, the trend drawn as inline SVG."""

from __future__ import annotations

import html
import time
from collections.abc import Sequence

from insight_ui.components.charts import PALETTE
from trainer.apply.trends import ALL_GROUPS
from trainer.runs import Run

STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:900px;margin:2rem auto;padding:0 1rem;color:#1f2937}"
    "table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #e5e7eb;padding:.35rem .7rem;"
    "text-align:left;vertical-align:top}th{background:#f3f4f6}h1{color:#4f46e5}.up{color:#dc2626}"
    ".down{color:#2563eb}.box{border:1px solid #e5e7eb;border-radius:8px;padding:.6rem 1rem;margin:.8rem 0}"
    ".legend span{margin-right:1rem}"
)


def _esc(value: object) -> str:
    return html.escape(str(value))


def _table(rows: Sequence[Sequence[object]], head: Sequence[str] | None = None) -> str:
    out = ["<table>"]
    if head:
        out.append("<tr>" + "".join(f"<th>{_esc(h)}</th>" for h in head) + "</tr>")
    out += ["<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in row) + "</tr>" for row in rows]
    return "".join(out) + "</table>"


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
    parts.append(f"<text x='{left}' y='{height - 6}' font-size='10' fill='#6b7280'>{_esc(buckets[0])}</text>")
    parts.append(
        f"<text x='{left + inner_w}' y='{height - 6}' font-size='10' fill='#6b7280' text-anchor='end'>"
        f"{_esc(buckets[-1])}</text></svg>"
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
    facts = [
        ("File", file_name),
        ("Model", f"{run.info.name} ({run.path.name})"),
        ("Scored", time.strftime("%Y-%m-%d %H:%M")),
        ("Rows", f"{results.get('rows', 0):,} read, {scored:,} scored"),
        (
            "Untrusted",
            f"{results.get('untrusted', 0):,} ({results.get('untrusted', 0) / max(scored, 1):.1%})",
        ),
        ("Drift", drift.get("verdict", "")),
    ]
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>Insight scoring: {_esc(file_name)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>Insight scoring: {_esc(file_name)}</h1>",
        _table(facts),
        f"<div class='box'><b>Drift.</b> {_esc(drift.get('sentence', ''))}</div>",
    ]
    if results.get("counts"):
        parts += [
            f"<h2>Share of each label per {_esc(results.get('bucket', 'bucket'))}</h2>",
            trend_svg(results["counts"], results.get("labels") or []),
        ]
    alerts = results.get("alerts") or []
    if results.get("counts"):
        parts.append(f"<h2>Alerts ({len(alerts)})</h2>")
        if not alerts:
            parts.append("<p>No label's share moved beyond what chance explains.</p>")
    for alert in alerts:
        arrow, kind = ("&#9650;", "up") if alert["direction"] == "up" else ("&#9660;", "down")
        where = f" in {_esc(alert['group'])}" if alert.get("group") else ""
        words = ", ".join(_esc(w["word"]) for w in alert.get("words") or [])
        examples = "".join(f"<li>{_esc(t)}</li>" for t in alert.get("examples", [])[:5])
        parts.append(
            f"<div class='box'><b class='{kind}'>{arrow} {_esc(alert['label'])}</b>{where}, "
            f"{results.get('bucket', '')} of {_esc(alert['bucket_start'])}: {alert['share']:.0%} of "
            f"{alert['n']:,} texts against {alert['baseline_share']:.0%} before (p = {alert['p_value']:.1e})"
            + (f"<br>Words behind it: {words}" if words else "")
            + (f"<ul>{examples}</ul>" if examples else "")
            + "</div>"
        )
    parts.append("</body></html>")
    return "".join(parts)
