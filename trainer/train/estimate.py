"""How long fine-tuning will take on this computer, before Start, from the speed measured here
(`trainer.train.speed`): a quick first model against the best model (longer), each in minutes.

Light to import (no torch, no transformers at module level): the Train page calls it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from trainer.config import TrainConfig
from trainer.i18n import tr
from trainer.runs import RunFolder
from trainer.train import speed as speeds
from trainer.train.speed import Speed

EFFORT_CHOICES = ("quick", "best")


@dataclass(frozen=True)
class Plan:
    """One way to train: the effort, its epochs and steps, the time budget, and the seconds estimated."""

    effort: str
    epochs: float
    steps: int
    budget_seconds: float | None
    seconds: float | None  # None: no speed measured yet

    @property
    def minutes(self) -> int | None:
        """Whole minutes, at least 1 (None: no estimate)."""
        return None if self.seconds is None else max(1, math.ceil(self.seconds / 60 - 0.25))

    def label(self) -> str:
        """The choice in words, with its minutes when known."""
        if self.effort == "quick":
            if self.minutes is None:
                return tr("Quick first model")
            return tr("Quick first model (about {minutes} min)", minutes=self.minutes)
        if self.minutes is None:
            return tr("Best model (no time limit)")
        return tr("Best model (no time limit, about {minutes} min)", minutes=self.minutes)


def plan(config: TrainConfig, data: Any, speed: Speed | None, accelerated: bool = False) -> Plan:
    """What `config` will do on `data`, and how long it will take at `speed`."""
    from trainer.tasks import get_task

    n_train = len(data.train)
    per_step = config.batch_size * config.gradient_accumulation_steps
    epochs = config.resolved_epochs(n_train, accelerated)
    steps = config.max_steps or math.ceil(math.ceil(n_train / per_step) * epochs)
    budget = config.resolved_time_budget(accelerated)
    seconds = None
    if speed is not None:
        tokens = speeds.mean_tokens(get_task(data.task).inputs(data.train))
        seconds = min(n_train * epochs, steps * per_step) * tokens * speed.seconds_per_token
        seconds = min(seconds, budget) if budget else seconds
    return Plan(config.resolved_effort(accelerated), epochs, steps, budget, seconds)


def plans(config: TrainConfig, data: Any, speed: Speed | None, accelerated: bool = False) -> dict[str, Plan]:
    """The quick and the best plan for these settings (`EFFORT_CHOICES`), each with its estimate."""
    return {e: plan(replace(config, effort=e), data, speed, accelerated) for e in EFFORT_CHOICES}


def minutes_text(seconds: float) -> str:
    """A time budget in words: '3 min', '1.5 min'."""
    return tr("{minutes} min", minutes=format(round(seconds / 60, 1), "g"))


def budget_message(seconds: float, epochs_run: float, epochs: float, restored: bool) -> str:
    """What a run stopped by its time budget says, in words."""
    said = {
        "budget": minutes_text(seconds),
        "run": format(round(epochs_run, 1), "g"),
        "epochs": format(epochs, "g"),
    }
    if restored:
        return tr(
            "Training stopped at its time budget of {budget}, after {run} of {epochs} epochs; "
            "the best model so far was kept.",
            **said,
        )
    return tr("Training stopped at its time budget of {budget}, after {run} of {epochs} epochs.", **said)


@dataclass(frozen=True)
class Estimate:
    """The two plans with their minutes, and where the speed comes from (or why there is none yet)."""

    plans: dict[str, Plan]
    speed: Speed | None
    pending: bool = False  # the speed of this computer is being measured now
    error: str | None = None  # why the speed could not be measured
    accelerated: bool = False  # training runs on a GPU

    def sentence(self) -> str:
        """Where the minutes come from, or why there are none, in words."""
        if self.speed is not None:
            return self.speed.sentence()
        if self.pending:
            return tr("The time estimate is being measured on this computer with a few of your texts…")
        return tr(
            "No time estimate: the speed could not be measured here ({reason}).", reason=self.error or "?"
        )


def device_of(device: str = "auto") -> tuple[str, bool]:
    """The label of the device training will use, and whether it is a GPU (imports torch)."""
    from trainer.model.loading import pick_device

    chosen = pick_device(device)
    return chosen.label, chosen.device != "cpu"


def estimate(runs_dir: Path, config: TrainConfig, data: Any, calibrate_now: bool = True) -> Estimate:
    """The quick and best plans for `config` on `data`, timed at the speed measured here: the newest run of
    this model on this device (then kept for this machine), else the speed kept for this machine, else a
    calibration (started in the background, one at a time: `pending` until it ends; `calibrate_now=False`
    never starts one). Never waits for a calibration."""
    label, accelerated = device_of(config.device)
    speed = speeds.measured_speed(runs_dir, config.model, label)
    if speed is not None:
        speeds.keep_speed(config.model, label, speed)
    else:
        speed = speeds.kept_speed(config.model, label)
    pending, error = False, None
    if speed is None and calibrate_now:
        found = speeds.calibration(config.model, data, config.device, config.pooling, label)
        pending = not found.done.is_set()
        speed, error = (None, None) if pending else (found.speed, found.error)
    return Estimate(plans(config, data, speed, accelerated), speed, pending, error, accelerated)


def stopped_note(run_dir: Path) -> str | None:
    """The sentence of a finished run that its time budget stopped (None: it was not stopped)."""
    folder = RunFolder(run_dir)
    summary = folder.metrics().get("summary") or {}
    if not summary.get("stopped_at_time_budget"):
        return None
    return budget_message(
        float(summary.get("time_budget_seconds") or 0),
        float(summary.get("epochs_run") or 0),
        float(folder.config().get("resolved_epochs") or 0),
        bool(summary.get("best_checkpoint_restored")),
    )
