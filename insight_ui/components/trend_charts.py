"""Plotly figures of the Apply page: label shares over time with their alerts, and confidence drift.

User text (labels, groups) goes through `safe.plot_label`, as in `charts`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from insight_ui.components.charts import ACCENT, PALETTE, _tidy
from insight_ui.safe import plot_label

BUCKET_WORDS = {"day": "day", "week": "week starting", "month": "month"}


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
                hovertemplate=f"{plot_label(label, 30)}: %{{y:.0%}} (%{{customdata}} texts)<extra>%{{x|%d %b %Y}}</extra>",
            ),
            row=1,
            col=1,
        )
    for direction, symbol, color in (("up", "triangle-up", "#dc2626"), ("down", "triangle-down", "#2563eb")):
        mine = [a for a in alerts if a.get("direction") == direction]
        if mine:
            fig.add_trace(
                go.Scatter(
                    x=pd.to_datetime([a["bucket_start"] for a in mine]),
                    y=[a["share"] for a in mine],
                    mode="markers",
                    name=f"alert ({direction})",
                    marker={
                        "symbol": symbol,
                        "size": 15,
                        "color": color,
                        "line": {"width": 1, "color": "white"},
                    },
                    customdata=[
                        [plot_label(a["label"], 30), f"{a['baseline_share']:.0%}", a["n"]] for a in mine
                    ],
                    hovertemplate="Alert: %{customdata[0]} at %{y:.0%} (usual %{customdata[1]}), "
                    "%{customdata[2]} texts<extra></extra>",
                ),
                row=1,
                col=1,
            )
    totals = counts.groupby("bucket")["total"].first().reindex(table.index)
    fig.add_trace(
        go.Bar(
            x=x,
            y=totals.to_numpy(),
            name="texts",
            marker_color="#cbd5e1",
            showlegend=False,
            hovertemplate="%{y} texts<extra>%{x|%d %b %Y}</extra>",
        ),
        row=2,
        col=1,
    )
    fig.update_yaxes(tickformat=".0%", rangemode="tozero", title_text="share of texts", row=1, col=1)
    fig.update_yaxes(title_text="texts", row=2, col=1)
    fig.update_xaxes(title_text=BUCKET_WORDS.get(bucket, bucket), row=2, col=1)
    fig.update_layout(legend={"orientation": "h", "y": 1.08}, hovermode="closest")
    return _tidy(fig, height=440)


def confidence_chart(histogram: Sequence[int], edges: np.ndarray, validation: np.ndarray) -> go.Figure:
    """How confident the model is on the new texts against its own validation texts (share per bin)."""
    centres = (edges[:-1] + edges[1:]) / 2
    new = np.asarray(histogram, dtype=float)
    old = np.histogram(validation, edges)[0].astype(float)
    fig = go.Figure()
    for name, values, color in (("new texts", new, ACCENT), ("validation texts", old, "#f59e0b")):
        fig.add_trace(
            go.Bar(
                x=centres,
                y=values / max(values.sum(), 1),
                name=name,
                marker_color=color,
                opacity=0.6,
                hovertemplate=f"{name}: %{{y:.1%}} at confidence %{{x:.0%}}<extra></extra>",
            )
        )
    fig.update_layout(barmode="overlay", xaxis={"tickformat": ".0%", "title": "model confidence"},
                      yaxis={"tickformat": ".0%", "title": "share of texts"}, legend={"orientation": "h", "y": 1.12})  # fmt: skip
    return _tidy(fig, height=280)
