"""A fine-tuned run's model, ready to use: predictions and embeddings of new inputs, and the backbone's.

The forward passes are in `trainer.model.inference`; what differs per task (texts or word lists, one label
or a tag per word) is asked of the run's task adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from trainer.model.inference import Progress
from trainer.tasks import Task, get_task, task_for_architecture


class RunModel:
    """A fine-tuned model loaded from a run folder (or any saved model folder), ready to use."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        task: str,
        max_length: int,
        labels: list[str],
        precision: str | None = None,
        precision_reason: str = "",
    ):
        self.model, self.tokenizer, self.task = model, tokenizer, task
        self.max_length, self.labels = max_length, labels
        self.precision, self.precision_reason = (
            precision,
            precision_reason,
        )  # CPU bf16 when it was checked safe

    @property
    def adapter(self) -> Task:
        return get_task(self.task)

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> RunModel:
        """Load `<run>/model` (or a model folder) onto the best available device."""
        import torch
        import transformers

        from trainer.model.bf16_check import usable
        from trainer.model.loading import load_tokenizer, model_max_length, pick_device
        from trainer.runs import RunFolder, read_json

        path = Path(path)
        folder = RunFolder(path)
        model_dir = folder.model_dir if folder.has_model else path
        if not (model_dir / "config.json").exists():
            raise FileNotFoundError(
                f"{path} has no saved model (the run may have failed, been cancelled or still be running)."
            )
        run_config = RunFolder(model_dir.parent).config()
        architectures = (read_json(model_dir / "config.json", {}) or {}).get("architectures") or [""]
        # A run says its task; a bare model folder is known by the class that saved it.
        task = (
            get_task(run_config["task"])
            if run_config.get("task")
            else task_for_architecture(architectures[0])
        )
        auto = getattr(transformers, task.auto_model)
        model = auto.from_pretrained(model_dir, use_safetensors=True, trust_remote_code=False)
        tokenizer = load_tokenizer(str(model_dir))
        choice = pick_device(device)
        model.to(torch.device(choice.device)).eval()
        labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
        max_length = run_config.get("resolved_max_length") or model_max_length(tokenizer, model.config)
        check = RunFolder(model_dir.parent).inference().get("finetuned") or {}
        precision = usable(check.get("precision")) if choice.device == "cpu" else None
        return cls(model, tokenizer, task.name, int(max_length), labels, precision, check.get("reason", ""))

    def predict(self, inputs: Sequence, batch_size: int = 64, progress: Progress | None = None) -> Any:
        """Predictions for texts (Predictions) or pre-split sentences (TagPredictions: a tag per word)."""
        logits = self.adapter.logits(
            self.model, self.tokenizer, list(inputs), self.max_length, batch_size, progress, self.precision
        )
        return self.adapter.predictions(logits, self.labels)

    def outputs(
        self, inputs: Sequence, batch_size: int = 64, progress: Progress | None = None
    ) -> tuple[Any, Any]:
        """(predictions, embeddings) from one forward pass."""
        logits, vectors = self.adapter.outputs(
            self.model, self.tokenizer, list(inputs), self.max_length, batch_size, progress, self.precision
        )
        return self.adapter.predictions(logits, self.labels), vectors

    def embed(self, inputs: Sequence, batch_size: int = 64, progress: Progress | None = None) -> Any:
        """Embeddings from the fine-tuned encoder: (N, H) per text, or per sentence (n_words, H)."""
        return self.adapter.embed(
            self.model, self.tokenizer, list(inputs), self.max_length, batch_size, progress, self.precision
        )

    def frame(self, inputs: Sequence, preds: Any, gold: Sequence | None = None) -> Any:
        """The predictions table of these inputs (predictions.csv's columns)."""
        return self.adapter.predictions_frame(list(inputs), preds, gold)


def backbone(model_name: str) -> tuple[Any, Any]:
    """The pretrained encoder (no head) and its tokenizer, on the best device."""
    import torch
    from transformers import AutoModel

    from trainer.model.loading import load_tokenizer, pick_device, resolve_model

    encoder = AutoModel.from_pretrained(
        resolve_model(model_name), use_safetensors=True, trust_remote_code=False
    )
    encoder.to(torch.device(pick_device().device))
    return encoder, load_tokenizer(model_name)


def backbone_embeddings(
    model_name: str,
    task: str,
    inputs: Sequence,
    max_length: int,
    batch_size: int = 64,
    progress: Progress | None = None,
    precision: str | None = None,
) -> Any:
    """Embeddings from the pretrained backbone, before fine-tuning (for comparison)."""
    encoder, tokenizer = backbone(model_name)
    return get_task(task).embed(encoder, tokenizer, list(inputs), max_length, batch_size, progress, precision)
