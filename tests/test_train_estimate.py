"""The time estimate before Start follows the training speed measured on this computer (constructed run
histories and a stand-in calibration: no training, nothing timed), and that speed is kept per machine."""

from __future__ import annotations

import threading
import time

import pytest
from helpers import sentiment_csv
from timing_kit import measured_run

from trainer.config import TrainConfig
from trainer.prepare import prepare
from trainer.runs import RunFolder, create_run
from trainer.train import estimate as timing
from trainer.train import speed as speeds


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    """A cache folder of this test's own, and no calibration left from another test."""
    monkeypatch.setenv("INSIGHT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(speeds, "_calibrations", {})
    return tmp_path / "cache"


@pytest.fixture
def data(tmp_path):
    return prepare(sentiment_csv(tmp_path / "s.csv", n=90))


def calibrate_as(monkeypatch, seconds_per_token: float, gate: threading.Event | None = None) -> list[str]:
    """Replace the real calibration by one that measures `seconds_per_token` (after `gate`, if given);
    returns the list of models it was asked to measure."""
    asked: list[str] = []

    def fake(model, data, device="auto", pooling="mean"):
        asked.append(model)
        if gate is not None:
            assert gate.wait(20)
        return speeds.Speed(seconds_per_token, speeds.SOURCE_CALIBRATION)

    monkeypatch.setattr(speeds, "calibrate", fake)
    return asked


def settle() -> None:
    deadline = time.monotonic() + 20
    while speeds.calibrating() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not speeds.calibrating()


def test_the_estimate_follows_the_speed_measured_by_the_last_run_of_the_model_here(tmp_path, data):
    runs_dir = tmp_path / "runs"
    label, accelerated = timing.device_of("auto")
    measured_run(runs_dir, data, label, train_seconds=60.0, steps=10)
    tokens = speeds.mean_tokens(list(data.train.texts))

    speed = speeds.measured_speed(runs_dir, "default", label)
    assert speed is not None and speed.source == speeds.SOURCE_RUN
    assert speed.seconds_per_token == pytest.approx(60.0 / (10 * 16 * tokens))
    assert "from your last run" in speed.sentence()

    found = timing.estimate(runs_dir, TrainConfig(), data, calibrate_now=False)
    assert found.speed == speed and not found.pending
    assert set(found.plans) == {"quick", "best"}
    for effort, plan in found.plans.items():
        samples = min(len(data.train) * plan.epochs, plan.steps * 16)
        expected = samples * tokens * speed.seconds_per_token
        assert plan.seconds == pytest.approx(min(expected, plan.budget_seconds or expected)), effort
        assert f"about {plan.minutes} min" in plan.label()

    slower = measured_run(runs_dir, data, label, train_seconds=240.0, steps=10, name="slower, newer")
    again = timing.estimate(runs_dir, TrainConfig(effort="best"), data, calibrate_now=False)
    assert again.speed.seconds_per_token == pytest.approx(4 * speed.seconds_per_token), "the newest run"
    assert again.plans["best"].seconds == pytest.approx(4 * found.plans["best"].seconds)
    assert RunFolder(slower).metrics()["summary"]["train_seconds"] == 240.0


def test_runs_of_another_model_or_device_are_not_this_computers_speed(tmp_path, data):
    runs_dir = tmp_path / "runs"
    label, _ = timing.device_of("auto")
    measured_run(runs_dir, data, "another GPU", train_seconds=5.0, steps=10)
    measured_run(runs_dir, data, label, train_seconds=5.0, steps=10, model="bert-base-uncased")
    assert speeds.measured_speed(runs_dir, "default", label) is None

    found = timing.estimate(runs_dir, TrainConfig(), data, calibrate_now=False)
    assert found.speed is None and all(p.seconds is None for p in found.plans.values())
    assert [p.label() for p in found.plans.values()] == ["Quick first model", "Best model (no time limit)"]


def test_a_run_still_training_gives_its_last_logged_speed(tmp_path, data):
    runs_dir = tmp_path / "runs"
    label, _ = timing.device_of("auto")
    run_dir = create_run(runs_dir, "running")
    folder = RunFolder(run_dir)
    folder.write_inputs(TrainConfig().to_dict(), data)
    folder.write_resolved(device=label)
    folder.write_history([
        {"kind": "start", "step": 0},
        {"kind": "log", "step": 5, "samples_per_second": 4.0},
        {"kind": "log", "step": 10, "samples_per_second": 8.0},
    ])  # fmt: skip
    speed = speeds.measured_speed(runs_dir, "default", label)
    tokens = speeds.mean_tokens(list(data.train.texts))
    assert speed.seconds_per_token == pytest.approx(1 / 8.0 / tokens)


def test_longer_texts_are_estimated_to_take_longer(tmp_path, data):
    assert speeds.approx_tokens("one two three") == 5
    assert speeds.approx_tokens(["one", "two"]) == 4
    assert speeds.approx_tokens("今天很好") == 6, "a CJK character is a token"
    speed = speeds.Speed(0.001, speeds.SOURCE_CALIBRATION)
    long = prepare(sentiment_csv(tmp_path / "long.csv", n=90))
    long.train.texts[:] = [t + " and more words" * 10 for t in long.train.texts]
    short_plan = timing.plan(TrainConfig(effort="best"), data, speed)
    long_plan = timing.plan(TrainConfig(effort="best"), long, speed)
    assert long_plan.seconds > 2 * short_plan.seconds
    assert "with a few of your texts" in speed.sentence()


def test_the_speed_is_measured_once_per_machine_and_model_not_per_runs_folder_or_process(
    tmp_path, data, monkeypatch, own_cache
):
    """The first estimate starts a calibration and says the estimate is being measured (it never waits);
    its figure is kept on disk, so a fresh runs folder and a new process (no calibration in memory) read it
    without measuring again. Another thread count is another machine setting: measured anew."""
    gate = threading.Event()
    asked = calibrate_as(monkeypatch, 0.002, gate)
    first = timing.estimate(tmp_path / "runs-a", TrainConfig(), data)
    assert first.pending and first.speed is None
    assert "being measured" in first.sentence()
    assert all(p.minutes is None for p in first.plans.values())
    gate.set()
    settle()
    done = timing.estimate(tmp_path / "runs-a", TrainConfig(), data)
    assert not done.pending and done.speed.seconds_per_token == 0.002
    assert all(p.minutes is not None for p in done.plans.values())
    kept = speeds.read_json(own_cache / "speed.json", {})
    (key,) = kept
    assert key.startswith("default | ") and speeds.cpu_name() in key
    assert f"threads={speeds.training_threads()}" in key

    monkeypatch.setattr(speeds, "_calibrations", {})  # a new process of the app
    fresh = timing.estimate(tmp_path / "runs-b", TrainConfig(), data)
    assert not fresh.pending and fresh.speed.seconds_per_token == 0.002
    assert asked == ["default"], "measured once"

    monkeypatch.setenv("INSIGHT_THREADS", str(speeds.training_threads() + 3))
    assert timing.estimate(tmp_path / "runs-b", TrainConfig(), data, calibrate_now=False).speed is None


def test_a_run_measured_here_is_preferred_to_a_calibration_and_kept_for_this_machine(
    tmp_path, data, monkeypatch
):
    label, _ = timing.device_of("auto")
    speeds.keep_speed("default", label, speeds.Speed(0.5, speeds.SOURCE_CALIBRATION))
    calibrate_as(monkeypatch, 0.5)
    runs_dir = tmp_path / "runs"
    measured_run(runs_dir, data, label, train_seconds=60.0, steps=10)
    found = timing.estimate(runs_dir, TrainConfig(), data)
    assert found.speed.source == speeds.SOURCE_RUN and found.speed.seconds_per_token < 0.5
    elsewhere = timing.estimate(tmp_path / "fresh-runs", TrainConfig(), data)
    assert elsewhere.speed.seconds_per_token == pytest.approx(found.speed.seconds_per_token)
    assert "from your last run" in elsewhere.sentence()


def test_one_calibration_runs_at_a_time_in_a_process(tmp_path, data, monkeypatch):
    gate = threading.Event()
    asked = calibrate_as(monkeypatch, 0.01, gate)
    label, _ = timing.device_of("auto")
    first = speeds.calibration("default", data, "auto", "mean", label)
    waiting = speeds.calibration("another-model", data, "auto", "mean", label)
    assert not first.done.is_set() and not waiting.done.is_set()
    assert speeds.calibration("default", data, "auto", "mean", label) is first, "never started twice"
    gate.set()
    settle()
    assert asked == ["default"], "the second waited for the first"
    second = speeds.calibration("another-model", data, "auto", "mean", label)
    settle()
    assert second.speed.seconds_per_token == 0.01 and asked == ["default", "another-model"]
