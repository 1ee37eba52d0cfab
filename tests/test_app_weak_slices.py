"""Evaluate's "Where it does worse" (issue 31): a group of texts the model trips on is said in words with its
range and the false-discovery rate; a run without one says so; the figures wait in the specialists' expander."""

from __future__ import annotations

from app_kit import open_app
from helpers import LABELS, fake_run

from insight_ui import state

FILLER = ["box", "arrived", "today", "screen", "battery", "colour", "price", "delivery", "size", "manual"]


def evaluate(runs_dir, run_dir, monkeypatch):
    at = open_app(runs_dir, monkeypatch)
    at.session_state[state.CURRENT_RUN] = str(run_dir)
    at.switch_page("insight_ui/pages/evaluate.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_word_the_model_trips_on_is_said_in_words_with_its_range(tmp_path, monkeypatch):
    gold = [LABELS[i % 3] for i in range(120)]
    texts = [
        f"{'refund' if i % 4 == 0 else 'parcel'} {FILLER[i % 10]} {FILLER[(i + 3) % 10]}" for i in range(120)
    ]
    predicted = [LABELS[(LABELS.index(g) + 1) % 3] if i % 4 == 0 and i % 8 else g for i, g in enumerate(gold)]
    run_dir = fake_run(tmp_path / "runs", "weak", gold, predicted, texts=texts)
    at = evaluate(tmp_path / "runs", run_dir, monkeypatch)
    assert "Where it does worse" in [h.value for h in at.subheader]
    lines = [str(m.value) for m in at.markdown]
    said = [m for m in lines if m.startswith("**Texts with “refund”**:")]
    assert len(said) == 1, lines
    assert "wrong on 15 of 30 (50%; likely between" in said[0] and "against 12% overall" in said[0]
    captions = " ".join(str(c.value) for c in at.caption)
    assert "at most 1 in 20 is expected to be chance" in captions
    assert "Fisher" not in " ".join(lines), "the test's name waits in the expander"


def test_a_run_without_a_weak_group_says_so(tmp_path, monkeypatch):
    gold = [LABELS[i % 3] for i in range(90)]
    predicted = [g if i % 10 else LABELS[(LABELS.index(g) + 1) % 3] for i, g in enumerate(gold)]
    run_dir = fake_run(tmp_path / "runs", "even", gold, predicted)
    at = evaluate(tmp_path / "runs", run_dir, monkeypatch)
    assert any(
        "No group of test examples does worse than the rest beyond chance" in str(s.value) for s in at.success
    )


def test_small_changes_are_tried_in_the_background_and_said_per_change(tiny_text_run, tmp_path, monkeypatch):
    import shutil
    import time
    from pathlib import Path

    runs_dir = tmp_path / "runs"
    run_dir = Path(shutil.copytree(tiny_text_run, runs_dir / tiny_text_run.name))
    at = evaluate(runs_dir, run_dir, monkeypatch)
    try:
        assert "Small changes that should not matter" in " ".join(str(m.value) for m in at.markdown)
        at.button(key="start_robustness").click().run()
        for _ in range(240):  # AppTest does not refresh by itself: poll until the job's lines are there
            said = [str(m.value) for m in at.markdown if str(m.value).startswith("**A typing slip")]
            if said:
                break
            time.sleep(0.5)
            at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert len(said) == 1 and "changes the answer on" in said[0] and "likely between" in said[0], said
        lines = [str(m.value) for m in at.markdown]
        assert any(m.startswith("**Numbers changed**: changes the answer on") for m in lines), lines
        captions = " ".join(str(c.value) for c in at.caption)
        assert "Not tried, since no test text can be changed that way: " in captions
        assert "Chinese punctuation written half-width" in captions, "the Chinese families on English texts"
        assert (run_dir / "robustness.json").exists(), "kept for the next visit"
    finally:
        state.job_manager().shutdown(cancel=True)
        state._job_manager.clear()
