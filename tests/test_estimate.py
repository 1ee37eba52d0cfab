"""The time estimate before Start follows the training speed measured on this computer (constructed run
histories: no training, nothing timed)."""

from __future__ import annotations

import pytest
from helpers import sentiment_csv
from timing_kit import measured_run

from trainer.config import TrainConfig
from trainer.prepare import prepare
from trainer.runs import RunFolder, create_run
from trainer.train import estimate as timing


@pytest.fixture
def data(tmp_path):
    return prepare(sentiment_csv(tmp_path / "s.csv", n=90))


def test_the_estimate_follows_the_speed_measured_by_the_last_run_of_the_model_here(tmp_path, data):
    runs_dir = tmp_path / "runs"
    label, accelerated = timing.device_of("auto")
    measured_run(runs_dir, data, label, train_seconds=60.0, steps=10)
    tokens = timing.mean_tokens(list(data.train.texts))

    speed = timing.measured_speed(runs_dir, "default", label)
    assert speed is not None and speed.source == timing.SOURCE_RUN
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
    assert timing.measured_speed(runs_dir, "default", label) is None

    found = timing.estimate(runs_dir, TrainConfig(), data, calibrate_now=False)
    assert found.speed is None and all(p.seconds is None for p in found.plans.values())
    assert [p.label() for p in found.plans.values()] == ["Quick first model", "Best model (longer)"]


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
    speed = timing.measured_speed(runs_dir, "default", label)
    tokens = timing.mean_tokens(list(data.train.texts))
    assert speed.seconds_per_token == pytest.approx(1 / 8.0 / tokens)


def test_longer_texts_are_estimated_to_take_longer(tmp_path, data):
    assert timing.approx_tokens("one two three") == 5
    assert timing.approx_tokens(["one", "two"]) == 4
    assert timing.approx_tokens("今天很好") == 6, "a CJK character is a token"
    speed = timing.Speed(0.001, timing.SOURCE_CALIBRATION)
    long = prepare(sentiment_csv(tmp_path / "long.csv", n=90))
    long.train.texts[:] = [t + " and more words" * 10 for t in long.train.texts]
    short_plan = timing.plan(TrainConfig(effort="best"), data, speed)
    long_plan = timing.plan(TrainConfig(effort="best"), long, speed)
    assert long_plan.seconds > 2 * short_plan.seconds
    assert "just now" in speed.sentence()
