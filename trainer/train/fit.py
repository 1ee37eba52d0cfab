"""Fine-tuning with transformers.Trainer; a callback turns progress into events and honours cancel.

Imports transformers at module level: only jobs (lazily, in the worker) and the CLI import this.
"""

from __future__ import annotations

import math
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainer.config import TrainConfig
from trainer.data.perturb import augment_data
from trainer.i18n import tr
from trainer.runs import RunFolder
from trainer.tasks import Task, get_task
from trainer.train.budget import Clock, TimeBudget, budget_fields, budget_note
from trainer.train.callback import ProgressCallback
from trainer.train.few_shot import few_shot_choice, fit_few_shot
from trainer.train.loss import class_weights, weighted_loss
from trainer.train.progress import (
    Cancelled,
    Diverged,
    Event,
    EventSink,
    History,
    StopCheck,
)
from trainer.train.setup import resolve_max_length, seeded_device
from trainer.train.written import disk_full_cleanup, evaluate_and_write, headline_scores

__all__ = ["Cancelled", "Diverged", "Event", "FitResult", "class_weights", "fit", "training_arguments"]


@dataclass
class FitResult:
    """What a finished fit returns (also written to metrics.json)."""

    metrics: dict
    cancelled: bool = False


def _encode(task: Task, data: Any, tokenizer: Any, max_length: int, label2id: dict) -> tuple[list, list]:
    def encode(split: Any) -> list:
        return task.encode(tokenizer, task.inputs(split), max_length, task.target_ids(split.labels, label2id))

    return encode(data.train), encode(data.validation) if len(data.validation) else []


def training_arguments(
    config: TrainConfig, folder: RunFolder, device: Any, has_eval: bool, n_train: int
) -> Any:
    """TrainingArguments for `config`: linear warmup/decay AdamW, epoch evals, best model restored."""
    from transformers import TrainingArguments

    epochs = config.resolved_epochs(n_train, accelerated=device.device != "cpu")
    steps_per_epoch = max(1, math.ceil(n_train / (config.batch_size * config.gradient_accumulation_steps)))
    total = config.max_steps or math.ceil(steps_per_epoch * epochs)
    early = has_eval and config.early_stopping_patience > 0
    strategy = "epoch" if has_eval else "no"
    # A checkpoint at the end of every epoch (model, optimizer, schedule, random state) so an interrupted
    # or cancelled run resumes where it was; the best one is kept too when early stopping restores it.
    return TrainingArguments(
        output_dir=str(folder.checkpoints_dir),
        num_train_epochs=epochs,
        max_steps=config.max_steps or -1,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.eval_batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        learning_rate=config.resolved_learning_rate(),
        weight_decay=config.weight_decay,
        warmup_steps=config.warmup_ratio,  # a float is a ratio of total steps in transformers 5
        lr_scheduler_type="linear",
        eval_strategy=strategy,
        save_strategy="epoch",
        save_total_limit=1,
        save_only_model=False,
        load_best_model_at_end=early,
        metric_for_best_model=get_task(config.task).best_metric,
        greater_is_better=True,
        logging_strategy="steps",
        logging_steps=max(1, min(50, total // 40)),
        # A NaN or infinite loss is logged as it is (the Trainer's default hides it behind the mean of the
        # losses before), so the divergence rule sees it at the step it happens, on every CPU.
        logging_nan_inf_filter=False,
        report_to="none",
        disable_tqdm=True,
        seed=config.seed,
        data_seed=config.seed,
        use_cpu=device.device == "cpu",
        bf16=device.precision == "bf16",
        fp16=device.precision == "fp16",
        dataloader_num_workers=0,
        ddp_find_unused_parameters=False,  # every parameter takes part: skip DDP's extra graph walk
        **_length_grouping(TrainingArguments),
    )


def _length_grouping(arguments_class: Any) -> dict[str, Any]:
    """Batches of similar length (less padding, faster), by whichever name this transformers uses."""
    import inspect

    params = inspect.signature(arguments_class.__init__).parameters
    if "train_sampling_strategy" in params:
        return {"train_sampling_strategy": "group_by_length"}
    return {"group_by_length": True} if "group_by_length" in params else {}


def is_main_process() -> bool:
    """Whether this is the process that writes the run folder (rank 0 under torchrun; always alone)."""
    return int(os.environ.get("RANK", "0")) == 0


def fit(
    config: TrainConfig,
    data: Any,
    run_dir: Path,
    on_event: EventSink | None = None,
    should_stop: StopCheck | None = None,
    resume: bool = False,
    clock: Clock | None = None,
) -> FitResult:
    """Fine-tune `config.model` on `data` and write the model, metrics and predictions into the run folder.

    Args:
        config: the settings (a frozen TrainConfig).
        data: a PreparedData (trainer.prepare).
        run_dir: the run folder (trainer.runs.create_run); everything is written there.
        on_event: called with every progress Event (start, step, log, eval, end).
        should_stop: polled every step; when it turns true, training stops within one step.
        resume: continue from the run's last checkpoint (saved at the end of every epoch).
        clock: what the time budget reads (seconds; default `time.monotonic`); tests pass a fake one.

    Returns:
        FitResult: the final metrics (also in metrics.json).

    Raises:
        Cancelled: should_stop() turned true; everything written before that is kept (resumable).
        Diverged: the loss became NaN, infinite, or exploded; the message suggests a lower learning rate.

    Under torchrun (DDP through transformers.Trainer) every process calls fit; the main one writes the run.

    Example:
        >>> fit(TrainConfig(epochs=3), prepare("reviews.csv"), create_run("runs", "first try"))
    """
    folder = RunFolder(run_dir)
    main = is_main_process()
    checkpoint = _checkpoint(folder, resume)
    history = History(folder, on_event, write=main, resume=resume)
    device = seeded_device(config)
    data = augment_data(data, config.augment, config.seed)  # the saved splits stay as they were
    few, reason = few_shot_choice(config, data)
    if few:  # one process trains (under torchrun the others have nothing to do)
        return FitResult(fit_few_shot(config, data, folder, history, should_stop or (lambda: False), device,
                                      clock, reason) if main else {})  # fmt: skip
    model, tokenizer, max_length = _load(config, data, folder, device, main)
    trainer, progress = _trainer(config, data, model, tokenizer, max_length, folder, device, history,
                                 should_stop or (lambda: False), clock)  # fmt: skip
    started = time.time()
    with disk_full_cleanup(folder, main):
        train_output = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    train_seconds = time.time() - started
    if progress.diverged:
        raise Diverged(progress.diverged)
    if progress.cancelled:
        raise Cancelled(_cancelled_message(folder))
    if not main:
        return FitResult({})
    return _finish(trainer, train_output, train_seconds, data, tokenizer, max_length, folder, device,
                   history, config, checkpoint)  # fmt: skip


def _cancelled_message(folder: RunFolder) -> str:
    """What a cancelled run says: it resumes from its last saved epoch, or starts again (none was saved)."""
    if folder.latest_checkpoint() is None:  # cancelled inside the first epoch: nothing to resume from
        return tr("Training was cancelled; no epoch was finished, so it starts again from the beginning.")
    return tr("Training was cancelled; it can be resumed from its last saved epoch.")


def _checkpoint(folder: RunFolder, resume: bool) -> Path | None:
    """The checkpoint to resume from (None for a new run); a resume with no saved epoch is refused."""
    checkpoint = folder.latest_checkpoint() if resume else None
    if resume and checkpoint is None:
        raise ValueError(
            tr("{run} has no saved epoch to resume from: start it again instead.", run=folder.path.name)
        )
    return checkpoint


def _load(config: TrainConfig, data: Any, folder: RunFolder, device: Any, main: bool) -> tuple[Any, Any, int]:
    """(model, tokenizer, max length): the backbone with a head for the data's labels (LoRA adapters when
    asked), its tokenizer and the max length chosen; the main process writes what was chosen."""
    from trainer.model.heads import pooling_for
    from trainer.model.loading import add_lora, load_model, load_tokenizer

    task, accelerated = get_task(data.task), device.device != "cpu"
    tokenizer = load_tokenizer(config.model)
    model = load_model(config.model, task, list(data.labels), config.pooling)
    max_length = resolve_max_length(config, data, tokenizer, model.config)
    if main:
        folder.write_resolved(
            max_length=max_length,
            epochs=config.resolved_epochs(len(data.train), accelerated),
            effort=config.resolved_effort(accelerated),
            time_budget_seconds=config.resolved_time_budget(accelerated),
            device=device.label,
            learning_rate=config.resolved_learning_rate(),
            pooling=pooling_for(config.pooling, task, model.config) if task.sentence_head else None,
        )
    if config.lora:
        model = add_lora(model, task, config.lora_r, config.lora_alpha, config.lora_dropout)
    return model, tokenizer, max_length


def _trainer(config: TrainConfig, data: Any, model: Any, tokenizer: Any, max_length: int, folder: RunFolder,
             device: Any, history: History, should_stop: StopCheck,
             clock: Clock | None = None) -> tuple[Any, ProgressCallback]:  # fmt: skip
    """The transformers.Trainer over the encoded splits (class weights, early stopping when asked), and the
    callback that turns its progress into events and honours cancel."""
    from transformers import EarlyStoppingCallback, PrinterCallback, Trainer

    task = get_task(data.task)
    labels = list(data.labels)
    label2id = {label: i for i, label in enumerate(labels)}
    train_features, eval_features = _encode(task, data, tokenizer, max_length, label2id)
    args = training_arguments(config, folder, device, bool(eval_features), len(train_features))
    samples_per_step = config.batch_size * config.gradient_accumulation_steps
    seconds = config.resolved_time_budget(device.device != "cpu")
    budget = TimeBudget(seconds, clock) if seconds else None
    progress = ProgressCallback(
        history, should_stop, samples_per_step, config.resolved_learning_rate(), budget
    )
    callbacks = [progress] + ([budget] if budget else [])
    if args.load_best_model_at_end:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=config.early_stopping_patience))
    weights = class_weights(task.flat_targets(data.train.labels), labels) if config.class_weights else None
    trainer = Trainer(
        model=model,
        args=args,
        data_collator=task.collator(tokenizer),
        train_dataset=train_features,
        eval_dataset=eval_features or None,
        processing_class=tokenizer,
        compute_metrics=task.trainer_metrics(labels),
        compute_loss_func=weighted_loss(weights) if weights is not None else None,
        callbacks=callbacks,
    )
    trainer.remove_callback(PrinterCallback)  # progress goes through our events, not stdout
    return trainer, progress


def _finish(trainer: Any, train_output: Any, train_seconds: float, data: Any, tokenizer: Any, max_length: int,
            folder: RunFolder, device: Any, history: History, config: TrainConfig,
            checkpoint: Path | None) -> FitResult:  # fmt: skip
    """After training, in the main process: save the model (LoRA merged), drop the checkpoints, score the
    held-out splits and write metrics.json, then the "end" event."""
    from trainer.model.loading import merge_lora

    model = merge_lora(trainer.model)
    model.eval()
    with disk_full_cleanup(folder, True):
        folder.save_model(model, tokenizer)
    shutil.rmtree(folder.checkpoints_dir, ignore_errors=True)  # finished: nothing left to resume
    steps = max(1, trainer.state.global_step)
    budget = next((c for c in trainer.callback_handler.callbacks if isinstance(c, TimeBudget)), None)
    summary = {
        "train_seconds": round(train_seconds, 2),
        "train_samples_per_second": round(train_output.metrics.get("train_samples_per_second", 0.0), 2),
        "steps": steps,
        "epochs_run": round(float(trainer.state.epoch or 0), 3),
        "best_checkpoint_restored": bool(trainer.args.load_best_model_at_end),
        "max_length": max_length,
        "device": device.label,
        "processes": int(os.environ.get("WORLD_SIZE", "1")),
        "resumed": bool(checkpoint),
        "effort": config.resolved_effort(device.device != "cpu"),
        **budget_fields(budget, budget.seconds if budget else None),
    }
    metrics = evaluate_and_write(model, tokenizer, data, max_length, folder, config.eval_batch_size)
    metrics.update(summary=summary, history=[e for e in history.events if e["kind"] == "eval"])
    folder.write_metrics(metrics)
    end = Event(
        "end",
        steps,
        steps,
        float(trainer.state.epoch or 0),
        metrics=headline_scores(metrics, data.task),
        message=budget_note(budget, trainer, config.resolved_epochs(len(data.train), device.device != "cpu")),
    )
    history(end)
    return FitResult(metrics)
