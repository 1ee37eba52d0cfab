"""Evaluate's "Add your own rule" (issue 31): word pairs tried in the background on the test texts, said with
their rate beside the built-in changes that stay; a rule that is not right is refused with what to write."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from app_kit import open_app

from insight_ui import state
from trainer.runs import RunFolder


def evaluate_with_changes(tiny_text_run, tmp_path, monkeypatch):
    """Evaluate of a copy of the tiny run whose built-in changes were tried (one family kept)."""
    runs_dir = tmp_path / "runs"
    run_dir = Path(shutil.copytree(tiny_text_run, runs_dir / tiny_text_run.name))
    kept = {"name": "case", "kind": "invariance", "language": "en", "changed": 30, "failed": 3, "fail_rate": 0.1,
            "ci_low": 0.03, "ci_high": 0.26, "mean_probability_change": -0.01, "examples": []}  # fmt: skip
    RunFolder(run_dir).write_robustness({"seed": 0, "split": "test", "tests": [kept]})
    at = open_app(runs_dir, monkeypatch)
    at.session_state[state.CURRENT_RUN] = str(run_dir)
    at.switch_page("insight_ui/pages/evaluate.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at, run_dir


def test_word_pairs_are_tried_and_said_beside_the_changes_kept(tiny_text_run, tmp_path, monkeypatch):
    at, run_dir = evaluate_with_changes(tiny_text_run, tmp_path, monkeypatch)
    try:
        at.text_input(key="own_rule_name").set_value("item words")
        at.text_area(key="own_rule_pairs").set_value("item = article\nnumber = count")
        at.button(key="own_rule_try").click().run()
        for _ in range(240):  # AppTest does not refresh by itself: poll until the rule's line is there
            lines = [str(m.value) for m in at.markdown]
            if any(m.startswith("**item words**") for m in lines):
                break
            time.sleep(0.5)
            at.run()
        assert not at.exception, [e.value for e in at.exception]
        said = [m for m in lines if m.startswith("**item words**")]
        assert len(said) == 1 and "changes the answer on" in said[0] and "likely between" in said[0], lines
        assert any(m.startswith("**Capital letters changed**") for m in lines), "the kept change stays"
        tests = {t["name"]: t for t in json.loads((run_dir / "robustness.json").read_text())["tests"]}
        assert set(tests) == {"case", "item words"} and tests["item words"]["rule"]["pairs"][0] == [
            "item",
            "article",
        ]
        assert tests["item words"]["changed"] > 0, "every test text holds 'item number'"
    finally:
        state.job_manager().shutdown(cancel=True)
        state._job_manager.clear()


def test_a_rule_that_is_not_right_says_what_to_write_and_starts_nothing(tiny_text_run, tmp_path, monkeypatch):
    at, run_dir = evaluate_with_changes(tiny_text_run, tmp_path, monkeypatch)
    try:
        at.text_area(key="own_rule_pairs").set_value("item article")
        at.button(key="own_rule_try").click().run()
        assert not at.exception, [e.value for e in at.exception]
        errors = [str(e.value) for e in at.error]
        assert any("each pair holds two words" in e for e in errors), errors
        assert not (RunFolder(run_dir).path / "computations").exists() or not any(
            "robustness" in p.name for p in (RunFolder(run_dir).path / "computations").iterdir()
        )
    finally:
        state.job_manager().shutdown(cancel=True)
        state._job_manager.clear()


def test_a_changed_answer_is_explained_beside_its_original(tiny_text_run, tmp_path, monkeypatch):
    runs_dir = tmp_path / "runs"
    run_dir = Path(shutil.copytree(tiny_text_run, runs_dir / tiny_text_run.name))
    text = "great love item number 7 excellent"
    example = {"original": text, "perturbed": "grfat love item number 7 excellent", "before": "positive",
               "after": "negative", "probability_change": -0.4}  # fmt: skip
    typos = {"name": "typos", "kind": "invariance", "language": "en", "changed": 30, "failed": 1, "fail_rate": 1 / 30,
             "ci_low": 0.01, "ci_high": 0.17, "mean_probability_change": -0.02, "examples": [example]}  # fmt: skip
    RunFolder(run_dir).write_robustness({"seed": 0, "split": "test", "tests": [typos]})
    at = open_app(runs_dir, monkeypatch)
    at.session_state[state.CURRENT_RUN] = str(run_dir)
    at.switch_page("insight_ui/pages/evaluate.py").run()
    at.button(key="explain_change").click().run()
    assert not at.exception, [e.value for e in at.exception]
    at.switch_page("insight_ui/pages/explain.py").run()  # AppTest follows a page switch on the next run
    assert not at.exception, [e.value for e in at.exception]
    headings = [str(m.value) for m in at.markdown]
    assert "#### Before the change" in headings and "#### After the change" in headings, headings
    captions = " ".join(str(c.value) for c in at.caption)
    assert "both explained toward" in captions and "the words whose colour moved" in captions
    assert len(at.metric) == 2, "each side says its own answer"


def test_train_again_with_the_changes_that_moved_answers(tiny_text_run, tmp_path, monkeypatch):
    at, run_dir = evaluate_with_changes(tiny_text_run, tmp_path, monkeypatch)  # case: 3 of 30 changed
    try:
        captions = " ".join(str(c.value) for c in at.caption)
        assert "adding to the training texts a changed copy of each for: Capital letters changed" in captions
        at.button(key="train_on_changes").click().run()
        assert not at.exception, [e.value for e in at.exception]
        job = at.session_state[state.CURRENT_JOB]
        assert job, "a run was queued and is the visitor's current job"
        started = [p for p in (tmp_path / "runs").iterdir() if p.name.endswith("-with-changes")]
        assert len(started) == 1
        config = json.loads((started[0] / "config.json").read_text())
        assert config["augment"] == ["case"], "the change that moved answers, and only it"
        original = json.loads((run_dir / "config.json").read_text())
        assert {k: config[k] for k in ("learning_rate", "epochs", "seed")} == {
            k: original[k] for k in ("learning_rate", "epochs", "seed")
        }, "the same settings"
        test_split = (started[0] / "data" / "test.jsonl").read_text()
        assert test_split == (run_dir / "data" / "test.jsonl").read_text(), "the same test split, for Compare"
    finally:
        state.job_manager().shutdown(cancel=True)
        state._job_manager.clear()
