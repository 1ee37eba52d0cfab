"""A short shareable report of a run, as Markdown and as a standalone HTML page; the model as a zip."""

from __future__ import annotations

import datetime as dt
import html
import io
import zipfile
from pathlib import Path
from typing import Any

from insight_ui.reads import analysis
from insight_ui.reports import robustness_section
from insight_ui.safe import html_table, md_cell
from trainer import i18n
from trainer.evaluate.uncertainty import interval_text, run_intervals
from trainer.i18n import N_, tr, trn
from trainer.runs import Run, RunFolder
from trainer.tasks import get_task

# The settings a report lists, each named in words; a setting not set (None) is left out.
SETTING_NAMES = {
    "epochs": N_("Passes over the training data"),
    "effort": N_("Training length"),
    "time_budget_minutes": N_("Time limit"),
    "max_steps": N_("Stop after this many steps"),
    "batch_size": N_("Examples learned from at once"),
    "learning_rate": N_("Learning rate"),
    "pooling": N_("How a text is read"),
    "max_length": N_("Longest text read (word pieces)"),
    "lora": N_("LoRA adapters (train a small add-on, not the whole model)"),
    "class_weights": N_("Rare labels weighted more"),
    "early_stopping_patience": N_("Early stopping"),
    "seed": N_("Random seed"),
}
CONFIG_FIELDS = tuple(SETTING_NAMES)
POOLING_WORDS = {"mean": N_("the average of every word"), "cls": N_("the first word piece")}
EFFORT_WORDS = {
    "auto": N_("chosen by Insight"),
    "quick": N_("quick first model"),
    "best": N_("best model (longer)"),
}

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


def model_zip(run_path: str | Path, variant: str | None = None) -> bytes:
    """`<run>/model` as a zip, built in memory (a few tens of MB for small models); its regular files
    only: a symbolic link in the folder is left out, never followed (RunFolder.model_files). With `variant`,
    the accepted variant's model files too (variants/<name>/) and USE.md with the Python lines that load it."""
    from trainer.runs.variants import Variants

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, name in RunFolder(run_path).model_files():
            archive.write(path, Path("model") / name)
        if variant:
            variants = Variants(RunFolder(run_path))
            variants.check(variant)
            for path, name in variants.model_files(variant):
                archive.write(path, Path("variants") / variant / name)
            adapter = get_task(RunFolder(run_path).config().get("task"))
            archive.writestr("USE.md", f"```python\n{variant_usage(adapter, variant)}\n```\n")
    return buffer.getvalue()


def variant_usage(adapter: Any, variant: str) -> str:
    """The Python lines that load a variant from the unzipped folder and answer one text (`adapter`: the
    run's task adapter)."""
    task = adapter.name
    if variant == "smaller":
        return ("from transformers import pipeline\n\n"
                f'model = pipeline("{task}", model="variants/smaller")  # the unzipped folder\n'
                'print(model("Your text here"))')  # fmt: skip
    return ("import numpy as np\nimport onnxruntime as ort\nfrom transformers import AutoConfig, AutoTokenizer\n\n"
            'tokenizer = AutoTokenizer.from_pretrained("model")\nlabels = AutoConfig.from_pretrained("model").id2label\n'
            f'session = ort.InferenceSession("variants/{variant}/model.onnx")\n'
            'names = [i.name for i in session.get_inputs()]\n'
            'batch = tokenizer(["Your text here"], return_tensors="np")\n'
            'logits, _ = session.run(["logits", "hidden"], {n: batch[n].astype(np.int64) for n in names})\n'
            + ('print(labels[int(logits[0].argmax())])' if not adapter.inputs_are_words else
               'print([labels[int(i)] for i in logits[0].argmax(-1)])  # a tag per word piece'))  # fmt: skip


def _facts(run: Run) -> list[tuple[str, str]]:
    split, metrics = analysis.scores_of(run)
    summary = run.metrics.get("summary") or {}
    report = run.report or {}
    short = run.adapter.short
    facts = [
        (tr("Run"), run.info.name),
        (tr("Task"), tr(TASK_NAMES[short]) if short in TASK_NAMES else short),
        (tr("Starting model"), _model_name(run.config.get("model"))),
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
    """The settings in words, each named as people read it: only those set ("LoRA adapters: no")."""
    config = dict(run.config)
    if config.get("resolved_pooling"):
        config["pooling"] = config["resolved_pooling"]  # what the model got ("cls" for non-BERT backbones)
    elif not run.adapter.sentence_head:
        config.pop("pooling", None)  # entity runs label every token
    rows = []
    for key in CONFIG_FIELDS:
        value = _setting(key, config.get(key), config.get(f"resolved_{key}"))
        if value is not None:
            rows.append((tr(SETTING_NAMES[key]), value))
    return rows


def _model_name(value: object) -> str:
    """The model a run started from, by name: never a folder of the server ("tiny-bert", not /srv/...)."""
    if value in (None, "", "default"):
        return tr("the default (all-MiniLM-L6-v2)")
    path = Path(str(value))
    return path.name if path.is_absolute() else str(value)


def _setting(key: str, value: object, resolved: object) -> str | None:
    """One setting's value in words (None: not set, left out)."""
    if value is None:
        return None if resolved is None else tr("chosen by Insight: {value}", value=format(resolved, "g"))
    if isinstance(value, bool):
        return tr("yes") if value else tr("no")
    if key == "pooling":
        return tr(POOLING_WORDS[value]) if value in POOLING_WORDS else str(value)
    if key == "effort":
        return tr(EFFORT_WORDS[value]) if value in EFFORT_WORDS else str(value)
    if key == "early_stopping_patience":
        if not value:
            return tr("off")
        return trn("after {n} check without improvement", "after {n} checks without improvement", int(value))
    if key == "time_budget_minutes":
        return tr("none") if not value else tr("{n} minutes", n=format(value, "g"))
    return format(value, "g") if isinstance(value, float) else str(value)


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
    summary, notes = _check_summary(run), _notes(run)
    if summary or notes:
        lines += ["## " + tr("Data check"), ""] + [md_cell(line) + "  " for line in summary] + [""]
        lines += [f"- **{_kind_label(kind)}** {md_cell(text)}" for kind, text in notes] + [""]
    lines += robustness_section.markdown_lines(run)
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


def _check_summary(run: Run) -> list[str]:
    """What the data check found, in sentences: the rows, the classes and their counts, and whether it
    found a problem (its messages follow). Empty for a run that kept no data check."""
    report = run.report or {}
    if not report:
        return []
    lines = [
        trn(
            "{n} row read, {used} used.",
            "{n} rows read, {used} used.",
            report.get("rows_read", 0),
            used=i18n.number(report.get("rows_used", 0)),
        )  # fmt: skip
    ]
    counts = report.get("class_counts") or {}
    if counts:
        title = str(report.get("class_title") or "Labels")
        listed = ", ".join(f"{name} {i18n.number(n)}" for name, n in list(counts.items())[:20])
        lines.append(tr("{title}: {counts}", title=tr(title), counts=listed))
    if not _notes(run):
        lines.append(tr("No problems found in this data."))
    return lines


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
        html_table([[k, v] for k, v in _facts(run)]),
    ]
    if not per_class.empty:
        parts.append(f"<h2>{html.escape(_per_class_title(run))}</h2>")
        rows = [
            [r["class"], f"{r['precision']:.3f}", f"{r['recall']:.3f}", f"{r['f1']:.3f}", int(r["support"])]
            for _, r in per_class.iterrows()
        ]
        parts.append(html_table(rows, _per_class_head()))
    parts += [
        "<h2>" + html.escape(tr("Settings")) + "</h2>",
        html_table([[k, v] for k, v in _config_rows(run)], [tr("setting"), tr("value")]),
    ]
    summary, items = _check_summary(run), _notes(run)
    if summary or items:
        parts.append("<h2>" + html.escape(tr("Data check")) + "</h2>")
        parts += [f"<p>{html.escape(line)}</p>" for line in summary]
        parts.append("<ul>")
        parts += [
            f"<li><b>{html.escape(_kind_label(kind))}</b> {html.escape(text)}</li>" for kind, text in items
        ]
        parts.append("</ul>")
    parts += robustness_section.html_parts(run)
    parts.append("<p><small>" + html.escape(tr("Made with Insight.")) + "</small></p></body></html>")
    return "".join(parts)
