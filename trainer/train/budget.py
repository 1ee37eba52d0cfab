"""A wall-clock time budget for fine-tuning: a TrainerCallback that stops training when it is spent.

Imports transformers at module level: only `trainer.train.fit` imports this. The clock is injectable, so a
test stops a real fit at the budget without waiting for it. Under several processes (torchrun) the stop is
agreed by all ranks (`agreed`), so they stop at the same step.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from transformers import TrainerCallback

from trainer.train.estimate import budget_message
from trainer.train.progress import agreed

Clock = Callable[[], float]


class TimeBudget(TrainerCallback):
    """Stops training at the end of the first step that finds `seconds` of training spent."""

    def __init__(self, seconds: float, clock: Clock | None = None):
        self.seconds = float(seconds)
        self.clock = clock or time.monotonic
        self.started: float | None = None
        self.stopped = False  # True once the budget stopped the run

    def remaining(self) -> float | None:
        """Seconds of the budget left (None before training starts)."""
        if self.started is None:
            return None
        return max(0.0, self.seconds - (self.clock() - self.started))

    def on_train_begin(self, args, state, control, **kwargs):
        self.started = self.clock()

    def on_step_end(self, args, state, control, **kwargs):
        if self.started is None:
            self.started = self.clock()
        spent = self.clock() - self.started >= self.seconds
        if agreed(spent):
            self.stopped = True
            control.should_training_stop = True


def budget_fields(budget: Any, seconds: float | None) -> dict[str, Any]:
    """The summary's record of the budget: how long it was and whether it stopped the run."""
    return {
        "time_budget_seconds": seconds,
        "stopped_at_time_budget": bool(budget is not None and budget.stopped),
    }


def budget_note(budget: TimeBudget | None, trainer: Any, epochs: float) -> str:
    """What the end event says when the time budget stopped training ("" when it did not)."""
    if budget is None or not budget.stopped:
        return ""
    restored = bool(trainer.args.load_best_model_at_end and trainer.state.best_model_checkpoint)
    return budget_message(budget.seconds, float(trainer.state.epoch or 0), epochs, restored)
