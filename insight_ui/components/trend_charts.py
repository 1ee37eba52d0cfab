"""Plotly figures of the Apply page: label shares over time with their alerts, and confidence drift; and
the words for a time bucket that the Apply and Monitors pages put in their sentences.

User text (labels, groups) goes through `safe.plot_label`, as in `charts`. Plotly's own %{...} fields are
filled into translated templates as values, so a translation never holds them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from insight_ui.components.charts import ACCENT, PALETTE, _tidy
from insight_ui.safe import md, plot_label
from trainer import i18n
from trainer.i18n import N_, tr

BUCKET_WORDS = {"day": N_("day"), "week": N_("week starting"), "month": N_("month")}  # the time axis
UNIT = {"day": N_("day"), "week": N_("week"), "month": N_("month")}  # a bucket in a sentence
UNITS = {"day": N_("days"), "week": N_("weeks"), "month": N_("months")}  # buckets after a number
WHEN = {"day": N_("on {date}"), "week": N_("in the week of {date}"), "month": N_("in the month of {date}")}
SOME_WHEN = N_("in {date}")  # a bucket of another size
BUCKET_DAYS = {"day": 1, "week": 7, "month": 31}  # a bucket's length, to pad a short time axis
FEW_BUCKETS = 4  # fewer than this, and Plotly's own axis zooms into hours around them: ticks on the buckets


def unit(bucket: str) -> str:
    """A time bucket ("week") as a word in the current language."""
    return tr(UNIT[bucket]) if bucket in UNIT else bucket


def units(bucket: str) -> str:
    """Time buckets after a number ("8 weeks") in the current language."""
    return tr(UNITS[bucket]) if bucket in UNITS else f"{bucket}s"


def bucket_when(bucket: str, start: str) -> str:
    """When a bucket was ("in the week of 2026-06-01"), in the current language."""
    return tr(WHEN.get(bucket, SOME_WHEN), date=start)


def alert_values(alert: dict, bucket: str) -> dict[str, str]:
    """The values an alert's headline names (arrow, label, when, share, n, baseline, buckets), escaped and
    formatted for the current language; Apply and Monitors add their own."""
    return {
        "arrow": ":red[▲]" if alert["direction"] == "up" else ":blue[▼]",
        "label": md(alert["label"]),
        "when": bucket_when(bucket, alert["bucket_start"]),
        "share": i18n.percent(alert["share"]),
        "n": i18n.number(alert["n"]),
        "baseline": i18n.percent(alert["baseline_share"]),
        "buckets": units(bucket),
    }


def date_axis(starts: pd.DatetimeIndex, bucket: str) -> dict:
    """The time axis for these bucket starts: with only a few, a date range padded by half a bucket each side,
    a tick on each bucket and dates written as dates (never "23:59:59.9996"); with more, Plotly's own ticks.
    Dates in Chinese are always written as Chinese dates."""
    chinese = i18n.language() == "zh"  # Plotly's own date ticks are English ("Jun 14")
    axis: dict = {"tickformat": "%-m月%-d日\n%Y"} if chinese else {}
    if len(starts) and len(starts) < FEW_BUCKETS:
        half = pd.Timedelta(days=BUCKET_DAYS.get(bucket, 7)) / 2
        axis.update(
            range=[(starts.min() - half).isoformat(), (starts.max() + half).isoformat()],
            tickvals=list(starts), tickformat=axis.get("tickformat") or tr("%d %b %Y"),
        )  # fmt: skip
    return axis


def trend_chart(
    counts: pd.DataFrame, alerts: Sequence[dict], bucket: str, labels: Sequence[str]
) -> go.Figure:
    """Each label's share per bucket (lines, alerts marked), and the texts per bucket (bars) below.

    `counts`: one group's rows with columns bucket (ISO date), label, n, share, total.
    """
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.74, 0.26], vertical_spacing=0.06)
    table = counts.pivot_table(index="bucket", columns="label", values="share", fill_value=0.0).sort_index()
    n = counts.pivot_table(index="bucket", columns="label", values="n", fill_value=0).reindex(table.index)
    x = pd.to_datetime(table.index)
    _share_lines(fig, table, n, x, labels)
    _alert_marks(fig, alerts)
    totals = counts.groupby("bucket")["total"].first().reindex(table.index)
    fig.add_trace(
        go.Bar(
            x=x,
            y=totals.to_numpy(),
            name=tr("texts"),
            marker_color="#cbd5e1",
            showlegend=False,
            hovertemplate=tr("{count} texts", count="%{y}") + "<extra>%{x|" + tr("%d %b %Y") + "}</extra>",
        ),
        row=2,
        col=1,
    )
    fig.update_yaxes(tickformat=".0%", rangemode="tozero", title_text=tr("share of texts"), row=1, col=1)
    fig.update_yaxes(title_text=tr("texts"), row=2, col=1)
    fig.update_xaxes(title_text=tr(BUCKET_WORDS[bucket]) if bucket in BUCKET_WORDS else bucket, row=2, col=1)
    fig.update_xaxes(**date_axis(x, bucket))
    fig.update_layout(legend={"orientation": "h", "y": 1.08}, hovermode="closest")
    return _tidy(fig, height=440)


def _share_lines(
    fig: go.Figure, table: pd.DataFrame, n: pd.DataFrame, x: pd.DatetimeIndex, labels: Sequence[str]
) -> None:
    """One line per label (in `labels` order, each its colour) of its share per bucket, on the top row."""
    for i, label in enumerate(labels):
        if label not in table.columns:
            continue
        fig.add_trace(
            go.Scatter(
                x=x,
                y=table[label],
                name=plot_label(label, 30),
                mode="lines+markers",
                line={"color": PALETTE[i % len(PALETTE)], "width": 2},
                marker={"size": 5},
                customdata=n[label].to_numpy(),
                hovertemplate=tr(
                    "{label}: {share} ({count} texts)",
                    label=plot_label(label, 30),
                    share="%{y:.0%}",
                    count="%{customdata}",
                )
                + "<extra>%{x|"
                + tr("%d %b %Y")
                + "}</extra>",  # fmt: skip
            ),
            row=1,
            col=1,
        )


def _alert_marks(fig: go.Figure, alerts: Sequence[dict]) -> None:
    """The alerts as triangles on the top row: red up, blue down."""
    marks = (
        ("up", N_("alert (up)"), "triangle-up", "#dc2626"),
        ("down", N_("alert (down)"), "triangle-down", "#2563eb"),
    )
    for direction, name, symbol, color in marks:
        mine = [a for a in alerts if a.get("direction") == direction]
        if mine:
            fig.add_trace(
                go.Scatter(
                    x=pd.to_datetime([a["bucket_start"] for a in mine]),
                    y=[a["share"] for a in mine],
                    mode="markers",
                    name=tr(name),
                    marker={
                        "symbol": symbol,
                        "size": 15,
                        "color": color,
                        "line": {"width": 1, "color": "white"},
                    },
                    customdata=[
                        [plot_label(a["label"], 30), f"{a['baseline_share']:.0%}", a["n"]] for a in mine
                    ],
                    hovertemplate=tr(
                        "Alert: {label} at {share} (usual {usual}), {count} texts",
                        label="%{customdata[0]}",
                        share="%{y:.0%}",
                        usual="%{customdata[1]}",
                        count="%{customdata[2]}",
                    )
                    + "<extra></extra>",
                ),
                row=1,
                col=1,
            )


def confidence_chart(histogram: Sequence[int], edges: np.ndarray, validation: np.ndarray) -> go.Figure:
    """How confident the model is on the new texts against its own validation texts (share per bin)."""
    centres = (edges[:-1] + edges[1:]) / 2
    new = np.asarray(histogram, dtype=float)
    old = np.histogram(validation, edges)[0].astype(float)
    fig = go.Figure()
    for name, values, color in ((tr("new texts"), new, ACCENT), (tr("validation texts"), old, "#f59e0b")):
        fig.add_trace(
            go.Bar(
                x=centres,
                y=values / max(values.sum(), 1),
                name=name,
                marker_color=color,
                opacity=0.6,
                hovertemplate=tr(
                    "{name}: {share} at confidence {confidence}",
                    name=name,
                    share="%{y:.1%}",
                    confidence="%{x:.0%}",
                )
                + "<extra></extra>",  # fmt: skip
            )
        )
    fig.update_layout(barmode="overlay", xaxis={"tickformat": ".0%", "title": tr("model confidence")},
                      yaxis={"tickformat": ".0%", "title": tr("share of texts")}, legend={"orientation": "h", "y": 1.12})  # fmt: skip
    return _tidy(fig, height=280)
