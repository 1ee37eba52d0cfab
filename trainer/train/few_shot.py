"""Few-label training for text classification (issue 32): SetFit's recipe, then a run like any other.

With a few dozen labels a plain fine-tune barely learns (bench/RESULTS.md, "Few labels"). SetFit (Tunstall et
al. 2022) does better with a sentence-transformer body, which the bundled all-MiniLM-L6-v2 is:

1. **the body** learns from pairs of labelled texts, same label or not (a cosine-similarity loss), so texts
   of one label move together. The `setfit` library (1.2) makes the pairs and runs sentence-transformers'
   trainer; our ProgressCallback and TimeBudget ride on it, so progress, cancel and the time budget work
   as in an ordinary run;
2. **the head**: a logistic regression (scikit-learn, SetFit's default head) on what the run's classifier
   layer reads, computed with the trained body;
3. **the run's model**: the trained body's weights go into the same transformers classifier an ordinary run
   saves (for a BERT, the mean-pooling head of `trainer.model.heads`) and the regression's weights into its
   last linear layer, so its logits are the regression's. It is saved, scored and written like any run:
   Evaluate, Explain, Embeddings, Apply, Monitors, Serve and `transformers.pipeline` read it unchanged.

Why setfit and not sentence-transformers' trainer alone: the pairs (balanced positives and negatives,
SetFit's "oversampling") are the published recipe, and setfit 1.2 runs on the pinned transformers 5 and
sentence-transformers 6 (checked: trains, predicts). Its own saved model (a pickled scikit-learn head) is
not kept: the run's model is a plain transformers one.

Entity runs keep the ordinary fine-tune: SetFit classifies whole texts, not words.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from trainer.config import TrainConfig
from trainer.i18n import tr
from trainer.runs import RunFolder
from trainer.tasks import get_task

# Automatic below this many labelled training rows per label (on average) with a sentence-transformer
# backbone: measured on CR and TREC (bench/RESULTS.md, "Few labels"), the few-label way wins at 8 to 32.
FEW_PER_LABEL = 50
PAIRS_PER_TEXT = 20  # SetFit's num_iterations: pairs drawn per labelled text (its paper's setting)
BODY_LEARNING_RATE = 2e-5  # SetFit's default for the body, unless the run's settings give one


def few_shot_choice(config: TrainConfig, data: Any) -> tuple[bool, str]:
    """Whether this run trains the few-label way, and the sentence that says why ("" for an ordinary run
    nobody asked about)."""
    task = get_task(data.task)
    labels = max(1, len(data.labels))
    per_label = len(data.train) / labels
    if not task.sentence_head:
        if config.few_shot == "on":
            return False, tr("Entity runs train the ordinary way: the few-label way classifies whole texts.")
        return False, ""
    if config.few_shot == "off":
        return False, ""
    if config.few_shot == "on":
        return True, tr("This run trains the few-label way (SetFit), as asked.")
    if per_label < FEW_PER_LABEL and sentence_transformer(config.model):
        return True, tr(
            "Few labels ({n} per label on average, fewer than {limit}): this run trains the few-label way (SetFit), "
            "which learns more from each one.",
            n=f"{per_label:.0f}",
            limit=FEW_PER_LABEL,
        )
    return False, ""


def sentence_transformer(model: str) -> bool:
    """Whether the backbone is a sentence-transformer (a folder with modules.json, as the bundled model is):
    the bodies SetFit was made for, so "auto" turns to the few-label way only for them."""
    from trainer.model.loading import resolve_model

    try:
        return (Path(resolve_model(model)) / "modules.json").is_file()
    except (OSError, ValueError):
        return False


def _setfit_args(config: TrainConfig, folder: RunFolder, n_texts: int) -> Any:
    from setfit import TrainingArguments

    return TrainingArguments(
        output_dir=str(folder.checkpoints_dir),
        batch_size=config.batch_size,
        num_epochs=1,
        num_iterations=PAIRS_PER_TEXT,
        max_steps=config.max_steps or -1,
        body_learning_rate=config.learning_rate or BODY_LEARNING_RATE,
        seed=config.seed,
        report_to="none",
        show_progress_bar=False,
        save_strategy="no",
        logging_steps=max(1, min(50, PAIRS_PER_TEXT * 2 * n_texts // config.batch_size // 40)),
    )


def train_body(config: TrainConfig, texts: list[str], ids: list[int], folder: RunFolder, device: str,
               callbacks: list) -> Any:  # fmt: skip
    """The sentence-transformer body trained on contrastive pairs of the labelled texts (setfit)."""
    from setfit import SetFitModel, Trainer
    from transformers.utils import logging as hf_logging

    from trainer.model.loading import resolve_model

    logging.getLogger("setfit").setLevel(logging.ERROR)  # its own head is not used: no note about it
    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # a plain BERT folder gets a mean pooling: no warning table
    try:
        model = SetFitModel.from_pretrained(resolve_model(config.model), device=device)
    finally:
        hf_logging.set_verbosity(level)
    trainer = Trainer(model=model, args=_setfit_args(config, folder, len(texts)), callbacks=callbacks)
    handler = trainer.st_trainer.callback_handler
    for callback in list(handler.callbacks):  # no bars or prints on stdout, no model card: progress is ours
        theirs = type(callback).__name__ in ("ProgressCallback", "PrinterCallback", "ModelCardCallback")
        if theirs and callback not in callbacks:
            handler.remove_callback(callback)
    trainer.st_trainer.args.disable_tqdm = True
    trainer.st_trainer.args.dataloader_pin_memory = device != "cpu"
    trainer.train_embeddings(texts, ids, args=trainer.args)
    return model.model_body, trainer.st_trainer


def last_linear(model: Any, n_labels: int) -> Any:
    """The classifier's last linear layer (the one that gives the logits)."""
    import torch

    found = [m for m in model.modules() if isinstance(m, torch.nn.Linear) and m.out_features == n_labels]
    return found[-1]


def classifier_with_body(config: TrainConfig, body: Any, labels: list[str]) -> Any:
    """The run's transformers classifier (as an ordinary run builds it) carrying the trained body's weights."""
    from trainer.model.loading import load_model

    task = get_task(config.task)
    model = load_model(config.model, task, labels, config.pooling)
    trained = {k: v for k, v in body[0].auto_model.state_dict().items() if not k.startswith("pooler.")}
    missing, unexpected = model.base_model.load_state_dict(trained, strict=False)
    if unexpected or any(not _added(k, model) for k in missing):
        raise RuntimeError(f"the trained body does not fit the classifier: {unexpected or missing}")
    return model


def _added(key: str, model: Any) -> bool:
    """A parameter the classifier has and the body has not: the pooler, the mean-pooling layer."""
    layers = getattr(model.config, "num_hidden_layers", 0)
    return key.startswith("pooler.") or key.startswith(f"encoder.layer.{layers - 1}.")


def fit_head(
    model: Any, tokenizer: Any, texts: list[str], ids: list[int], max_length: int, seed: int
) -> None:
    """A logistic regression on what the last linear layer reads, written into that layer."""
    import torch
    from sklearn.linear_model import LogisticRegression

    n = model.config.num_labels
    head = last_linear(model, n)
    seen: list = []
    hook = head.register_forward_hook(lambda _m, inputs, _o: seen.append(inputs[0].detach().float().cpu()))
    model.eval()
    try:
        with torch.inference_mode():
            for start in range(0, len(texts), 64):
                batch = tokenizer(texts[start : start + 64], truncation=True, max_length=max_length,
                                  padding=True, return_tensors="pt").to(model.device)  # fmt: skip
                model(**batch)
    finally:
        hook.remove()
    features = torch.cat(seen).numpy()
    regression = LogisticRegression(max_iter=2000, random_state=seed).fit(features, ids)
    weight = np.zeros((n, features.shape[1]), dtype=np.float32)
    bias = np.full(n, -1e4, dtype=np.float32)  # a label with no training row is never predicted
    if len(regression.classes_) == 2:  # one score for the second class: split it into two logits
        weight[regression.classes_] = np.stack([-regression.coef_[0] / 2, regression.coef_[0] / 2])
        bias[regression.classes_] = [-regression.intercept_[0] / 2, regression.intercept_[0] / 2]
    else:
        weight[regression.classes_], bias[regression.classes_] = regression.coef_, regression.intercept_
    with torch.no_grad():
        head.weight.copy_(torch.from_numpy(weight))
        head.bias.copy_(torch.from_numpy(bias))


def train_few_shot(config: TrainConfig, data: Any, folder: RunFolder, device: Any, callbacks: list,
                   tokenizer: Any, max_length: int) -> tuple[Any, dict]:  # fmt: skip
    """(model, summary): the run's classifier trained the few-label way on `data.train`."""
    labels = list(data.labels)
    texts = [str(t) for t in get_task(data.task).inputs(data.train)]
    ids = [labels.index(label) for label in data.train.labels]
    started = time.time()
    body, st_trainer = train_body(config, texts, ids, folder, device.device, callbacks)
    model = classifier_with_body(config, body, labels).to(device.device)
    fit_head(model, tokenizer, texts, ids, max_length, config.seed)
    state = st_trainer.state
    summary = {
        "train_seconds": round(time.time() - started, 2),
        "steps": max(1, state.global_step),
        "epochs_run": round(float(state.epoch or 0), 3),
        "pairs": PAIRS_PER_TEXT * 2 * len(texts),
        "few_shot": True,
    }
    return model.cpu() if device.device == "cpu" else model, summary


def fit_few_shot(config: TrainConfig, data: Any, folder: RunFolder, history: Any, should_stop: Any,
                 device: Any, clock: Any, reason: str) -> dict:  # fmt: skip
    """Train the few-label way and write the run as `trainer.train.fit.fit` does; the metrics it wrote."""
    from trainer.model.loading import load_tokenizer
    from trainer.train.budget import TimeBudget, budget_fields
    from trainer.train.callback import ProgressCallback
    from trainer.train.progress import Cancelled, Diverged, Event
    from trainer.train.setup import resolve_max_length
    from trainer.train.written import disk_full_cleanup, evaluate_and_write, headline_scores

    accelerated = device.device != "cpu"
    tokenizer = load_tokenizer(config.model)
    max_length = resolve_max_length(config, data, tokenizer, None)
    seconds = config.resolved_time_budget(accelerated)
    folder.write_resolved(max_length=max_length, epochs=1.0, effort=config.resolved_effort(accelerated),
                          time_budget_seconds=seconds, device=device.label, few_shot=True,
                          few_shot_reason=reason, learning_rate=config.learning_rate or BODY_LEARNING_RATE)  # fmt: skip
    budget = TimeBudget(seconds, clock) if seconds else None
    progress = ProgressCallback(history, should_stop, config.batch_size, config.learning_rate, budget)
    model, summary = train_few_shot(
        config, data, folder, device, [progress] + ([budget] if budget else []), tokenizer, max_length
    )
    if progress.diverged:
        raise Diverged(progress.diverged)
    if progress.cancelled:
        raise Cancelled(tr("Training was cancelled; a few-label run starts again from the beginning."))
    with disk_full_cleanup(folder, True):
        folder.save_model(model, tokenizer)
    summary.update(max_length=max_length, device=device.label, processes=1, resumed=False,
                   effort=config.resolved_effort(accelerated), best_checkpoint_restored=False,
                   **budget_fields(budget, seconds))  # fmt: skip
    metrics = evaluate_and_write(model, tokenizer, data, max_length, folder, config.eval_batch_size)
    metrics.update(summary=summary, history=[])
    folder.write_metrics(metrics)
    steps = summary["steps"]
    history(Event("end", steps, steps, 1.0, metrics=headline_scores(metrics, data.task), message=reason))
    return metrics
