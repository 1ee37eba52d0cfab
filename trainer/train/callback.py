"""The callback that turns the Trainer's loop into progress events and honours cancel and divergence.

Imports transformers at module level: only `trainer.train.fit` and `trainer.train.few_shot` import this.
"""

from __future__ import annotations

import math
import time
from typing import Any

from transformers import TrainerCallback

from trainer.i18n import tr
from trainer.train.budget import TimeBudget
from trainer.train.progress import Event, EventSink, StopCheck, agreed, divergence


class ProgressCallback(TrainerCallback):
    """Emits Events from the Trainer's loop and stops training within one step of a cancel."""

    def __init__(
        self,
        emit: EventSink,
        should_stop: StopCheck,
        samples_per_step: int,
        learning_rate: float | None = None,
        budget: TimeBudget | None = None,
    ):
        self.emit, self.should_stop, self.samples_per_step = emit, should_stop, samples_per_step
        self.budget = budget  # the time left caps the time-left estimate
        self.learning_rate = learning_rate  # as configured, for the advice when the loss diverges
        self.started = time.time()
        self.first_step = 0
        self.cancelled = False
        self.diverged: str | None = None
        self._first_loss: float | None = None
        self._last_lr: float | None = None

    def _speed(self, step: int, max_steps: int) -> tuple[float | None, float | None]:
        elapsed, done = time.time() - self.started, step - self.first_step  # a resumed run counts anew
        if done <= 0 or elapsed <= 0:
            return None, None
        per_step = elapsed / done
        eta, left = per_step * max(0, max_steps - step), self.budget.remaining() if self.budget else None
        return self.samples_per_step / per_step, eta if left is None else min(eta, left)

    def _check_stop(self, control: Any) -> None:
        if agreed(self.should_stop()):
            self.cancelled = True
        if agreed(self.diverged is not None) and self.diverged is None:
            self.diverged = tr("Training stopped: the loss diverged in another process.")
        if self.cancelled or self.diverged:
            control.should_training_stop = True

    def on_train_begin(self, args, state, control, **kwargs):
        self.started, self.first_step = time.time(), state.global_step
        self.emit(Event("start", state.global_step, state.max_steps, float(state.epoch or 0)))
        self._check_stop(control)

    def on_epoch_end(self, args, state, control, **kwargs):
        epoch = float(state.epoch or 0)
        if self.cancelled and abs(epoch - round(epoch)) > 1e-6:  # cut short: only whole epochs are saved
            control.should_save = False

    def on_step_end(self, args, state, control, **kwargs):
        speed, eta = self._speed(state.global_step, state.max_steps)
        self.emit(
            Event(
                "step",
                state.global_step,
                state.max_steps,
                float(state.epoch or 0),
                learning_rate=self._last_lr,
                samples_per_second=speed,
                eta_seconds=eta,
            )
        )
        self._check_stop(control)

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = dict(logs or {})
        logs.setdefault("loss", logs.get("embedding_loss"))  # setfit's name for the pairs' loss
        if logs["loss"] is None:
            return
        self._last_lr = logs.get("learning_rate", self._last_lr)
        loss = float(logs["loss"])
        self.diverged = self.diverged or divergence(
            loss, self._first_loss, self.learning_rate, state.global_step
        )
        if self._first_loss is None and math.isfinite(loss):
            self._first_loss = loss
        if self.diverged:
            control.should_training_stop = True
        speed, eta = self._speed(state.global_step, state.max_steps)
        self.emit(
            Event(
                "log",
                state.global_step,
                state.max_steps,
                float(state.epoch or 0),
                loss=loss,
                learning_rate=self._last_lr,
                samples_per_second=speed,
                eta_seconds=eta,
            )
        )

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        clean = {
            k.removeprefix("eval_"): float(v)
            for k, v in (metrics or {}).items()
            if isinstance(v, int | float) and not k.endswith(("runtime", "per_second"))
        }
        self.emit(Event("eval", state.global_step, state.max_steps, float(state.epoch or 0), metrics=clean))
        self._check_stop(control)
