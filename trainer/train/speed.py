"""This computer's training speed, measured here: seconds of training per token read.

It comes from, in order:
1. the newest run of the same model on the same device in the runs folder (its summary: `train_seconds`
   over the samples it trained on; a run still training: its last logged speed);
2. the speed kept for this machine on disk (`speed.json` in the user's cache folder: `INSIGHT_CACHE_DIR`,
   else `$XDG_CACHE_HOME/insight`, else `~/.cache/insight`), keyed by model, device, CPU model name and
   torch thread count, so a fresh runs folder or a new session on the same machine does not measure again;
3. a calibration: a few forward and backward passes over a handful of the user's texts, in one background
   thread per process at a time, written to that file when it ends.
Never a constant guess: without any of these there is no figure yet.

Light to import (no torch, no transformers at module level): the Train page calls it.
"""

from __future__ import annotations

import os
import platform
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainer.files.atomic import read_json, write_json
from trainer.i18n import tr
from trainer.runs import RunFolder, list_runs

SOURCE_RUN, SOURCE_CALIBRATION = "run", "calibration"
CALIBRATION_TEXTS, CALIBRATION_BATCH, CALIBRATION_STEPS = 16, 8, 2
SPEED_FILE = "speed.json"
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
        return tr("Times measured on this computer, with a few of your texts.")


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


def training_threads(per_machine: int = 1) -> int:
    """The torch threads fine-tuning uses: INSIGHT_THREADS, else one per core shared by the processes of
    this machine (more oversubscribes a small machine, measured, see bench/)."""
    return int(os.environ.get("INSIGHT_THREADS", "0")) or max(1, (os.cpu_count() or 1) // max(1, per_machine))


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


def _per_sample(folder: RunFolder) -> float | None:
    """A run's seconds per training sample: its summary, else its last logged speed (None: none yet)."""
    config = folder.config()
    per_step = int(config.get("batch_size") or 0) * int(config.get("gradient_accumulation_steps") or 1)
    summary = folder.metrics().get("summary") or {}
    seconds, steps = summary.get("train_seconds"), summary.get("steps")
    if seconds and steps and per_step:
        return float(seconds) / (int(steps) * per_step)
    speeds = [e.get("samples_per_second") for e in folder.history() if e.get("kind") == "log"]
    speeds = [s for s in speeds if isinstance(s, int | float) and s > 0]
    return 1.0 / speeds[-1] if speeds else None


def run_seconds_per_token(folder: RunFolder) -> float | None:
    """A run's measured seconds of training per token (None: it measured none)."""
    per_sample = _per_sample(folder)
    train = folder.split("train") if per_sample is not None else None
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


# ---------------------------------------------------------------- the speed kept for this machine


def cache_file() -> Path:
    """Where this user's machine speeds are kept."""
    folder = os.environ.get("INSIGHT_CACHE_DIR")
    if not folder:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        folder = str(Path(base) / "insight")
    return Path(folder).expanduser() / SPEED_FILE


def cpu_name() -> str:
    """The CPU's model name (Linux: /proc/cpuinfo), else what the platform says."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def machine_key(model: str, device_label: str) -> str:
    """The key of a speed on this machine: model, device, CPU model name, torch threads for training."""
    return " | ".join((model_key(model), device_label, cpu_name(), f"threads={training_threads()}"))


def kept_speed(model: str, device_label: str) -> Speed | None:
    """The speed kept on disk for this model on this machine (None: never measured here)."""
    found = (read_json(cache_file(), {}) or {}).get(machine_key(model, device_label))
    try:
        value = float(found["seconds_per_token"]) if isinstance(found, dict) else 0.0
    except (KeyError, TypeError, ValueError):
        return None
    if not value > 0:
        return None
    return Speed(value, SOURCE_RUN if found.get("source") == SOURCE_RUN else SOURCE_CALIBRATION)


def keep_speed(model: str, device_label: str, speed: Speed) -> None:
    """Keep `speed` for this model on this machine (atomically; a cache that cannot be written is skipped)."""
    key = machine_key(model, device_label)
    with _cache_lock:
        try:
            kept = read_json(cache_file(), {}) or {}
            if not isinstance(kept, dict):
                kept = {}
            old = kept.get(key) or {}
            if old.get("seconds_per_token") == speed.seconds_per_token and old.get("source") == speed.source:
                return
            kept[key] = {"seconds_per_token": speed.seconds_per_token, "source": speed.source,
                         "measured": round(time.time())}  # fmt: skip
            cache_file().parent.mkdir(parents=True, exist_ok=True)
            write_json(cache_file(), kept)
        except (OSError, ValueError):  # a read-only home: the speed is measured again next time
            return


_cache_lock = threading.Lock()


# ---------------------------------------------------------------- calibration: a few steps, just now


def calibrate(model: str, data: Any, device: str = "auto", pooling: str = "mean") -> Speed:
    """Time CALIBRATION_STEPS training steps (forward, backward, optimizer) on a handful of the training
    texts, after one untimed step (warm-up), with the threads training uses. Loads the model: seconds."""
    import torch

    from trainer.model.loading import load_model, load_tokenizer, pick_device
    from trainer.tasks import get_task

    task = get_task(data.task)
    n = min(CALIBRATION_TEXTS, len(data.train))
    labels = list(data.labels)
    tokenizer = load_tokenizer(model)
    network = load_model(model, task, labels, pooling)
    chosen = pick_device(device)
    where = torch.device("cuda" if chosen.device == "cuda" else chosen.device)
    network.to(where).train()
    targets = task.target_ids(list(data.train.labels)[:n], {label: i for i, label in enumerate(labels)})
    features = task.encode(tokenizer, task.inputs(data.train)[:n], 512, targets)
    collate = task.collator(tokenizer)
    batches = [collate(features[i : i + CALIBRATION_BATCH]) for i in range(0, n, CALIBRATION_BATCH)]
    optimizer = torch.optim.AdamW(network.parameters(), lr=1e-5)

    def step(batch: dict) -> None:
        network(**{k: v.to(where) for k, v in batch.items()}).loss.backward()
        optimizer.step()
        optimizer.zero_grad()

    threads = torch.get_num_threads()
    torch.set_num_threads(training_threads())
    try:
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
    finally:
        torch.set_num_threads(threads)
    tokens = sum(float(b["attention_mask"].sum()) for b in timed)
    return Speed(seconds / max(1.0, tokens), SOURCE_CALIBRATION)


class Calibration:
    """One calibration in a background thread; `speed` once done, `error` (a sentence) if it failed."""

    def __init__(self) -> None:
        self.speed: Speed | None = None
        self.error: str | None = None
        self.done = threading.Event()

    def run(self, model: str, data: Any, device: str, pooling: str, label: str) -> None:
        try:
            self.speed = calibrate(model, data, device, pooling)
            keep_speed(model, label, self.speed)
        except Exception as exc:  # noqa: BLE001 - no estimate is all a failed calibration costs
            from trainer.errors import friendly_error

            self.error = friendly_error(exc)
        finally:
            self.done.set()


_calibrations: dict[str, Calibration] = {}
_calibration_lock = threading.Lock()


def calibration(model: str, data: Any, device: str, pooling: str, label: str) -> Calibration:
    """The calibration of `model` on this machine's `device` (labelled `label`): started in a daemon thread
    on the first call, then kept for the process. One runs at a time: while another model is measured, the
    one asked for waits (not done, not started) and starts on a call after that one ends."""
    key = machine_key(model, label)
    with _calibration_lock:
        found = _calibrations.get(key)
        if found is not None:
            return found
        if any(not c.done.is_set() for c in _calibrations.values()):
            return Calibration()  # waiting for the one measuring now
        found = _calibrations[key] = Calibration()
        threading.Thread(target=found.run, args=(model, data, device, pooling, label),
                         name="insight-calibration", daemon=True).start()  # fmt: skip
    return found


def calibrating() -> bool:
    """Whether a calibration is measuring now."""
    with _calibration_lock:
        return any(not c.done.is_set() for c in _calibrations.values())
