"""Batched forward passes, task-free: the machinery both task adapters run their inputs through.

`forward_passes` runs a model over encoded features in length-sorted batches: without gradients, holding
the model's lock (see `trainer.model.loading.model_lock`), with bf16/fp16 autocast on CUDA (bf16 on the CPU
when checked safe). The `read_*` functions turn one batch's output into rows. What a task feeds in (texts,
or word lists in windows) and how rows map back to inputs lives in its adapter (trainer/tasks/).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from trainer.model.loading import model_device, model_lock

Progress = Callable[[int, int], None]


def stack(values: np.ndarray | list[np.ndarray]) -> np.ndarray:
    """One row per text, or per word: per-sentence (n_words, X) arrays are stacked in order."""
    if isinstance(values, list):
        return np.concatenate(values) if values else np.zeros((0, 0), dtype=np.float32)
    return np.asarray(values)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, numerically stable."""
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def autocast(device: Any, precision: str | None = None) -> Any:
    """bf16/fp16 autocast on CUDA; bf16 on the CPU when `precision` says so (see trainer.model.bf16_check)."""
    import torch

    kind = getattr(device, "type", str(device))
    if kind == "cuda":
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.autocast("cuda", dtype=dtype)
    if kind == "cpu" and precision == "bf16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _passes(features: list[dict], batch_size: int, tokenizer: Any, device: Any):
    """Yield (indices, padded batch on device), longest-first so padding is small."""
    order = sorted(range(len(features)), key=lambda i: -len(features[i]["input_ids"]))
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        rows = [{k: v for k, v in features[i].items() if k != "labels"} for i in idx]
        batch = tokenizer.pad(rows, return_tensors="pt")
        yield idx, {k: v.to(device) for k, v in batch.items()}


def forward_passes(
    owner: Any,
    module: Any,
    tokenizer: Any,
    features: list[dict],
    batch_size: int,
    precision: str | None = None,
    hidden_states: bool = False,
) -> Iterator[tuple[list[int], dict, Any]]:
    """Yield (indices into `features`, padded batch, `module`'s output) for every batch, no gradients."""
    import torch

    module.eval()
    device = model_device(module)
    asked = {"output_hidden_states": True} if hidden_states else {}
    with model_lock(owner), torch.inference_mode(), autocast(device, precision):
        for idx, batch in _passes(features, batch_size, tokenizer, device):
            yield idx, batch, module(**batch, **asked)


def read_logits(output: Any, batch: Any = None) -> np.ndarray:
    return output.logits.float().cpu().numpy()


def read_hidden(output: Any) -> np.ndarray:
    return output.last_hidden_state.float().cpu().numpy()


def read_pooled(output: Any, batch: Any) -> np.ndarray:
    return mean_pool(output.last_hidden_state.float(), batch["attention_mask"]).cpu().numpy()


def read_logits_and_pooled(output: Any, batch: Any) -> np.ndarray:
    pooled = mean_pool(output.hidden_states[-1].float(), batch["attention_mask"])
    return torch_cat(output.logits.float(), pooled).cpu().numpy()


def read_logits_and_hidden(output: Any) -> np.ndarray:
    return torch_cat(output.logits.float(), output.hidden_states[-1].float()).cpu().numpy()


def torch_cat(*tensors: Any) -> Any:
    import torch

    return torch.cat(tensors, dim=-1)


def mean_pool(hidden: Any, mask: Any) -> Any:
    """Mean of token vectors where mask is 1: (B, T, H), (B, T) -> (B, H)."""
    mask = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
