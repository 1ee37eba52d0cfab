"""Issue 30, the smaller items: split names and a drift verdict said in the reader's language, the samples
the default model reads offered first, no folder of the server on the Data page, both runs' columns of
Compare's disagreement table in sight, no button that is only an icon, an Export page that leads with what
a person can do, and a report whose settings are in words and whose data check is in it."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import numpy as np
import pytest
from app_kit import open_app
from helpers import LABELS, fake_run

from insight_ui import state
from trainer import i18n
from trainer.data.report import split_name
from trainer.evaluate.drift import describe, drift
from trainer.runs import RunFolder, load_run, write_json

ROOT = Path(__file__).resolve().parent.parent
HAN = re.compile(r"[\u4e00-\u9fff]")


def test_split_names_are_said_in_the_readers_language():
    assert [split_name(s) for s in ("train", "validation", "test")] == ["train", "validation", "test"]
    with i18n.speaking("zh"):
        assert [split_name(s) for s in ("train", "validation", "test")] == ["训练集", "验证集", "测试集"]
        assert split_name("holdout") == "holdout", "a name of its own stays as it is"


def test_a_drift_record_is_said_in_the_readers_language_even_without_its_evidence():
    validation = np.where(np.arange(68) % 10 == 0, 0.5, 0.99)
    record = drift(np.random.default_rng(0).uniform(0.5, 0.7, 500), validation, 0.4, 0.07).to_dict()
    assert record["sentence"].startswith("The new texts differ clearly"), "stored in the scoring's language"
    old = {k: v for k, v in record.items() if k != "evidence"}  # as a scoring before the evidence stored it
    with i18n.speaking("zh"):
        for said in (describe(record), describe(old)):
            assert HAN.search(said) and not re.search(r"[A-Za-z]{3,} [a-z]{3,}", said), said
        assert "40.0%" in describe(old) and "7.0%" in describe(old), "the old record's own figures"
    assert describe(old).startswith(
        "The new texts differ clearly from the training data"
    ) and "40.0%" in describe(old)


def _data_page(tmp_path, monkeypatch, lang: str = "en"):
    at = open_app(tmp_path / "runs", monkeypatch, lang=lang)
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_samples_the_default_model_reads_come_first_and_the_chinese_ones_say_what_they_need(
    tmp_path, monkeypatch
):
    at = _data_page(tmp_path, monkeypatch)
    samples = [b.key.removeprefix("sample_") for b in at.button if (b.key or "").startswith("sample_")]
    assert samples[:3] == ["product_sentiment.csv", "support_intents.csv", "news_entities.conll"], samples
    assert samples[3:] == ["chinese_reviews.csv", "chinese_entities.conll"], "Chinese last"
    captions = [str(c.value) for c in at.caption]
    assert any("need a model that reads Chinese" in c for c in captions), captions


def test_the_data_page_shows_no_folder_of_the_server(tmp_path, monkeypatch):
    monkeypatch.setenv("INSIGHT_MODELS", str(tmp_path / "models"))
    at = _data_page(tmp_path, monkeypatch)
    at.button(key="sample_product_sentiment.csv").click().run()
    shown = [str(c.value) for c in at.caption] + [str(m.value) for m in at.markdown]
    assert not [s for s in shown if str(tmp_path) in s or str(ROOT) in s or "sample_data/" in s], shown
    assert any("ask whoever runs Insight" in s for s in shown)
    hidden = [c.proto.help for c in at.caption if c.proto.help]
    assert any(str(tmp_path / "models") in h for h in hidden), "whoever runs Insight finds it one hover away"


def test_compares_disagreement_table_shows_both_runs_answers_before_the_text(tmp_path, monkeypatch):
    rng = np.random.default_rng(1)
    gold = rng.choice(LABELS, 120).tolist()
    a = [g if rng.random() < 0.6 else rng.choice(LABELS) for g in gold]
    b = [g if rng.random() < 0.9 else x for g, x in zip(gold, a, strict=True)]
    long = [f"a very long customer message number {i} " * 12 for i in range(120)]
    runs = tmp_path / "runs"
    first = fake_run(runs, "baseline", gold, a, texts=long)
    fake_run(runs, "tuned", gold, b, lr=2e-4, texts=long)
    at = open_app(runs, monkeypatch)
    at.session_state[state.CURRENT_RUN] = str(first)
    at.switch_page("insight_ui/pages/compare.py").run()
    assert not at.exception, [e.value for e in at.exception]
    (table,) = [d for d in at.dataframe if "predicted_b" in d.value.columns]
    order = list(table.proto.column_order)
    assert order[-1] == "text" and {"predicted_a", "confidence_a", "predicted_b", "confidence_b"} <= set(
        order
    )
    widths = {name: config.get("width") for name, config in json.loads(table.proto.columns).items()}
    assert all(isinstance(widths[c], int) for c in order[:-1]), widths  # the runs' columns keep their width
    assert widths["text"] == "large"


BUTTONS = ("button", "download_button", "form_submit_button", "link_button", "popover")


def icon_only_buttons() -> list[str]:
    """Buttons whose label is empty: an icon alone, which a screen reader reads as nothing."""
    found = []
    for path in [ROOT / "app.py", *sorted((ROOT / "insight_ui").rglob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in BUTTONS
            ):
                continue
            label = (
                node.args[0]
                if node.args
                else next((k.value for k in node.keywords if k.arg == "label"), None)
            )
            if label is None or (isinstance(label, ast.Constant) and not str(label.value).strip()):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_no_button_is_only_an_icon():
    assert icon_only_buttons() == []


def test_export_leads_with_what_a_person_can_do_and_keeps_the_code_for_developers(tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    run = fake_run(runs, "reviews", LABELS * 4, LABELS * 4)
    at = open_app(runs, monkeypatch)
    at.session_state[state.CURRENT_RUN] = str(run)
    at.switch_page("insight_ui/pages/export.py").run()
    assert not at.exception, [e.value for e in at.exception]
    subheaders = [s.value for s in at.main.subheader]
    assert subheaders[0] == "Share the results", subheaders
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels[:2] == ["Report as a web page (HTML)", "Report as text (Markdown)"], labels
    assert "Download predictions (.csv)" in labels
    assert "whoever runs your systems" in " ".join(str(c.value) for c in at.caption)
    (developers,) = [e for e in at.expander if "developers" in e.label]
    assert len(developers.code) == len(at.code) >= 3, "every code sample is in the developers' expander"
    assert "Serve it over HTTP" in [s.value for s in developers.subheader]


def test_the_report_says_its_settings_in_words_and_holds_its_data_check(tiny_text_run):
    from insight_ui.reports import run_report

    run = load_run(tiny_text_run)
    page, text = run_report.html_report(run), run_report.markdown_report(run)
    for shown in (page, text):
        assert "LoRA adapters" in shown and "no" in shown
        assert not re.search(r"\blora\b|max_steps|None|class_weights|early_stopping_patience", shown), shown
        assert "Stop after this many steps" not in shown, "a setting not set is left out"
        assert "Data check" in shown and "150 rows read, 150 used." in shown
        assert "No problems found in this data." in shown
        assert str(tiny_text_run.parent.parent) not in shown, "no folder of the server"
    assert "after 2 checks without improvement" in page
    with i18n.speaking("zh"):
        chinese = run_report.html_report(run)
    assert "LoRA 适配器" in chinese and "数据检查" in chinese and "训练集" in chinese


def test_a_report_lists_what_the_data_check_found(tiny_text_run, tmp_path):
    import shutil

    from insight_ui.reports import run_report

    copy = Path(shutil.copytree(tiny_text_run, tmp_path / tiny_text_run.name))
    folder = RunFolder(copy)
    report = json.loads(folder.report_file.read_text())
    write_json(folder.report_file, {**report, "warnings": ["12 texts appear twice."]})
    page = run_report.html_report(load_run(copy))
    assert "12 texts appear twice." in page and "No problems found" not in page


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_scored_rows_are_headed_in_the_readers_language(lang):
    import pandas as pd

    from insight_ui.components.scoring_views import scored_columns, scored_rows

    frame = pd.DataFrame({"text": ["fine"], "predicted": ["positive"], "confidence": ["0.91"], "trusted": ["false"],
                          "p_positive": ["0.91"]})  # fmt: skip
    with i18n.speaking(lang):
        config = scored_columns(frame)
    assert set(config) == {"predicted", "confidence", "trusted", "p_positive"}, (
        "the file's own columns keep theirs"
    )
    heads = [c["label"] for c in config.values()]
    assert all(HAN.search(h) for h in heads) if lang == "zh" else heads[0] == "Prediction"
    shown = scored_rows(frame)
    assert shown["trusted"].tolist() == [False] and shown["confidence"].tolist() == [0.91]
