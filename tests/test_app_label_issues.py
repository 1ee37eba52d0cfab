"""Evaluate's likely label issues in the app: a text run speaks of texts (no Word column), an entity run of
words; cleanlab's label quality (a probability in [0, 1]) is said as a chance in plain words."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
from app_kit import open_app
from helpers import conll_file
from streamlit.testing.v1 import AppTest

from insight_ui import state
from trainer.inspect.label_issues import LabelIssue, _rows
from trainer.runs import RunFolder, load_run


def plant(run_dir: Path, issues: list[tuple[int, int | None, float]], rows: int) -> None:
    """Issues written as the label-issues job writes them (word and word_text columns, empty for texts)."""
    run = load_run(run_dir)
    train = run.split("train").rename(columns={"tokens": "text", "tags": "label"})
    frame = train.assign(split="train", index=range(len(train)), row=train.get("row", -1))
    found = [(i, LabelIssue(i, str(frame.iloc[i]["label"]).split()[word or 0], run.labels[0], score, 0.9, score,
                            word)) for i, word, score in issues]  # fmt: skip
    RunFolder(run_dir).write_issues(_rows(frame, found), {"rows": rows, "folds": 5})


def evaluate(runs_dir: Path, run_dir: Path, monkeypatch) -> AppTest:
    at = open_app(runs_dir, monkeypatch)
    at.session_state[state.CURRENT_RUN] = str(run_dir)
    at.switch_page("insight_ui/pages/evaluate.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def issues_table(at: AppTest) -> pd.DataFrame:
    tables = [e.value for e in at.data_editor if "action" in e.value.columns]
    assert len(tables) == 1, "one table of label issues"
    return tables[0]


def test_a_text_run_lists_texts_and_says_how_likely_each_label_is(tiny_text_run, tmp_path, monkeypatch):
    runs_dir = tmp_path / "runs"
    run_dir = Path(shutil.copytree(tiny_text_run, runs_dir / tiny_text_run.name))
    plant(run_dir, [(0, None, 0.0001), (1, None, 0.37)], rows=681)
    at = evaluate(runs_dir, run_dir, monkeypatch)
    captions = [str(c.value) for c in at.caption]
    assert any(c.startswith("2 texts of 681 (every split)") for c in captions), captions
    assert not any("words of" in c for c in captions)
    table = issues_table(at)
    assert "word_text" not in table.columns and "word" not in table.columns, "no empty Word column"
    assert table["chance"].tolist() == ["under 1%", "37%"], "a probability said as a chance, not 0.01%"
    assert "score" not in table.columns


def test_an_entity_run_still_lists_words(tiny_model_dir, tmp_path, monkeypatch):
    from trainer.config import TrainConfig
    from trainer.prepare import prepare
    from trainer.runs import create_run
    from trainer.train.fit import fit

    runs_dir = tmp_path / "runs"
    data = prepare(conll_file(tmp_path / "n.conll", n=30))
    run_dir = create_run(runs_dir, "ner")
    config = TrainConfig(model=str(tiny_model_dir), task=data.task, epochs=1, batch_size=16, max_steps=2)
    RunFolder(run_dir).write_inputs(config.to_dict(), data)
    fit(config, data, run_dir)
    plant(run_dir, [(0, 1, 0.02)], rows=30)
    at = evaluate(runs_dir, run_dir, monkeypatch)
    assert any(str(c.value).startswith("1 words of 30 sentences") for c in at.caption)
    table = issues_table(at)
    word = str(load_run(run_dir).split("train").iloc[0]["tokens"]).split()[1]
    assert table["word_text"].tolist() == [word] and table["chance"].tolist() == ["2%"]
