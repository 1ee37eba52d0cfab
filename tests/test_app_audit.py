"""The app's downloads on Apply and Monitors are audited (who downloaded what), and a scoring or a monitor
started past its quota is refused with one sentence (AppTest, local accounts, a fake run and scoring)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from app_kit import open_app
from helpers import LABELS, fake_run
from streamlit.testing.v1 import AppTest

from insight_ui import state
from trainer.access import audit, owners, users
from trainer.files import locks
from trainer.runs import RunFolder
from trainer.runs.scoring import Scoring, Spec, scoring_name

ROOT = Path(__file__).resolve().parent.parent
GOLD = LABELS * 10


@pytest.fixture
def scored(tmp_path, monkeypatch):
    """ana's finished run with one finished scoring of hers (three rows, one kept for labelling)."""
    runs_dir = tmp_path / "runs"
    users.add(runs_dir, "ana", "ana-password")
    run = fake_run(runs_dir, "ana's run", GOLD, GOLD)
    owners.set_owner(run, "ana")
    np.savez(RunFolder(run).trust_file, confidence=0.6, distance=0.5, expected=0.05, centres=np.ones((1, 4)),
             validation_confidence=np.full(10, 0.8))  # fmt: skip
    source = tmp_path / "news.csv"
    texts = ["markets rise", "markets fall", "nothing happens"]
    pd.DataFrame({"text": texts}).to_csv(source, index=False)
    spec = Spec(str(source), "text", owner="ana")
    scoring = Scoring(run, scoring_name(source, asdict(spec)))
    scoring.write_spec(spec)
    rows = [{"row": i, "text": t, "predicted": LABELS[i], "confidence": 0.5 + i / 10, "trusted": i > 0}
            for i, t in enumerate(texts)]  # fmt: skip
    scoring.path.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(scoring.scored_file, index=False)
    scoring.write_results({"rows": 3, "scored": 3, "untrusted": 1, "to_label": rows, "labels": LABELS,
                           "drift": {"verdict": "similar", "sentence": "Like the training data."}})  # fmt: skip
    monkeypatch.setenv("INSIGHT_RUNS_DIR", str(runs_dir))
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(users, "delay_for", lambda name: 0.0)
    return runs_dir, run, scoring


def signed_in(name: str) -> AppTest:
    at = open_app(timeout=60)
    at.text_input(key="sign_in_name").input(name)
    at.text_input(key="sign_in_password").input(f"{name}-password")
    next(b for b in at.button if b.label == "Sign in").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_page(at: AppTest, run: Path, page: str) -> AppTest:
    at.session_state[state.CURRENT_RUN] = str(run)
    at.switch_page(f"insight_ui/pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def downloads(runs_dir: Path) -> list[tuple]:
    return [(e["who"], e["target"]) for e in audit.events(runs_dir) if e["action"] == "download"]


def click_download(at: AppTest, key: str) -> AppTest:
    button = next(b for b in at.get("download_button") if b.key == key)
    button.click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_each_apply_download_records_who_downloaded_what(scored):
    runs_dir, run, scoring = scored
    at = open_page(signed_in("ana"), run, "apply")
    assert downloads(runs_dir) == [], "showing the buttons records nothing"
    where = f"{run.name}/{scoring.name}"
    expected = []
    for key, what in (("apply_label_dl", "to-label.csv"), ("apply_dl_scored", "scored.csv"),
                      ("apply_dl_report", "report.html")):  # fmt: skip
        click_download(at, key)
        expected.append(("ana", f"{where}/{what}"))
        assert downloads(runs_dir) == expected
    labelled = [e for e in audit.events(runs_dir) if e["target"].endswith("to-label.csv")]
    assert labelled[0]["rows"] == 3 and labelled[0]["which"] == "untrusted"
    assert audit.verify(runs_dir).intact


def test_monitor_downloads_of_rows_to_label_and_the_export_are_recorded(scored):
    from trainer.monitor import monitor as monitors
    from trainer.monitor.scorers import reuse_scores

    runs_dir, run, scoring = scored
    frame = pd.read_csv(scoring.scored_file).assign(published=["2026-06-01", "2026-06-02", "2026-06-03"])
    batch = runs_dir.parent / "batch.csv"
    frame[["text", "published"]].to_csv(batch, index=False)
    settings = monitors.Settings("news", str(run), "text", "published", None, None, "week", "ana")
    monitors.create(runs_dir, settings).add(batch, reuse_scores(scoring.scored_file, "text", None))
    at = signed_in("ana")
    at.session_state[state.MONITOR_OPEN] = "news"
    at = open_page(at, run, "monitors")
    click_download(at, "monitor_label_dl")
    assert downloads(runs_dir) == [("ana", "monitor news/to-label.csv")]
    if not [b for b in at.get("download_button") if b.key == "monitor_export_dl"]:
        at.button(key="monitor_export").click().run()  # the export is prepared first
    click_download(at, "monitor_export_dl")
    assert downloads(runs_dir) == [("ana", "monitor news/to-label.csv"), ("ana", "monitor news/export.csv")]


def test_a_scoring_past_the_quota_is_refused_on_apply_and_nothing_is_started(scored, monkeypatch):
    runs_dir, run, scoring = scored
    running = Scoring(run, "other-scoring")
    running.write_spec(Spec("elsewhere.csv", "text", owner="ana"))
    RunFolder(run).write_computation(f"score-{running.name}", kind="score", params={"name": running.name},
                                     status="running", **locks.stamp())  # fmt: skip
    monkeypatch.setenv("INSIGHT_MAX_SCORINGS_PER_PERSON", "1")
    at = open_page(signed_in("ana"), run, "apply")
    at.button(key="apply_sample").click().run()
    before = {p.name for p in RunFolder(run).scores_dir.iterdir()}
    at.button(key="apply_score").click().run()
    assert not at.exception
    said = [e.value.replace("\\", "") for e in at.error]  # Markdown escapes the underscores
    assert any("You already have 1 scoring queued or running" in s and "INSIGHT_MAX_SCORINGS_PER_PERSON" in s
               for s in said), said  # fmt: skip
    assert {p.name for p in RunFolder(run).scores_dir.iterdir()} == before, "no scoring was written"


def test_a_monitor_past_the_quota_is_refused_on_the_monitors_page(scored, monkeypatch):
    from trainer.monitor import monitor as monitors

    runs_dir, run, _ = scored
    monitors.create(runs_dir, monitors.Settings("first", str(run), "text", "published", owner="ana"))
    monkeypatch.setenv("INSIGHT_MAX_MONITORS_PER_PERSON", "1")
    at = open_page(signed_in("ana"), run, "monitors")
    at.toggle(key="monitor_new_sample").set_value(True).run()
    at.text_input(key="monitor_new_name").set_value("second").run()
    at.button(key="monitor_create").click().run()
    assert not at.exception
    said = [e.value for e in at.error]
    assert any("You already have 1 monitor, the most one person may keep" in s for s in said), said
    assert monitors.names(runs_dir) == ["first"]
    assert not [e for e in audit.events(runs_dir) if e["action"] == "monitor create"]
