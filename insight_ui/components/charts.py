"""Plotly figures: label distribution, training curves, confusion matrix, probabilities, top words.

Every piece of user text (labels, texts) goes through `safe.plot_label`/`plot_text`: Plotly reads a
subset of HTML in labels and hover boxes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go

from insight_ui.safe import plot_label
from trainer.i18n import tr

ACCENT = "#4f46e5"
PALETTE = [
    "#4f46e5",
    "#f59e0b",
    "#10b981",
    "#ef4444",
    "#06b6d4",
    "#a855f7",
    "#84cc16",
    "#ec4899",
    "#64748b",
    "#0ea5e9",
]


def _tidy(fig: go.Figure, height: int = 320, title: str | None = None) -> go.Figure:
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
        title={"text": title} if title else None,
        showlegend=fig.layout.showlegend,
    )
    return fig


def label_distribution(counts: dict[str, int], title: str | None = None) -> go.Figure:
    """Horizontal bars, largest class on top (title: "Examples per label" unless given)."""
    title = tr("Examples per label") if title is None else title
    items = sorted(counts.items(), key=lambda kv: kv[1])
    fig = go.Figure(
        go.Bar(
            x=[v for _, v in items],
            y=[plot_label(k) for k, _ in items],
            orientation="h",
            marker_color=ACCENT,
            text=[v for _, v in items],
            textposition="auto",
            hovertemplate="%{y}: %{x}<extra></extra>",
        )
    )
    fig.update_layout(xaxis_title=tr("examples"), yaxis={"type": "category"})
    return _tidy(fig, height=max(180, 26 * len(items) + 60), title=title)


def loss_curve(history: Sequence[dict]) -> go.Figure | None:
    """Training loss by step (None until the first logged loss)."""
    points = [(e["step"], e["loss"]) for e in history if e.get("kind") == "log" and e.get("loss") is not None]
    if not points:
        return None
    fig = go.Figure(
        go.Scatter(
            x=[s for s, _ in points], y=[v for _, v in points], mode="lines+markers", line_color=ACCENT
        )
    )
    fig.update_layout(xaxis_title=tr("step"), yaxis_title=tr("loss"))
    return _tidy(fig, 280, tr("Training loss (lower is better)"))


def eval_curves(history: Sequence[dict]) -> go.Figure | None:
    """Validation scores per evaluation (None until the first evaluation)."""
    evals = [e for e in history if e.get("kind") == "eval" and e.get("metrics")]
    if not evals:
        return None
    fig = go.Figure()
    for key, name in (("macro_f1", tr("macro-F1")), ("f1", tr("entity F1")), ("accuracy", tr("accuracy"))):
        ys = [e["metrics"].get(key) for e in evals]
        if any(y is not None for y in ys):
            fig.add_trace(
                go.Scatter(
                    x=[round(e.get("epoch", 0), 2) for e in evals], y=ys, mode="lines+markers", name=name
                )
            )
    fig.update_layout(
        xaxis_title=tr("epoch"), yaxis={"range": [0, 1.02], "title": tr("score")}, showlegend=True
    )
    return _tidy(fig, 280, tr("Validation scores (higher is better)"))


def confusion_matrix(
    labels: Sequence[str], matrix: Sequence[Sequence[int]], normalise: bool = False
) -> go.Figure:
    """Rows are the true labels, columns the predictions; each cell can be clicked."""
    names = [plot_label(x, 24) for x in labels]
    values = [list(map(float, row)) for row in matrix]
    if normalise:
        values = [[v / (sum(row) or 1) for v in row] for row in values]
    text = [[f"{v:.0%}" if normalise else f"{int(v)}" for v in row] for row in values]
    fig = go.Figure(
        go.Heatmap(
            z=values,
            x=names,
            y=names,
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            showscale=False,
            hoverinfo="skip",
            xgap=2,
            ygap=2,
        )
    )
    # Plotly selects points, not heatmap cells: an invisible square marker on each cell takes the click.
    cells = [(i, j) for i in range(len(names)) for j in range(len(names))]
    fig.add_trace(
        go.Scatter(
            x=[names[j] for _, j in cells],
            y=[names[i] for i, _ in cells],
            customdata=[[i, j] for i, j in cells],
            text=[text[i][j] for i, j in cells],
            mode="markers",
            marker={"symbol": "square", "size": max(12, min(56, 420 // max(1, len(names)))), "opacity": 0},
            hovertemplate=tr(
                "true: {gold}<br>predicted: {predicted}<br>{value}",
                gold="%{y}",
                predicted="%{x}",
                value="%{text}",
            )
            + "<extra>"
            + tr("click to list")
            + "</extra>",
            showlegend=False,
        )
    )
    fig.update_layout(
        xaxis={"title": tr("predicted label"), "side": "top", "type": "category"},
        yaxis={"title": tr("true label"), "autorange": "reversed", "type": "category"},
    )
    return _tidy(fig, min(max(320, 70 * len(labels) + 140), 900))


def probability_bars(
    labels: Sequence[str], probabilities: Sequence[float], highlight: str | None = None
) -> go.Figure:
    """Class probabilities as horizontal bars, the highlighted class in the accent colour."""
    order = sorted(range(len(labels)), key=lambda i: probabilities[i])
    fig = go.Figure(
        go.Bar(
            x=[float(probabilities[i]) for i in order],
            y=[plot_label(labels[i]) for i in order],
            orientation="h",
            marker_color=[ACCENT if labels[i] == highlight else "#c7c9d9" for i in order],
            text=[f"{probabilities[i]:.0%}" for i in order],
            textposition="auto",
            hovertemplate="%{y}: %{x:.3f}<extra></extra>",
        )
    )
    fig.update_layout(xaxis={"range": [0, 1], "title": tr("probability")}, yaxis={"type": "category"})
    return _tidy(fig, max(160, 30 * len(labels) + 50))


def top_words(
    words: Sequence[str],
    scores: Sequence[float],
    title: str,
    low: Sequence[float] | None = None,
    high: Sequence[float] | None = None,
) -> go.Figure:
    """The words that push most toward one class, with a 95% interval on each mean when given."""
    low = low if low is not None else scores
    high = high if high is not None else scores
    rows = sorted(zip(words, scores, low, high, strict=True), key=lambda p: p[1])
    fig = go.Figure(
        go.Bar(
            x=[s for _, s, _, _ in rows],
            y=[plot_label(w, 30) for w, _, _, _ in rows],
            orientation="h",
            marker_color=["#dc2626" if s >= 0 else "#2563eb" for _, s, _, _ in rows],
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [max(0.0, h - s) for _, s, _, h in rows],
                "arrayminus": [max(0.0, s - lo) for _, s, lo, _ in rows],
                "color": "#6b7280",
                "thickness": 1.2,
            },
            customdata=[[lo, h] for _, _, lo, h in rows],
            hovertemplate=tr(
                "{word}: {score} (95% interval {low} to {high})",
                word="%{y}",
                score="%{x:.3f}",
                low="%{customdata[0]:.3f}",
                high="%{customdata[1]:.3f}",
            )
            + "<extra></extra>",
        )
    )
    fig.update_layout(xaxis_title=tr("mean attribution"), yaxis={"type": "category"})
    return _tidy(fig, max(220, 22 * len(rows) + 60), title)


def dot_size(n: int) -> int:
    """Dots small enough that tens of thousands stay readable."""
    return 8 if n <= 2_000 else 5 if n <= 10_000 else 3


def scatter(frame: Any, color: str, title: str, continuous: bool) -> go.Figure:
    """A 2-D projection: one point per example, `frame` has x, y, hover, idx and the colour column.

    WebGL (`Scattergl`): hover, zoom and click stay fluid at 50,000 points, where SVG would not.
    """
    size = dot_size(len(frame))
    traces = [_shaded_dots(frame, color, size)] if continuous else _dots_by_value(frame, color, size)
    if "issue" in frame.columns and frame["issue"].any():
        traces.append(_issue_circles(frame[frame["issue"]], size))
    fig = go.Figure(traces)
    fig.update_layout(
        colorway=PALETTE,
        showlegend=True,
        xaxis={"visible": False},
        yaxis={"visible": False},
        dragmode="pan",
        legend={"orientation": "h", "y": -0.05},
    )
    return _tidy(fig, 460, title)


def _shaded_dots(frame: Any, color: str, size: int) -> go.Scattergl:
    """Every dot in one trace, shaded along a colour scale by the numeric column `color`."""
    return go.Scattergl(
        x=frame["x"],
        y=frame["y"],
        mode="markers",
        customdata=frame["idx"],
        hovertext=frame["hover"],
        hoverinfo="text",
        marker={
            "color": frame[color],
            "colorscale": "Viridis",
            "showscale": True,
            "size": size,
            "colorbar": {"title": {"text": tr("confidence") if color == "confidence" else color}},
        },
    )


def _dots_by_value(frame: Any, color: str, size: int) -> list[go.Scattergl]:
    """One trace (one legend entry and colour) per value of the column `color`, in sorted order."""
    return [
        go.Scattergl(
            x=part["x"],
            y=part["y"],
            mode="markers",
            name=plot_label(value, 30),
            customdata=part["idx"],
            hovertext=part["hover"],
            hoverinfo="text",
            marker={"size": size},
        )
        for value, part in frame.groupby(color, sort=True)
    ]


def _issue_circles(marked: Any, size: int) -> go.Scattergl:
    """Red circles around the dots that are likely label issues."""
    return go.Scattergl(
        x=marked["x"],
        y=marked["y"],
        mode="markers",
        name=tr("likely label issue"),
        customdata=marked["idx"],
        hovertext=marked["hover"],
        hoverinfo="text",
        marker={"size": size * 2, "symbol": "circle-open", "color": "#dc2626", "line": {"width": 2}},
    )
