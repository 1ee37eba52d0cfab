"""Fine-tuning with transformers.Trainer; a callback turns progress into events and honours cancel.

Imports transformers at module level: only jobs (lazily, in the worker) and the CLI import this.
"""

from __future__ import annotations

import math
import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from transformers import TrainerCallback

from trainer.config import TOKEN_TASK, TrainConfig
from trainer.runs import write_json

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


@dataclass
class FitResult:
    """What a finished fit returns (also written to metrics.json)."""

    metrics: dict
    cancelled: bool = False


class ProgressCallback(TrainerCallback):
    """Emits Events from the Trainer's loop and stops training within one step of a cancel."""

    def __init__(self, emit: EventSink, should_stop: StopCheck, samples_per_step: int):
        self.emit, self.should_stop, self.samples_per_step = emit, should_stop, samples_per_step
        self.started = time.time()
        self.cancelled = False
        self._last_lr: float | None = None

    def _speed(self, step: int, max_steps: int) -> tuple[float | None, float | None]:
        elapsed = time.time() - self.started
        if step <= 0 or elapsed <= 0:
            return None, None
        per_step = elapsed / step
        return self.samples_per_step / per_step, per_step * max(0, max_steps - step)

    def _check_stop(self, control: Any) -> None:
        if self.should_stop():
            self.cancelled = True
            control.should_training_stop = True

    def on_train_begin(self, args, state, control, **kwargs):
        self.started = time.time()
        self.emit(Event("start", 0, state.max_steps, 0.0))
        self._check_stop(control)

    def on_substep_end(self, args, state, control, **kwargs):
        self._check_stop(control)

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
        logs = logs or {}
        if "loss" not in logs:
            return
        self._last_lr = logs.get("learning_rate", self._last_lr)
        speed, eta = self._speed(state.global_step, state.max_steps)
        self.emit(
            Event(
                "log",
                state.global_step,
                state.max_steps,
                float(state.epoch or 0),
                loss=float(logs["loss"]),
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


class _History:
    """Collects events, forwards them, and keeps <run>/history.json current (without per-step writes)."""

    def __init__(self, run_dir: Path, sink: EventSink | None):
        self.path, self.sink = Path(run_dir) / "history.json", sink
        self.events: list[dict] = []
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        if self.sink:
            self.sink(event)
        if event.kind == "step":
            return
        with self._lock:
            self.events.append(event.to_dict())
            write_json(self.path, self.events)


def _set_threads() -> None:
    """One torch thread per core: more oversubscribes a small machine (measured, see bench/)."""
    import torch

    wanted = int(os.environ.get("INSIGHT_THREADS", "0")) or (os.cpu_count() or 1)
    if torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)


def _weighted_loss(weights: np.ndarray) -> Callable:
    """A `compute_loss_func` applying per-class weights to cross-entropy."""
    import torch

    w = torch.tensor(weights, dtype=torch.float32)

    def loss_fn(outputs: Any, labels: Any, num_items_in_batch: Any = None) -> Any:
        logits = outputs["logits"] if isinstance(outputs, dict) else outputs.logits
        weight = w.to(logits.device)
        return torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]).float(), labels.reshape(-1), weight=weight, ignore_index=-100
        )

    return loss_fn


def class_weights(labels: list, class_names: list[str]) -> np.ndarray:
    """Inverse-frequency weights normalised to mean 1 (sklearn's 'balanced')."""
    flat = [t for s in labels for t in s] if labels and isinstance(labels[0], list) else list(labels)
    counts = np.array([max(1, flat.count(c)) for c in class_names], dtype=np.float64)
    weights = len(flat) / (len(class_names) * counts)
    return weights / weights.mean()


def resolve_max_length(config: TrainConfig, data: Any, tokenizer: Any, model_config: Any) -> int:
    """The user's max length, else the one chosen from the data, capped by the model."""
    from trainer.models import model_max_length

    cap = model_max_length(tokenizer, model_config)
    if config.max_length:
        return min(config.max_length, cap)
    chosen = getattr(data.report, "max_length", None)
    if chosen:
        return min(int(chosen), cap)
    from trainer.data import choose_max_length

    if data.task == TOKEN_TASK:
        enc = tokenizer([list(t) for t in data.train.tokens], is_split_into_words=True)
    else:
        enc = tokenizer(list(data.train.texts))
    return choose_max_length([len(x) for x in enc["input_ids"]], cap)


def _encode(data: Any, tokenizer: Any, max_length: int, label2id: dict) -> tuple[list, list]:
    from trainer.encoding import encode_texts, encode_words

    def encode(split: Any) -> list:
        if data.task == TOKEN_TASK:
            tags = [[label2id[t] for t in s] for s in split.labels]
            return [w.features for w in encode_words(tokenizer, split.tokens, max_length, tags)]
        return encode_texts(tokenizer, split.texts, max_length, [label2id[x] for x in split.labels])

    return encode(data.train), encode(data.validation) if len(data.validation) else []


def _compute_metrics(task: str, labels: list[str]) -> Callable:
    from trainer.metrics import classification_scores, token_scores

    def compute(pred: Any) -> dict[str, float]:
        logits, gold = pred.predictions, pred.label_ids
        if isinstance(logits, tuple):
            logits = logits[0]
        predicted = logits.argmax(-1)
        if task == TOKEN_TASK:
            g_seqs, p_seqs = [], []
            for g_row, p_row in zip(gold, predicted, strict=True):
                keep = g_row != -100
                g_seqs.append([labels[i] for i in g_row[keep]])
                p_seqs.append([labels[i] for i in p_row[keep]])
            s = token_scores(g_seqs, p_seqs)
            return {"f1": s["f1"], "macro_f1": s["macro_f1"], "accuracy": s["token_accuracy"]}
        s = classification_scores([labels[i] for i in gold], [labels[i] for i in predicted], labels)
        return {"accuracy": s["accuracy"], "macro_f1": s["macro_f1"]}

    return compute


def training_arguments(config: TrainConfig, run_dir: Path, device: Any, has_eval: bool, n_train: int) -> Any:
    """TrainingArguments for `config`: linear warmup/decay AdamW, epoch evals, best model restored."""
    from transformers import TrainingArguments

    epochs = config.resolved_epochs(n_train)
    steps_per_epoch = max(1, math.ceil(n_train / (config.batch_size * config.gradient_accumulation_steps)))
    total = config.max_steps or math.ceil(steps_per_epoch * epochs)
    early = has_eval and config.early_stopping_patience > 0
    strategy = "epoch" if has_eval else "no"
    return TrainingArguments(
        output_dir=str(run_dir / "checkpoints"),
        num_train_epochs=epochs,
        max_steps=config.max_steps or -1,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.eval_batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        learning_rate=config.learning_rate,
        weight_decay=config.weight_decay,
        warmup_steps=config.warmup_ratio,  # a float is a ratio of total steps in transformers 5
        lr_scheduler_type="linear",
        eval_strategy=strategy,
        save_strategy="epoch" if early else "no",
        save_total_limit=1 if early else None,
        save_only_model=True,
        load_best_model_at_end=early,
        metric_for_best_model="f1" if config.task == TOKEN_TASK else "macro_f1",
        greater_is_better=True,
        logging_strategy="steps",
        logging_steps=max(1, min(50, total // 40)),
        report_to="none",
        disable_tqdm=True,
        seed=config.seed,
        data_seed=config.seed,
        use_cpu=device.device == "cpu",
        bf16=device.precision == "bf16",
        fp16=device.precision == "fp16",
        dataloader_num_workers=0,
        **_length_grouping(TrainingArguments),
    )


def _length_grouping(arguments_class: Any) -> dict[str, Any]:
    """Batches of similar length (less padding, faster), by whichever name this transformers uses."""
    import inspect

    params = inspect.signature(arguments_class.__init__).parameters
    if "train_sampling_strategy" in params:
        return {"train_sampling_strategy": "group_by_length"}
    return {"group_by_length": True} if "group_by_length" in params else {}


def fit(
    config: TrainConfig,
    data: Any,
    run_dir: Path,
    on_event: EventSink | None = None,
    should_stop: StopCheck | None = None,
) -> FitResult:
    """Fine-tune `config.model` on `data` (a PreparedData) and write model, metrics and predictions.

    Raises Cancelled if `should_stop()` turned true; everything written before that is kept.
    """
    import torch
    from transformers import (
        DataCollatorForTokenClassification,
        DataCollatorWithPadding,
        EarlyStoppingCallback,
        PrinterCallback,
        Trainer,
        set_seed,
    )
    from transformers.utils import logging as hf_logging

    from trainer.models import add_lora, load_model, load_tokenizer, merge_lora, pick_device

    run_dir = Path(run_dir)
    hf_logging.disable_progress_bar()
    should_stop = should_stop or (lambda: False)
    history = _History(run_dir, on_event)
    _set_threads()
    set_seed(config.seed)
    device = pick_device(config.device)
    labels = list(data.labels)
    label2id = {label: i for i, label in enumerate(labels)}
    tokenizer = load_tokenizer(config.model)
    model = load_model(config.model, data.task, labels)
    max_length = resolve_max_length(config, data, tokenizer, model.config)
    write_json(
        run_dir / "config.json",
        {
            **config.to_dict(),
            "task": data.task,
            "resolved_max_length": max_length,
            "resolved_epochs": config.resolved_epochs(len(data.train)),
            "device": device.label,
        },
    )
    if config.lora:
        model = add_lora(model, data.task, config.lora_r, config.lora_alpha, config.lora_dropout)
    train_features, eval_features = _encode(data, tokenizer, max_length, label2id)
    collator = (
        DataCollatorForTokenClassification(tokenizer)
        if data.task == TOKEN_TASK
        else DataCollatorWithPadding(tokenizer)
    )
    args = training_arguments(config, run_dir, device, bool(eval_features), len(train_features))
    progress = ProgressCallback(history, should_stop, config.batch_size * config.gradient_accumulation_steps)
    callbacks = [progress]
    if args.load_best_model_at_end:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=config.early_stopping_patience))
    trainer = Trainer(
        model=model,
        args=args,
        data_collator=collator,
        train_dataset=train_features,
        eval_dataset=eval_features or None,
        processing_class=tokenizer,
        compute_metrics=_compute_metrics(data.task, labels),
        compute_loss_func=_weighted_loss(class_weights(data.train.labels, labels))
        if config.class_weights
        else None,
        callbacks=callbacks,
    )
    trainer.remove_callback(PrinterCallback)  # progress goes through our events, not stdout
    started = time.time()
    train_output = trainer.train()
    train_seconds = time.time() - started
    shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
    if progress.cancelled:
        raise Cancelled("Training was cancelled.")

    model = merge_lora(trainer.model)
    model.eval()
    model.save_pretrained(run_dir / "model", safe_serialization=True)
    tokenizer.save_pretrained(run_dir / "model")
    steps = max(1, trainer.state.global_step)
    summary = {
        "train_seconds": round(train_seconds, 2),
        "train_samples_per_second": round(train_output.metrics.get("train_samples_per_second", 0.0), 2),
        "steps": steps,
        "epochs_run": round(float(trainer.state.epoch or 0), 3),
        "best_checkpoint_restored": bool(args.load_best_model_at_end),
        "max_length": max_length,
        "device": device.label,
    }
    with torch.inference_mode():
        metrics = evaluate_and_write(model, tokenizer, data, max_length, run_dir, config.eval_batch_size)
    metrics.update(summary=summary, history=[e for e in history.events if e["kind"] == "eval"])
    write_json(run_dir / "metrics.json", metrics)
    history(
        Event("end", steps, steps, float(trainer.state.epoch or 0), metrics=_headline(metrics, data.task))
    )
    return FitResult(metrics)


def _headline(metrics: dict, task: str) -> dict[str, float]:
    test = metrics.get("test") or metrics.get("validation") or {}
    keys = ("f1", "accuracy") if task == TOKEN_TASK else ("macro_f1", "accuracy")
    return {k: test[k] for k in keys if k in test}


def evaluate_and_write(
    model: Any, tokenizer: Any, data: Any, max_length: int, run_dir: Path, batch_size: int = 64
) -> dict:
    """Score validation and test splits; write predictions.csv for the test split."""
    from trainer.metrics import classification_scores, token_scores
    from trainer.predict import (
        Predictions,
        TagPredictions,
        predictions_frame,
        softmax,
        tag_predictions_frame,
        text_logits,
        word_logits,
    )

    labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
    results: dict[str, Any] = {}
    for name in ("validation", "test"):
        split = getattr(data, name)
        if not len(split):
            continue
        if data.task == TOKEN_TASK:
            probs = [softmax(x) for x in word_logits(model, tokenizer, split.tokens, max_length, batch_size)]
            tags = [[labels[i] for i in p.argmax(1)] for p in probs]
            results[name] = token_scores(split.labels, tags)
            if name == "test":
                preds = TagPredictions(tags, [p.max(1).tolist() for p in probs], probs, labels)
                frame = tag_predictions_frame(split.tokens, preds, split.labels)
        else:
            probs = softmax(text_logits(model, tokenizer, split.texts, max_length, batch_size))
            preds = Predictions([labels[i] for i in probs.argmax(1)], probs, labels)
            results[name] = classification_scores(split.labels, preds.labels, labels)
            if name == "test":
                frame = predictions_frame(split.texts, preds, split.labels)
        if name == "test":
            frame.to_csv(run_dir / "predictions.csv", index=False)
    return results
