"""A fine-tuned run's model, ready to use: predictions and embeddings of new inputs, and the backbone's.

The forward passes are in `trainer.model.inference`; what differs per task (texts or word lists, one label
or a tag per word) is asked of the run's task adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from trainer.model.inference import Progress
from trainer.tasks import Task, get_task, task_for_architecture

if TYPE_CHECKING:  # types only
    from trainer.runs.trust import Trust


@dataclass
class Scored:
    """What a run's model says of new texts, one entry per text: the one result Apply, Monitors and the HTTP
    service read (and whatever comes after them)."""

    texts: list[str]
    inputs: list  # what the model read: the texts, or their word lists
    predictions: Any  # the adapter's predictions (Predictions or TagPredictions)
    vectors: np.ndarray  # (N, H) one vector per text
    labels: list[str]  # the label each text counts under: its prediction, or its sentence's main entity type
    confidence: np.ndarray  # (N,) float64
    probabilities: np.ndarray | None  # (N, labels) in the model's label order; None for entities
    untrusted: np.ndarray  # (N,) bool: outside what the run can vouch for (all False without a trust rule)
    task: Task

    def answers(self) -> list[list[dict]]:
        """Each text's answer in the shape of transformers' pipeline (labels with scores, or entities)."""
        return [
            self.task.answer(t, x, self.predictions, i)
            for i, (t, x) in enumerate(zip(self.texts, self.inputs, strict=True))
        ]

    def __len__(self) -> int:
        return len(self.texts)


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
        self.variant: str | None = None  # a compressed variant (trainer.runs.variants) in place of the model
        self.engine = "PyTorch"
        self.gradient_model = model  # what integrated gradients read: a torch model (a variant's original)

    @property
    def adapter(self) -> Task:
        return get_task(self.task)

    @property
    def probability_labels(self) -> list[str] | None:
        """The columns of `Scored.probabilities` (the model's labels), or None where a text has none."""
        return self.adapter.probability_labels(self.labels)

    @classmethod
    def load(cls, path: str | Path, device: str = "auto", variant: str | None = None) -> RunModel:
        """Load `<run>/model` (or a model folder) onto the best available device; with `variant`, the run's
        accepted compressed variant of that name answers instead, on the CPU (UnknownVariant otherwise)."""
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
        loaded = cls(model, tokenizer, task.name, int(max_length), labels, precision, check.get("reason", ""))
        return loaded.use_variant(folder, variant) if variant else loaded

    def use_variant(self, folder: Any, name: str) -> RunModel:
        """Answer with the run's accepted variant `name` (checked first); gradients keep a torch model."""
        from trainer.runs.variants import Variants

        variants = Variants(folder)
        variants.check(name)
        self.model.to("cpu")
        shrunk = variants.load(name, self.model)
        self.model, self.variant, self.engine, self.precision = shrunk, name, variants.engine(name), None
        if variants.engine(name) == "PyTorch":
            self.gradient_model = shrunk
        return self

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

    def score(self, texts: Sequence[str], trust: Trust | None = None, batch_size: int = 64,
              progress: Progress | None = None) -> Scored:  # fmt: skip
        """Labels, confidences, probabilities (in `self.labels` order), trust and vectors of new texts, read
        as the task reads them (a sentence is split into words), from one forward pass."""
        task, texts = self.adapter, [str(t) for t in texts]
        inputs = [task.read_input(t) for t in texts]
        if not inputs:  # nothing to read: no forward pass
            return Scored([], [], None, np.zeros((0, 1)), [], np.zeros(0), None, np.zeros(0, bool), task)
        preds, vectors = self.outputs(inputs, batch_size=batch_size, progress=progress)
        vectors = np.asarray(task.input_vectors(vectors))
        confidence = np.asarray(task.input_confidence(preds), dtype=np.float64)
        probs = task.input_probabilities(preds)
        if probs is not None:
            probs = probs[:, [list(preds.class_names).index(label) for label in self.labels]]
        untrusted = (
            trust.untrusted(confidence, vectors)
            if trust is not None and inputs
            else np.zeros(len(inputs), bool)
        )
        labels = [task.trend_label(preds, i) for i in range(len(inputs))]
        return Scored(
            texts, inputs, preds, vectors, labels, confidence, probs, np.asarray(untrusted, bool), task
        )

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
