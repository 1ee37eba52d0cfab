"""Evaluate's action on a weak group (insight_ui.components.weak_slices.rows_action): its test rows go to a
file named after the group, made on the click (safe CSV: a formula-like text is neutralised), the click is
audited, and a confirmation says how many rows went where and what to do next."""

from __future__ import annotations

import io

import pandas as pd
from streamlit.runtime.media_file_manager import MediaFileManager
from test_app_weak_slices import evaluate
from test_reports_robustness import planted

from insight_ui.safe import md
from trainer.access import audit


def capture_deferred(monkeypatch) -> dict:
    """The files a download button makes on its click, by file name (their makers, called by the test)."""
    made: dict = {}
    original = MediaFileManager.add_deferred

    def add_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        made[file_name] = data_callable
        return original(self, data_callable, mimetype, coordinates, file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    return made


def test_a_weak_groups_rows_go_to_a_file_named_after_it_with_a_confirmation(tmp_path, monkeypatch):
    runs_dir = tmp_path / "runs"
    run_dir, texts, gold, predicted = planted(runs_dir)
    inside = [i for i, t in enumerate(texts) if "refund" in t.split()]
    made = capture_deferred(monkeypatch)
    at = evaluate(runs_dir, run_dir, monkeypatch)
    label = f"Download these {len(inside)} rows to check"
    buttons = [b for b in at.get("download_button") if b.proto.label == label]
    assert len(buttons) == 1, [b.proto.label for b in at.get("download_button")]
    name = f"{run_dir.name}-word-refund.csv"
    assert buttons[0].proto.deferred_file_id and name in made
    assert not any("went to the file" in str(s.value) for s in at.success), "nothing said before the click"

    buttons[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    said = [str(s.value) for s in at.success if "went to the file" in str(s.value)]
    assert len(said) == 1, [str(s.value) for s in at.success]
    assert said[0].startswith(f"{len(inside)} rows of “Texts with “refund”” went to the file {md(name)}")
    assert "Next: check their labels" in said[0] and "train again" in said[0]

    rows = pd.read_csv(io.BytesIO(made[name]()), dtype=str, keep_default_na=False)
    assert list(rows.columns) == ["text", "label", "model_answer", "confidence"]
    assert len(rows) == len(inside)
    assert rows["label"].tolist() == [gold[i] for i in inside]
    assert rows["model_answer"].tolist() == [predicted[i] for i in inside]
    assert 8 in inside and texts[8].startswith("=")
    assert rows["text"].tolist() == [("'" if i == 8 else "") + texts[i] for i in inside], (
        "a formula is neutralised"
    )

    events = [e for e in audit.events(runs_dir) if e["action"] == "download"]
    assert [(e["target"], e.get("rows")) for e in events] == [(f"{run_dir.name}/{name}", len(inside))]
