"""A short shareable report of a run, as Markdown and as a standalone HTML page; the model as a zip."""

from __future__ import annotations

import html
import io
import time
import zipfile
from pathlib import Path

from insight_ui.reads import analysis
from insight_ui.safe import md_cell
from trainer.evaluate.uncertainty import interval_text, run_intervals
from trainer.runs import Run, RunFolder

CONFIG_FIELDS = (
    "model",
    "task",
    "epochs",
    "batch_size",
    "learning_rate",
    "pooling",
    "max_length",
    "lora",
    "class_weights",
    "early_stopping_patience",
    "seed",
    "max_steps",
)


def model_zip(run_path: str | Path) -> bytes:
    """`<run>/model` as a zip, built in memory (a few tens of MB for small models)."""
    folder = RunFolder(run_path).model_dir
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, Path("model") / path.relative_to(folder))
    return buffer.getvalue()


def _facts(run: Run) -> list[tuple[str, str]]:
    split, metrics = analysis.scores_of(run)
    summary = run.metrics.get("summary") or {}
    report = run.report or {}
    facts = [
        ("Run", run.info.name),
        ("Task", run.adapter.short),
        ("Backbone", str(run.config.get("model", ""))),
        (
            "Trained",
            time.strftime("%Y-%m-%d %H:%M", time.localtime(run.info.finished or run.info.created or 0)),
        ),
        ("Device", str(summary.get("device") or run.info.device or "")),
        ("Training time", f"{summary.get('train_seconds', 0):.0f} s, {summary.get('steps', 0)} steps"),
        (
            "Data",
            f"{report.get('rows_read', 0)} rows read, {report.get('rows_used', 0)} used; splits "
            + ", ".join(f"{k} {v}" for k, v in (report.get("split_sizes") or {}).items()),
        ),
    ]
    found = run_intervals(run) if split == "test" else {}
    for card in run.adapter.metric_cards:
        if metrics.get(card.key) is not None:
            interval = found.get(card.key)
            around = f" ({interval_text(interval, percent=False)}, bootstrap)" if interval else ""
            facts.append((f"{card.title} ({split})", f"{metrics[card.key]:.3f}{around}"))
    return facts


def _config_rows(run: Run) -> list[tuple[str, str]]:
    config = dict(run.config)
    for key in ("max_length", "epochs", "learning_rate"):  # left to Insight: say what it chose
        if config.get(f"resolved_{key}") is not None and config.get(key) is None:
            config[key] = f"auto ({config[f'resolved_{key}']:g})"
    if config.get("resolved_pooling"):
        config["pooling"] = config["resolved_pooling"]  # what the model got ("cls" for non-BERT backbones)
    elif not run.adapter.sentence_head:
        config.pop("pooling", None)  # entity runs label every token
    return [(k, str(config.get(k))) for k in CONFIG_FIELDS if k in config]


def markdown_report(run: Run) -> str:
    """The report as Markdown (user text escaped so it cannot turn into markup)."""
    _, metrics = analysis.scores_of(run)
    lines = [f"# Insight report: {md_cell(run.info.name)}", ""]
    lines += ["| | |", "|---|---|"] + [f"| {k} | {md_cell(v)} |" for k, v in _facts(run)] + [""]
    per_class = analysis.per_class_frame(metrics)
    if not per_class.empty:
        lines += [
            f"## Per {run.adapter.class_word.lower()}",
            "",
            "| class | precision | recall | F1 | examples |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {md_cell(r['class'])} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} | {int(r['support'])} |"
            for _, r in per_class.iterrows()
        ] + [""]
    lines += ["## Settings", "", "| setting | value |", "|---|---|"]
    lines += [f"| {k} | {md_cell(v)} |" for k, v in _config_rows(run)] + [""]
    report = run.report or {}
    notes = [("Error", x) for x in report.get("errors") or []] + [
        ("Warning", x) for x in report.get("warnings") or []
    ]
    notes += [("Note", x) for x in report.get("notes") or []]
    if notes:
        lines += ["## Data check", ""] + [f"- **{kind}:** {md_cell(text)}" for kind, text in notes] + [""]
    return "\n".join(lines)


def _table(rows: list[list[str]], head: list[str] | None = None) -> str:
    out = ["<table>"]
    if head:
        out.append("<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>")
    out += ["<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows]
    return "".join(out) + "</table>"


def html_report(run: Run) -> str:
    """A standalone HTML page (no scripts, every value escaped)."""
    _, metrics = analysis.scores_of(run)
    per_class = analysis.per_class_frame(metrics)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Insight report: {html.escape(run.info.name)}</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:860px;margin:2rem auto;padding:0 1rem;color:#1f2937}"
        "table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #e5e7eb;padding:.35rem .7rem;"
        "text-align:left}th{background:#f3f4f6}h1{color:#4f46e5}li{margin:.3rem 0}</style></head><body>",
        f"<h1>Insight report: {html.escape(run.info.name)}</h1>",
        _table([[k, v] for k, v in _facts(run)]),
    ]
    if not per_class.empty:
        parts.append(f"<h2>Per {html.escape(run.adapter.class_word.lower())}</h2>")
        rows = [
            [r["class"], f"{r['precision']:.3f}", f"{r['recall']:.3f}", f"{r['f1']:.3f}", int(r["support"])]
            for _, r in per_class.iterrows()
        ]
        parts.append(_table(rows, ["class", "precision", "recall", "F1", "examples"]))
    parts += ["<h2>Settings</h2>", _table([[k, v] for k, v in _config_rows(run)], ["setting", "value"])]
    report = run.report or {}
    items = [("Error", x) for x in report.get("errors") or []] + [
        ("Warning", x) for x in report.get("warnings") or []
    ]
    items += [("Note", x) for x in report.get("notes") or []]
    if items:
        parts.append("<h2>Data check</h2><ul>")
        parts += [f"<li><b>{kind}:</b> {html.escape(text)}</li>" for kind, text in items]
        parts.append("</ul>")
    parts.append("<p><small>Made with Insight.</small></p></body></html>")
    return "".join(parts)
