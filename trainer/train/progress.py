"""Progress during training, in plain values: events, the history file, a cancel, a loss that diverges.

Light to import (no transformers): the job machinery and its tests use it without loading a model.
`trainer.train.fit.ProgressCallback` turns the Trainer's loop into these events. Under several processes
(torchrun) the stop decision is agreed by all ranks (`agreed`), so they stop at the same step.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from trainer.errors import PlainError
from trainer.i18n import tr
from trainer.runs import RunFolder

EXPLODED = 10.0  # a logged loss this many times the first one: training has diverged
EventSink = Callable[["Event"], None]
StopCheck = Callable[[], bool]


@dataclass
class Event:
    """One progress event: kind is start, step, log, eval or end."""

    kind: str
    step: int = 0
    max_steps: int = 0
    epoch: float = 0.0
    loss: float | None = None
    learning_rate: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    samples_per_second: float | None = None
    eta_seconds: float | None = None
    time: float = field(default_factory=time.time)
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Cancelled(Exception):
    """Training stopped because the user asked."""


class Diverged(PlainError):
    """Training stopped because the loss became NaN, infinite, or exploded; the message says what to do."""


def divergence(loss: float, first: float | None, learning_rate: float | None, step: int) -> str | None:
    """Why this logged loss means training has diverged, or None when it has not."""
    if learning_rate:
        advice = tr(
            "The learning rate ({rate}) is probably too high: try a lower one, e.g. 2e-5, and train again.",
            rate=f"{learning_rate:g}",
        )
    else:
        advice = tr("The learning rate is probably too high: try a lower one, e.g. 2e-5, and train again.")
    if math.isnan(loss):
        return tr("Training stopped at step {step}: the loss became NaN. {advice}", step=step, advice=advice)
    if not math.isfinite(loss):
        return tr(
            "Training stopped at step {step}: the loss became infinite. {advice}", step=step, advice=advice
        )
    if first is not None and first > 0 and loss > EXPLODED * first:
        return tr(
            "Training stopped at step {step}: the loss exploded from {first} to {loss} "
            "(more than {times} times its starting value). {advice}",
            step=step,
            first=f"{first:.3g}",
            loss=f"{loss:.3g}",
            times=f"{EXPLODED:g}",
            advice=advice,
        )
    return None


def agreed(flag: bool) -> bool:
    """True when any process of a distributed run says True (one process: the flag itself)."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1):
        return flag
    import torch

    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else "cpu"
    value = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


class History:
    """Collects events, forwards them, and keeps <run>/history.json current (without per-step writes).

    `write`: False in the other processes of a distributed run (only the main one writes files).
    `resume`: keep the events of the attempt being resumed.
    """

    def __init__(self, folder: RunFolder, sink: EventSink | None, write: bool = True, resume: bool = False):
        self.folder, self.sink, self.write = folder, sink, write
        self.events: list[dict] = folder.history() if resume else []
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        if not self.write:
            return
        if self.sink:
            self.sink(event)
        if event.kind == "step":
            return
        with self._lock:
            self.events.append(event.to_dict())
            self.folder.write_history(self.events)
