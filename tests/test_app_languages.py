"""The app in 简体中文 and English: every page in Chinese shows none of our English, the switch and the
URL carry the language, and the Chinese data stops at the data check with what to do."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from app_kit import open_app
from helpers import sentiment_csv
from streamlit.testing.v1 import AppTest

from insight_ui import state
from tools import i18n_catalogue as messages
from trainer.config import TrainConfig
from trainer.jobs.manager import JobManager
from trainer.prepare import prepare

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["data", "train", "evaluate", "explain", "embeddings", "compare", "apply", "monitors", "export"]
# Element kinds whose text is not ours to translate: code and commands, charts' JSON, raw HTML
# (the heatmap's words are the user's), and Streamlit's own exception box.
NOT_OURS = {"code", "plotly_chart", "arrow_vega_lite_chart", "vega_lite_chart", "html", "exception", "json"}
WORDS = re.compile(r"[A-Za-z][a-z]+(?:[ '-][A-Za-z][a-z]+){2,}")  # three or more English words in a row


def english_of_ours() -> set[str]:
    """Runs of three or more English words in the string literals of app.py and insight_ui (not
    docstrings), and in every message id: what a Chinese page must not show."""
    found: set[str] = set()
    texts = list(messages.message_ids())
    for path in [ROOT / "app.py", *sorted((ROOT / "insight_ui").rglob("*.py"))]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        texts += [
            n.value
            for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs
        ]
    for text in texts:
        for piece in re.split(r"\{[^}]*\}|`[^`]*`|\([^)]*\)", text):
            found.update(m.group(0) for m in WORDS.finditer(piece))
    return found


def shown_texts(at: AppTest) -> list[tuple[str, str]]:
    """(element kind, text) of every string an element of the page carries (labels, bodies, help, options)."""
    out: list[tuple[str, str]] = []

    def strings(message, kind: str) -> None:
        for field, value in message.ListFields():
            many = value if not isinstance(value, str | bytes) and hasattr(value, "__len__") else [value]
            if field.type == field.TYPE_STRING:
                out.extend((kind, v) for v in many if v)
            elif field.type == field.TYPE_MESSAGE:
                for item in many:
                    strings(item, kind)

    def walk(node) -> None:
        kind = getattr(node, "type", "")
        proto = getattr(node, "proto", None)
        if proto is not None and kind not in NOT_OURS:
            strings(proto, kind)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return out


def untranslated(at: AppTest, ours: set[str]) -> list[str]:
    left = []
    for kind, text in shown_texts(at):
        hits = [phrase for phrase in ours if phrase in text]
        if hits:
            left.append(f"{kind}: {max(hits, key=len)!r} in {text[:120]!r}")
    return left


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    """A runs folder with one finished tiny text run, so the analysis pages have something to show."""
    runs = tmp_path_factory.mktemp("runs")
    manager = JobManager(runs)
    try:
        data = prepare(sentiment_csv(tmp_path_factory.mktemp("data") / "s.csv", n=60))
        config = TrainConfig(model=str(tiny_model_dir), epochs=1, batch_size=16, max_steps=3)
        job = manager.submit(config, data, "tiny text")
        snap = manager.wait(job, timeout=300)
        assert snap.status == "finished", snap.error
        return Path(snap.run_dir)
    finally:
        manager.shutdown()


@pytest.mark.parametrize("name", PAGES)
def test_every_page_in_chinese_shows_none_of_our_english(name, runs_dir, monkeypatch):
    at = open_app(runs_dir.parent, monkeypatch, lang="zh")
    at.session_state[state.CURRENT_RUN] = str(runs_dir)
    at.session_state[state.DATASET] = (
        "reviews.csv",
        (ROOT / "sample_data" / "product_sentiment.csv").read_bytes(),
    )
    at = at.switch_page(f"insight_ui/pages/{name}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert re.search(r"[\u4e00-\u9fff]", at.title[0].value), "the title is Chinese"
    ours = english_of_ours()
    assert len(ours) > 200  # the check knows our English
    assert untranslated(at, ours) == []


def test_the_check_finds_english_left_on_a_page(runs_dir, monkeypatch):
    at = open_app(runs_dir.parent, monkeypatch, lang="en")
    at = at.switch_page("insight_ui/pages/train.py").run()
    assert untranslated(at, english_of_ours()), "an English page is all English of ours"


def test_the_language_follows_the_url_and_the_switch_writes_it(runs_dir, monkeypatch):
    at = open_app(runs_dir.parent, monkeypatch)
    assert at.title[0].value == "Data" and at.query_params["lang"] == "en"
    at.sidebar.segmented_control(key="language_switch").set_value("zh").run()
    assert at.title[0].value == "数据" and at.query_params["lang"] == "zh"
    at = at.switch_page("insight_ui/pages/train.py").run()
    assert at.title[0].value == "训练", "the language stays when the page changes"
    at.sidebar.segmented_control(key="language_switch").set_value("en").run()
    assert at.title[0].value == "Train" and at.query_params["lang"] == "en"


def test_chinese_data_with_the_default_model_stops_on_the_train_page(runs_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("INSIGHT_MODELS", str(tmp_path / "models"))
    at = open_app(runs_dir.parent, monkeypatch, lang="zh")
    at.session_state[state.DATASET] = (
        "chinese_reviews.csv",
        (ROOT / "sample_data" / "chinese_reviews.csv").read_bytes(),
    )
    at = at.switch_page("insight_ui/pages/train.py").run()
    errors = [e.value for e in at.error]
    assert any("默认模型（all-MiniLM-L6-v2）读不懂" in e and "model.safetensors" in e for e in errors), errors
    (start,) = [b for b in at.button if b.label == "开始训练"]
    assert start.disabled, "nothing can be trained on text the model cannot read"


def planted_scoring(run_dir: Path, tmp_path: Path, untrusted: int = 300) -> None:
    """A finished scoring as the scoring job leaves it (the drift record's sentence stored in English), and
    the run's trust thresholds, so Apply shows its tiles, drift verdict and scored rows."""
    from dataclasses import asdict

    import numpy as np
    import pandas as pd

    from trainer.evaluate.drift import drift
    from trainer.runs import RunFolder, load_run
    from trainer.runs.scoring import Scoring, Spec, scoring_name

    labels = load_run(run_dir).labels
    validation = np.where(np.arange(68) % 10 == 0, 0.5, 0.99)
    np.savez(RunFolder(run_dir).trust_file, confidence=0.6, distance=0.5, expected=0.07, centres=np.ones((1, 4)),
             validation_confidence=validation)  # fmt: skip
    source = tmp_path / "new.csv"
    pd.DataFrame({"text": ["fine", "broken", "late"]}).to_csv(source, index=False)
    spec = Spec(str(source), "text")
    scoring = Scoring(run_dir, scoring_name(source, asdict(spec)))
    scoring.write_spec(spec)
    rows = [{"text": t, "predicted": labels[i % len(labels)], "confidence": 0.95, "trusted": "true"}
            for i, t in enumerate(["fine", "broken", "late"])]  # fmt: skip
    pd.DataFrame(rows).to_csv(scoring.scored_file, index=False)
    verdict = drift(np.random.default_rng(0).uniform(0.5, 0.7, 1783), validation, untrusted / 1783, 0.07)
    scoring.write_results({"rows": 1783, "scored": 1783, "untrusted": untrusted, "to_label": rows,
                           "labels": labels, "drift": verdict.to_dict()})  # fmt: skip


def test_apply_with_a_finished_scoring_says_its_drift_in_chinese(tmp_path, monkeypatch):
    from helpers import LABELS, fake_run

    runs = tmp_path / "runs"
    run = fake_run(runs, "reviews", LABELS * 4, LABELS * 4)
    planted_scoring(run, tmp_path)
    at = open_app(runs, monkeypatch, lang="zh")
    at.session_state[state.CURRENT_RUN] = str(run)
    at = at.switch_page("insight_ui/pages/apply.py").run()
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    said = [str(b.value) for kind in ("success", "info", "warning") for b in getattr(at, kind)]
    drift_box = [s for s in said if "不可信文本" in s]
    assert drift_box and "The new texts" not in drift_box[0], said  # stored in English, shown in Chinese
    assert next(m.value for m in at.metric if m.label == "漂移") == "明显漂移"
    (rows,) = [d for d in at.dataframe if "predicted" in d.value.columns]
    heads = {k: v.get("label") for k, v in json.loads(rows.proto.columns).items()}
    assert re.search(r"[\u4e00-\u9fff]", heads["predicted"]) and re.search(
        r"[\u4e00-\u9fff]", heads["trusted"]
    )
    assert untranslated(at, english_of_ours()) == []


def test_evaluate_with_label_issues_speaks_chinese(tiny_text_run, tmp_path, monkeypatch):
    import shutil

    from test_app_label_issues import plant

    runs = tmp_path / "runs"
    run_dir = Path(shutil.copytree(tiny_text_run, runs / tiny_text_run.name))
    plant(run_dir, [(0, None, 0.0001), (1, None, 0.37)], rows=681)
    at = open_app(runs, monkeypatch, lang="zh")
    at.session_state[state.CURRENT_RUN] = str(run_dir)
    at = at.switch_page("insight_ui/pages/evaluate.py").run()
    assert not at.exception, [e.value for e in at.exception]
    captions = [str(c.value) for c in at.caption]
    assert any("681" in c and re.search(r"[\u4e00-\u9fff]", c) for c in captions), captions
    assert untranslated(at, english_of_ours()) == []
