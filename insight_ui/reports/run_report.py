"""A short shareable report of a run, as Markdown and as a standalone HTML page; the model as a zip."""

from __future__ import annotations

import datetime as dt
import html
import io
import zipfile
from pathlib import Path

from insight_ui.reads import analysis
from insight_ui.safe import md_cell
from trainer import i18n
from trainer.evaluate.uncertainty import interval_text, run_intervals
from trainer.i18n import N_, tr, trn
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

# Words from trainer.tasks and the splits, as whole phrases marked here and translated where shown.
SPLIT_NAMES = {"train": N_("train"), "validation": N_("validation"), "test": N_("test")}
TASK_NAMES = {"text classification": N_("text classification"), "named entities": N_("named entities")}
PER_CLASS = {"Class": N_("Per class"), "Entity type": N_("Per entity type")}
NOTE_KINDS = (N_("Error"), N_("Warning"), N_("Note"))  # a data check message's kind, shown as "{kind}:"


def _split(name: str) -> str:
    return tr(SPLIT_NAMES[name]) if name in SPLIT_NAMES else name


def _per_class_title(run: Run) -> str:
    word = run.adapter.class_word
    return tr(PER_CLASS[word]) if word in PER_CLASS else tr("Per {thing}", thing=word.lower())


def _html_lang() -> str:
    """The report's <html lang>: the language it is written in."""
    return "zh-Hans" if i18n.language() == "zh" else "en"


def model_zip(run_path: str | Path) -> bytes:
    """`<run>/model` as a zip, built in memory (a few tens of MB for small models); its regular files
    only: a symbolic link in the folder is left out, never followed (RunFolder.model_files)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, name in RunFolder(run_path).model_files():
            archive.write(path, Path("model") / name)
    return buffer.getvalue()


def _facts(run: Run) -> list[tuple[str, str]]:
    split, metrics = analysis.scores_of(run)
    summary = run.metrics.get("summary") or {}
    report = run.report or {}
    short = run.adapter.short
    facts = [
        (tr("Run"), run.info.name),
        (tr("Task"), tr(TASK_NAMES[short]) if short in TASK_NAMES else short),
        (tr("Backbone"), str(run.config.get("model", ""))),
        (
            tr("Trained"),
            i18n.date(dt.datetime.fromtimestamp(run.info.finished or run.info.created or 0), with_time=True),
        ),
        (tr("Device"), str(summary.get("device") or run.info.device or "")),
        (
            tr("Training time"),
            trn(
                "{seconds} s, {n} step",
                "{seconds} s, {n} steps",
                summary.get("steps", 0),
                seconds=format(summary.get("train_seconds", 0), ".0f"),
            ),
        ),
        (
            tr("Data"),
            trn(
                "{n} row read, {used} used; splits {splits}",
                "{n} rows read, {used} used; splits {splits}",
                report.get("rows_read", 0),
                used=report.get("rows_used", 0),
                splits=", ".join(f"{_split(k)} {v}" for k, v in (report.get("split_sizes") or {}).items()),
            ),
        ),
    ]
    found = run_intervals(run) if split == "test" else {}
    for card in run.adapter.metric_cards:
        if metrics.get(card.key) is not None:
            interval = found.get(card.key)
            value = f"{metrics[card.key]:.3f}"
            if interval:
                value = tr(
                    "{value} ({interval}, bootstrap)",
                    value=value,
                    interval=interval_text(interval, percent=False),
                )
            facts.append((tr("{metric} ({split})", metric=tr(card.title), split=_split(split)), value))
    return facts


def _config_rows(run: Run) -> list[tuple[str, str]]:
    config = dict(run.config)
    for key in ("max_length", "epochs", "learning_rate"):  # left to Insight: say what it chose
        if config.get(f"resolved_{key}") is not None and config.get(key) is None:
            config[key] = tr("auto ({value})", value=format(config[f"resolved_{key}"], "g"))
    if config.get("resolved_pooling"):
        config["pooling"] = config["resolved_pooling"]  # what the model got ("cls" for non-BERT backbones)
    elif not run.adapter.sentence_head:
        config.pop("pooling", None)  # entity runs label every token
    return [(k, str(config.get(k))) for k in CONFIG_FIELDS if k in config]


def markdown_report(run: Run) -> str:
    """The report as Markdown (user text escaped so it cannot turn into markup)."""
    _, metrics = analysis.scores_of(run)
    lines = ["# " + tr("Insight report: {name}", name=md_cell(run.info.name)), ""]
    lines += ["| | |", "|---|---|"] + [f"| {k} | {md_cell(v)} |" for k, v in _facts(run)] + [""]
    per_class = analysis.per_class_frame(metrics)
    if not per_class.empty:
        head = _per_class_head()
        lines += [
            f"## {_per_class_title(run)}",
            "",
            "| " + " | ".join(head) + " |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {md_cell(r['class'])} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} | {int(r['support'])} |"
            for _, r in per_class.iterrows()
        ] + [""]
    settings, setting, value = tr("Settings"), tr("setting"), tr("value")
    lines += [f"## {settings}", "", f"| {setting} | {value} |", "|---|---|"]
    lines += [f"| {k} | {md_cell(v)} |" for k, v in _config_rows(run)] + [""]
    notes = _notes(run)
    if notes:
        lines += ["## " + tr("Data check"), ""]
        lines += [f"- **{_kind_label(kind)}** {md_cell(text)}" for kind, text in notes] + [""]
    return "\n".join(lines)


def _per_class_head() -> list[str]:
    return [tr("class"), tr("precision"), tr("recall"), "F1", tr("examples")]


def _kind_label(kind: str) -> str:
    """ "Error:", "Warning:" or "Note:" in the current language."""
    return tr("{kind}:", kind=tr(kind))


def _notes(run: Run) -> list[tuple[str, str]]:
    """The data check's messages, each with its kind (one of NOTE_KINDS, translated where shown)."""
    report = run.report or {}
    error, warning, note = NOTE_KINDS
    notes = [(error, x) for x in report.get("errors") or []] + [
        (warning, x) for x in report.get("warnings") or []
    ]
    return notes + [(note, x) for x in report.get("notes") or []]


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
    title = html.escape(tr("Insight report: {name}", name=run.info.name))
    parts = [
        f"<!doctype html><html lang='{_html_lang()}'><head><meta charset='utf-8'>",
        f"<title>{title}</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:860px;margin:2rem auto;padding:0 1rem;color:#1f2937}"
        "table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #e5e7eb;padding:.35rem .7rem;"
        "text-align:left}th{background:#f3f4f6}h1{color:#4f46e5}li{margin:.3rem 0}</style></head><body>",
        f"<h1>{title}</h1>",
        _table([[k, v] for k, v in _facts(run)]),
    ]
    if not per_class.empty:
        parts.append(f"<h2>{html.escape(_per_class_title(run))}</h2>")
        rows = [
            [r["class"], f"{r['precision']:.3f}", f"{r['recall']:.3f}", f"{r['f1']:.3f}", int(r["support"])]
            for _, r in per_class.iterrows()
        ]
        parts.append(_table(rows, _per_class_head()))
    parts += [
        "<h2>" + html.escape(tr("Settings")) + "</h2>",
        _table([[k, v] for k, v in _config_rows(run)], [tr("setting"), tr("value")]),
    ]
    items = _notes(run)
    if items:
        parts.append("<h2>" + html.escape(tr("Data check")) + "</h2><ul>")
        parts += [
            f"<li><b>{html.escape(_kind_label(kind))}</b> {html.escape(text)}</li>" for kind, text in items
        ]
        parts.append("</ul>")
    parts.append("<p><small>" + html.escape(tr("Made with Insight.")) + "</small></p></body></html>")
    return "".join(parts)
