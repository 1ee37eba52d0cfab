"""What a finished fit writes, whichever way it trained: the held-out splits scored in one pass each
(predictions, probabilities, vectors) and the bf16 check; and the clean-up when the disk fills.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from trainer.runs import RunFolder
from trainer.runs.space import disk_full
from trainer.tasks import Task, get_task


@contextlib.contextmanager
def disk_full_cleanup(folder: RunFolder, main: bool) -> Iterator[None]:
    """When the disk fills while the block saves (a checkpoint, the model), delete what was half saved, so
    the last complete epoch is what a resume finds; the error goes on (the worker records it)."""
    try:
        yield
    except BaseException as exc:
        if main and disk_full(exc, folder.path):
            folder.remove_partial_checkpoints()
        raise


def evaluate_and_write(
    model: Any, tokenizer: Any, data: Any, max_length: int, folder: RunFolder, batch_size: int = 64
) -> dict:
    """Score validation and test splits in one forward pass each, and keep what that pass gives.

    Writes predictions.csv for the test split, and for both splits the fine-tuned model's class
    probabilities and embeddings (float16, `RunFolder.probs_file` / `vector_file`), so no page ever
    reads these texts with the model again. Then checks whether bf16 may speed up later CPU passes
    (`trainer.model.bf16_check`, on the validation split) and records the answer.
    """
    from trainer.model.inference import stack

    task = get_task(data.task)
    labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
    results: dict[str, Any] = {}
    for name in ("validation", "test"):
        split = getattr(data, name)
        if not len(split):
            continue
        inputs = task.inputs(split)
        logits, vectors = task.outputs(model, tokenizer, inputs, max_length, batch_size)
        preds = task.predictions(logits, labels)
        results[name] = task.scores(split.labels, preds.predicted, labels)
        folder.write_array(folder.probs_file(name), stack(preds.probabilities))
        folder.write_array(folder.vector_file("finetuned", name), stack(vectors))
        if name == "test":
            folder.write_predictions(task.predictions_frame(inputs, preds, split.labels))
    check_precision(
        model, tokenizer, task, task.inputs(data.validation) or task.inputs(data.test), max_length, folder
    )
    return results


def check_precision(
    model: Any, tokenizer: Any, task: Task, inputs: list, max_length: int, folder: RunFolder
) -> None:
    """Record whether this run's model may run in bf16 on the CPU (never fatal: fp32 otherwise)."""
    from trainer.model.bf16_check import check_model

    try:
        check = check_model(model, tokenizer, task, inputs, max_length).to_dict()
    except Exception as exc:  # noqa: BLE001 - a failed check only means fp32
        check = {"precision": None, "reason": f"fp32: the bf16 check failed ({type(exc).__name__})."}
    folder.write_inference("finetuned", check)


def headline_scores(metrics: dict, task_name: str) -> dict:
    """The scores the "end" event carries: the task's best metric and accuracy, on test (else validation)."""
    headline = metrics.get("test") or metrics.get("validation") or {}
    return {k: headline[k] for k in (get_task(task_name).best_metric, "accuracy") if k in headline}
