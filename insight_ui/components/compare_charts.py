"""Plotly figures of the Compare page: scores with intervals, per-class changes, the confusion difference,
and validation curves overlaid. User text (run names, labels) goes through `safe.plot_label`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from insight_ui.components.charts import PALETTE, _tidy
from insight_ui.safe import plot_label
from trainer.i18n import tr


def score_intervals(scores: pd.DataFrame, key: str, title: str) -> go.Figure:
    """One dot per run with its 95% interval as an error bar, for the score `key`."""
    rows = scores[scores["key"] == key]
    names = [plot_label(n, 30) for n in rows["run"]]
    fig = go.Figure(
        go.Scatter(
            x=rows["value"],
            y=names,
            mode="markers",
            marker={"size": 12, "color": [PALETTE[i % len(PALETTE)] for i in range(len(rows))]},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": rows["high"] - rows["value"],
                "arrayminus": rows["value"] - rows["low"],
                "thickness": 2,
                "width": 8,
            },  # fmt: skip
            customdata=np.stack([rows["low"], rows["high"], rows["n"]], axis=1),
            hovertemplate=tr(
                "{run}: {value} (95%: {low}–{high}, {n} test examples)",
                run="%{y}",
                value="%{x:.3f}",
                low="%{customdata[0]:.3f}",
                high="%{customdata[1]:.3f}",
                n="%{customdata[2]}",
            )
            + "<extra></extra>",
        )
    )
    fig.update_layout(
        xaxis={"title": title, "tickformat": ".0%"}, yaxis={"type": "category", "autorange": "reversed"}
    )
    return _tidy(
        fig,
        height=max(160, 48 * len(rows) + 90),
        title=tr("{score}: each run with its likely range", score=title),
    )


def class_deltas(frame: pd.DataFrame, name_a: str, name_b: str, word: str) -> go.Figure:
    """F1 change per class (B - A), green up and red down."""
    rows = frame.sort_values("delta")
    fig = go.Figure(
        go.Bar(
            x=rows["delta"],
            y=[plot_label(c, 30) for c in rows["class"]],
            orientation="h",
            marker_color=["#10b981" if d >= 0 else "#ef4444" for d in rows["delta"]],
            customdata=np.stack([rows["f1_a"], rows["f1_b"], rows["support"]], axis=1),
            hovertemplate=tr(
                "{name}: F1 {a} {f1_a} → {b} {f1_b} ({n} examples)",
                name="%{y}",
                a=plot_label(name_a, 20),
                f1_a="%{customdata[0]:.3f}",
                b=plot_label(name_b, 20),
                f1_b="%{customdata[1]:.3f}",
                n="%{customdata[2]}",
            )
            + "<extra></extra>",
        )
    )
    fig.update_layout(xaxis={"title": tr("Change in the both-together score (F1)"), "tickformat": "+.0%", "zeroline": True},
                      yaxis={"type": "category"})  # fmt: skip
    return _tidy(fig, height=max(180, 26 * len(rows) + 80), title=tr("How each {word} changed: {b} against {a}", word=word, b=plot_label(name_b, 24), a=plot_label(name_a, 24)))  # fmt: skip


def confusion_difference(labels: Sequence[str], matrix: np.ndarray, name_a: str, name_b: str) -> go.Figure:
    """B's confusion matrix minus A's: on the diagonal more is better, off it fewer is better."""
    names = [plot_label(x, 24) for x in labels]
    n = len(labels)
    good = np.array(
        [[matrix[i][j] if i == j else -matrix[i][j] for j in range(n)] for i in range(n)], dtype=float
    )
    limit = max(1.0, float(np.abs(good).max()))
    fig = go.Figure(
        go.Heatmap(
            z=good,
            x=names,
            y=names,
            text=[[f"{int(v):+d}" if v else "0" for v in row] for row in matrix],
            texttemplate="%{text}",
            colorscale=[[0, "#ef4444"], [0.5, "#f8fafc"], [1, "#10b981"]],
            zmin=-limit,
            zmax=limit,
            showscale=False,
            hovertemplate=tr(
                "true: {gold}<br>predicted: {predicted}<br>change: {change}",
                gold="%{y}",
                predicted="%{x}",
                change="%{text}",
            )
            + "<extra></extra>",
            xgap=2,
            ygap=2,
        )
    )
    fig.update_layout(xaxis={"title": tr("predicted"), "side": "top", "type": "category"},
                      yaxis={"title": tr("true"), "autorange": "reversed", "type": "category"})  # fmt: skip
    return _tidy(fig, min(max(300, 60 * n + 140), 800))


def curves_overlay(curves: Sequence[tuple[str, pd.DataFrame]], key: str, title: str) -> go.Figure | None:
    """Each run's validation `key` per epoch, one line per run."""
    fig = go.Figure()
    for i, (name, frame) in enumerate(curves):
        if frame.empty or key not in frame.columns:
            continue
        fig.add_trace(
            go.Scatter(
                x=frame["epoch"],
                y=frame[key],
                mode="lines+markers",
                name=plot_label(name, 30),
                line={"color": PALETTE[i % len(PALETTE)]},
            )  # fmt: skip
        )
    if not fig.data:
        return None
    fig.update_layout(xaxis_title=tr("epoch"), yaxis={"title": title, "tickformat": ".0%"}, showlegend=True)
    return _tidy(fig, 300, tr("Validation {score} per epoch", score=title))
