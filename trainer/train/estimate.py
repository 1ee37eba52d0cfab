"""How long fine-tuning will take on this computer, before Start, from a speed measured here.

The speed is seconds of training per token read (evaluations and saves during training included where a
run measured it), so a set of longer texts takes longer. It comes from, in order:
1. the newest run of the same model on the same device here (its summary: `train_seconds` over the
   samples it trained on; a run still training: its last logged speed);
2. a calibration: a few forward and backward passes over a handful of the user's texts, in a background
   thread, kept per model and device for the life of the process.
Never a constant guess: without either there is no estimate.

Light to import (no torch, no transformers at module level): the Train page calls it.
"""

from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from trainer.config import TrainConfig
from trainer.i18n import tr
from trainer.runs import RunFolder, list_runs

SOURCE_RUN, SOURCE_CALIBRATION = "run", "calibration"
CALIBRATION_TEXTS, CALIBRATION_BATCH, CALIBRATION_STEPS = 16, 8, 2
EFFORT_CHOICES = ("quick", "best")
# A piece of text the tokenizer makes at least one token of: a run of CJK characters counts one a character.
_PIECE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[^\W\u3400-\u9fff\uf900-\ufaff]+|[^\w\s]")


@dataclass(frozen=True)
class Speed:
    """Seconds of training per token, and where that figure comes from."""

    seconds_per_token: float
    source: str  # SOURCE_RUN or SOURCE_CALIBRATION
    run_name: str | None = None

    def sentence(self) -> str:
        """Where the figure comes from, in words."""
        if self.source == SOURCE_RUN:
            return tr("Times measured on this computer from your last run of this model.")
        return tr("Times measured just now on this computer, with a few of your texts.")


def approx_tokens(item: Any) -> float:
    """About how many tokens the model reads for one input: its word pieces, plus [CLS] and [SEP]."""
    if isinstance(item, list | tuple):
        return float(len(item) + 2)
    return float(len(_PIECE.findall(str(item))) + 2)


def mean_tokens(inputs: list) -> float:
    """The mean of `approx_tokens` over some inputs (0 for none)."""
    return sum(approx_tokens(i) for i in inputs) / len(inputs) if inputs else 0.0


def model_key(name: str | None) -> str:
    """One spelling per model: 'default' for the bundled one, a folder by its full path."""
    from trainer.model.loading import is_default_model

    if is_default_model(name):
        return "default"
    path = Path(str(name)).expanduser()
    return str(path.resolve()) if path.exists() else str(name).strip()


# ---------------------------------------------------------------- speed measured by earlier runs

_run_speeds: dict[str, tuple[tuple, float | None]] = {}
_run_lock = threading.Lock()


def _stamp(folder: RunFolder) -> tuple:
    stamps = []
    for path in (folder.metrics_file, folder.history_file, folder.config_file, folder.resolved_file):
        try:
            stat = path.stat()
            stamps.append((stat.st_mtime_ns, stat.st_size))
        except OSError:
            stamps.append(None)
    return tuple(stamps)


def run_seconds_per_token(folder: RunFolder) -> float | None:
    """A run's measured seconds of training per token (None: it measured none)."""
    config = folder.config()
    per_step = int(config.get("batch_size") or 0) * int(config.get("gradient_accumulation_steps") or 1)
    summary = folder.metrics().get("summary") or {}
    seconds, steps = summary.get("train_seconds"), summary.get("steps")
    per_sample = None
    if seconds and steps and per_step:
        per_sample = float(seconds) / (int(steps) * per_step)
    else:
        speeds = [e.get("samples_per_second") for e in folder.history() if e.get("kind") == "log"]
        speeds = [s for s in speeds if isinstance(s, int | float) and s > 0]
        per_sample = 1.0 / speeds[-1] if speeds else None
    if per_sample is None:
        return None
    train = folder.split("train")
    if train is None or not len(train):
        return None
    if "tokens" in train.columns:
        inputs: list = [str(t).split() for t in train["tokens"]]
    else:
        inputs = [str(t) for t in train["text"]]
    tokens = mean_tokens(inputs)
    return per_sample / tokens if tokens > 0 else None


def _cached_run_speed(folder: RunFolder) -> float | None:
    stamp = _stamp(folder)
    with _run_lock:
        known = _run_speeds.get(str(folder.path))
    if known and known[0] == stamp:
        return known[1]
    try:
        value = run_seconds_per_token(folder)
    except (OSError, ValueError, KeyError, TypeError):  # a damaged run measured nothing
        value = None
    with _run_lock:
        _run_speeds[str(folder.path)] = (stamp, value)
    return value


def measured_speed(runs_dir: Path, model: str, device_label: str) -> Speed | None:
    """The speed of the newest run here of `model` on the device `device_label` names (None: no such run)."""
    key = model_key(model)
    for info in list_runs(runs_dir):
        if not info.model or model_key(info.model) != key:
            continue
        folder = RunFolder(info.path)
        resolved = folder.config().get("device")  # the device label fine-tuning resolved
        if device_label not in (resolved, info.device):
            continue
        value = _cached_run_speed(folder)
        if value:
            return Speed(value, SOURCE_RUN, info.name)
    return None


# ---------------------------------------------------------------- calibration: a few steps, just now


def calibrate(model: str, data: Any, device: str = "auto", pooling: str = "mean") -> Speed:
    """Time CALIBRATION_STEPS training steps (forward, backward, optimizer) on a handful of the training
    texts, after one untimed step (warm-up). Loads the model: seconds, not minutes."""
    import torch

    from trainer.model.loading import load_model, load_tokenizer, pick_device
    from trainer.tasks import get_task

    task = get_task(data.task)
    n = min(CALIBRATION_TEXTS, len(data.train))
    inputs, targets = task.inputs(data.train)[:n], list(data.train.labels)[:n]
    labels = list(data.labels)
    tokenizer = load_tokenizer(model)
    network = load_model(model, task, labels, pooling)
    chosen = pick_device(device)
    where = torch.device("cuda" if chosen.device == "cuda" else chosen.device)
    network.to(where).train()
    features = task.encode(
        tokenizer, inputs, 512, task.target_ids(targets, {label: i for i, label in enumerate(labels)})
    )
    collate = task.collator(tokenizer)
    batches = [collate(features[i : i + CALIBRATION_BATCH]) for i in range(0, n, CALIBRATION_BATCH)]
    optimizer = torch.optim.AdamW(network.parameters(), lr=1e-5)

    def step(batch: dict) -> None:
        out = network(**{k: v.to(where) for k, v in batch.items()})
        out.loss.backward()
        optimizer.step()
        optimizer.zero_grad()

    step(batches[0])  # warm-up: first-call allocations are not the speed
    timed = [batches[i % len(batches)] for i in range(1, CALIBRATION_STEPS + 1)]
    if chosen.device == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    for batch in timed:
        step(batch)
    if chosen.device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    tokens = sum(float(b["attention_mask"].sum()) for b in timed)
    return Speed(seconds / max(1.0, tokens), SOURCE_CALIBRATION)


class Calibration:
    """One calibration in a background thread; `speed` once done, `error` (a sentence) if it failed."""

    def __init__(self) -> None:
        self.speed: Speed | None = None
        self.error: str | None = None
        self.done = threading.Event()

    def run(self, model: str, data: Any, device: str, pooling: str) -> None:
        try:
            self.speed = calibrate(model, data, device, pooling)
        except Exception as exc:  # noqa: BLE001 - no estimate is all a failed calibration costs
            from trainer.errors import friendly_error

            self.error = friendly_error(exc)
        finally:
            self.done.set()


_calibrations: dict[tuple[str, str], Calibration] = {}
_calibration_lock = threading.Lock()


def calibration(model: str, data: Any, device: str = "auto", pooling: str = "mean") -> Calibration:
    """The calibration of `model` on `device`: started in a daemon thread on the first call, then kept."""
    key = (model_key(model), device)
    with _calibration_lock:
        found = _calibrations.get(key)
        if found is None:
            found = _calibrations[key] = Calibration()
            threading.Thread(
                target=found.run, args=(model, data, device, pooling), name="insight-calibration", daemon=True
            ).start()
    return found


def calibrating() -> bool:
    """Whether a calibration is measuring now."""
    with _calibration_lock:
        return any(not c.done.is_set() for c in _calibrations.values())


# ---------------------------------------------------------------- the two plans and their minutes


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
            return tr("Best model (longer)")
        return tr("Best model (longer, about {minutes} min)", minutes=self.minutes)


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
        tokens = mean_tokens(get_task(data.task).inputs(data.train))
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
    pending: bool = False  # a calibration is measuring the speed now
    error: str | None = None  # why the speed could not be measured
    accelerated: bool = False  # training runs on a GPU

    def sentence(self) -> str:
        """Where the minutes come from, or why there are none, in words."""
        if self.speed is not None:
            return self.speed.sentence()
        if self.pending:
            return tr("Measuring the speed of this computer with a few of your texts…")
        return tr(
            "No time estimate: the speed could not be measured here ({reason}).", reason=self.error or "?"
        )


def device_of(device: str = "auto") -> tuple[str, bool]:
    """The label of the device training will use, and whether it is a GPU (imports torch)."""
    from trainer.model.loading import pick_device

    chosen = pick_device(device)
    return chosen.label, chosen.device != "cpu"


def estimate(runs_dir: Path, config: TrainConfig, data: Any, calibrate_now: bool = True) -> Estimate:
    """The quick and best plans for `config` on `data`, timed at the speed measured here: by the newest run
    of this model on this device, else by a calibration (started in the background on the first call:
    `pending` until it ends; `calibrate_now=False` never starts one)."""
    label, accelerated = device_of(config.device)
    speed = measured_speed(runs_dir, config.model, label)
    pending, error = False, None
    if speed is None and calibrate_now:
        found = calibration(config.model, data, config.device, config.pooling)
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
