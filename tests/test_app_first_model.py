"""The Train page's time estimate before Start, and the smaller first-afternoon fixes of issue 30 item 11
(the sidebar's run name, a new monitor's run), in Streamlit's AppTest."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest
from app_kit import open_app
from helpers import LABELS, fake_run, sentiment_csv
from timing_kit import measured_run

from insight_ui import state
from trainer.prepare import prepare
from trainer.train import speed as speeds
from trainer.train.estimate import device_of


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("INSIGHT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(speeds, "_calibrations", {})


def train_page(runs_dir: Path, monkeypatch, tmp_path: Path):
    at = open_app(runs_dir, monkeypatch)
    raw = sentiment_csv(tmp_path / "reviews.csv", n=60).read_bytes()
    at.session_state[state.INCOMING] = ("reviews.csv", raw)
    at.run()
    return at.switch_page("insight_ui/pages/train.py").run()


def captions(at) -> str:
    return " ".join(str(c.value) for c in at.caption)


def test_the_train_page_shows_the_time_estimate_and_both_choices_in_words_before_start(tmp_path, monkeypatch):
    """A run of the bundled model measured on this computer: the two choices say their minutes and where
    the figure comes from; quick is the default on a CPU."""
    runs_dir = tmp_path / "runs"
    label, accelerated = device_of("auto")
    measured_run(
        runs_dir, prepare(sentiment_csv(tmp_path / "m.csv", n=60)), label, train_seconds=90.0, steps=20
    )
    at = train_page(runs_dir, monkeypatch, tmp_path)
    assert not at.exception, [e.value for e in at.exception]
    choice = at.radio(key=state.FORM_KEYS["effort"])
    quick, best = choice.options
    assert re.fullmatch(r"Quick first model \(about \d+ min\)", quick), quick
    assert re.fullmatch(r"Best model \(no time limit, about \d+ min\)", best), best
    assert choice.value == ("best" if accelerated else "quick")
    assert "measured on this computer from your last run" in captions(at)
    assert not at.button(key="start_training").disabled


def test_until_the_speed_is_measured_the_page_says_so_and_never_waits(tmp_path, monkeypatch):
    gate = threading.Event()

    def slow(model, data, device="auto", pooling="mean"):
        assert gate.wait(30)
        return speeds.Speed(0.001, speeds.SOURCE_CALIBRATION)

    monkeypatch.setattr(speeds, "calibrate", slow)
    started = time.monotonic()
    at = train_page(tmp_path / "runs", monkeypatch, tmp_path)
    assert not at.exception, [e.value for e in at.exception]
    assert time.monotonic() - started < 25, "the page did not wait for the calibration"
    assert "The time estimate is being measured on this computer" in captions(at)
    choice = at.radio(key=state.FORM_KEYS["effort"])
    assert list(choice.options) == ["Quick first model", "Best model (no time limit)"]
    assert not at.button(key="start_training").disabled, "Start never waits for the estimate"
    gate.set()
    deadline = time.monotonic() + 20
    while speeds.calibrating() and time.monotonic() < deadline:
        time.sleep(0.05)
    at.run()
    options = list(at.radio(key=state.FORM_KEYS["effort"]).options)
    assert re.fullmatch(r"Quick first model \(about \d+ min\)", options[0]), options
    assert "Times measured on this computer, with a few of your texts." in captions(at)


def test_the_sidebar_names_the_current_run_by_its_name_with_the_folder_only_on_hover(tmp_path, monkeypatch):
    runs_dir = tmp_path / "runs"
    run = fake_run(runs_dir, "Reviews <b>first</b> **try**", LABELS * 4, LABELS * 4)
    at = open_app(runs_dir, monkeypatch, run=False)
    at.session_state[state.CURRENT_RUN] = str(run)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = [t for t in at.sidebar.text if t.value == "Reviews <b>first</b> **try**"]  # literally, not markup
    assert len(shown) == 1, [t.value for t in at.sidebar.text]
    assert run.name not in [t.value for t in at.sidebar.text], "the folder id is not the name shown"
    assert run.name in shown[0].help


def test_a_new_monitor_defaults_to_the_run_chosen_in_the_app_not_the_newest(tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    chosen = fake_run(runs, "the one I chose", LABELS * 4, LABELS * 4)
    time.sleep(1.1)  # run folders are named by the second they were made
    newest = fake_run(runs, "a newer one", LABELS * 4, LABELS * 4)
    at = open_app(runs, monkeypatch)
    at = at.switch_page("insight_ui/pages/monitors.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="monitor_new_run").value == str(newest), "with no run chosen, the newest"
    at = open_app(runs, monkeypatch, run=False)
    at.session_state[state.CURRENT_RUN] = str(chosen)
    at = at.run().switch_page("insight_ui/pages/monitors.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="monitor_new_run").value == str(chosen)
