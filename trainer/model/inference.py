"""Batched forward passes: logits and embeddings of texts or of word lists, in input order.

Task-free: the task adapters (trainer/tasks.py) choose which of these a task uses. Every pass holds
the model's lock (see `trainer.model.loading.model_lock`), runs without gradients in length-sorted batches,
and uses bf16/fp16 autocast on CUDA.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from trainer.model.encoding import centrality, encode_texts, encode_words
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


def _autocast(device: Any, precision: str | None = None) -> Any:
    """bf16/fp16 autocast on CUDA; bf16 on the CPU when `precision` says so (see trainer.model.bf16_check)."""
    import torch

    kind = getattr(device, "type", str(device))
    if kind == "cuda":
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.autocast("cuda", dtype=dtype)
    if kind == "cpu" and precision == "bf16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _batches(features: list[dict], batch_size: int, tokenizer: Any, device: Any):
    """Yield (indices, padded batch on device), longest-first so padding is small."""
    order = sorted(range(len(features)), key=lambda i: -len(features[i]["input_ids"]))
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        rows = [{k: v for k, v in features[i].items() if k != "labels"} for i in idx]
        batch = tokenizer.pad(rows, return_tensors="pt")
        yield idx, {k: v.to(device) for k, v in batch.items()}


def _forward_texts(
    owner: Any,
    module: Any,
    tokenizer: Any,
    texts: Sequence[str],
    max_length: int,
    batch_size: int,
    width: int,
    read: Callable[[Any, dict], np.ndarray],
    progress: Progress | None = None,
    precision: str | None = None,
    hidden_states: bool = False,
) -> np.ndarray:
    """Run `module` over texts in length-sorted batches; `read(output, batch)` gives (B, width) rows."""
    import torch

    module.eval()
    device = model_device(module)
    features = encode_texts(tokenizer, texts, max_length)
    out = np.zeros((len(texts), width), dtype=np.float32)
    done = 0
    with model_lock(owner), torch.inference_mode(), _autocast(device, precision):
        for idx, batch in _batches(features, batch_size, tokenizer, device):
            out[idx] = read(module(**batch, **_asked(hidden_states)), batch)
            done += len(idx)
            if progress:
                progress(done, len(texts))
    return out


def _forward_words(
    owner: Any,
    module: Any,
    tokenizer: Any,
    sentences: Sequence[Sequence[str]],
    max_length: int,
    batch_size: int,
    width: int,
    read: Callable[[Any], np.ndarray],
    progress: Progress | None = None,
    precision: str | None = None,
    hidden_states: bool = False,
) -> list[np.ndarray]:
    """Per sentence, a (n_words, width) array read at each word's first subword.

    Long sentences are read in overlapping windows; each word keeps the vector from the window
    where it has the most context on both sides.
    """
    import torch

    module.eval()
    device = model_device(module)
    windows = encode_words(tokenizer, sentences, max_length)
    out = [np.zeros((len(s), width), dtype=np.float32) for s in sentences]
    best = [np.full(len(s), -1) for s in sentences]
    done = 0
    with model_lock(owner), torch.inference_mode(), _autocast(device, precision):
        for idx, batch in _batches([w.features for w in windows], batch_size, tokenizer, device):
            values = read(module(**batch, **_asked(hidden_states)))  # (B, T, width)
            for row, wi in enumerate(idx):
                window = windows[wi]
                for pos, (word, first) in enumerate(zip(window.word_ids, window.first_subword, strict=True)):
                    score = centrality(pos, len(window.word_ids))
                    if first and score > best[window.sentence][word]:
                        best[window.sentence][word] = score
                        out[window.sentence][word] = values[row, pos]
            done += len(idx)
            if progress:
                progress(done, len(windows))
    return out


def _asked(hidden_states: bool) -> dict:
    return {"output_hidden_states": True} if hidden_states else {}


def _logits(output: Any, batch: Any = None) -> np.ndarray:
    return output.logits.float().cpu().numpy()


def _hidden(output: Any) -> np.ndarray:
    return output.last_hidden_state.float().cpu().numpy()


def _pooled(output: Any, batch: Any) -> np.ndarray:
    return mean_pool(output.last_hidden_state.float(), batch["attention_mask"]).cpu().numpy()


def text_logits(
    model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    max_length: int,
    batch_size: int = 64,
    progress: Progress | None = None,
    precision: str | None = None,
) -> np.ndarray:
    """(N, C) float32 logits, in the order of `texts`."""
    return _forward_texts(
        model,
        model,
        tokenizer,
        texts,
        max_length,
        batch_size,
        model.config.num_labels,
        _logits,
        progress,
        precision,
    )


def word_logits(
    model: Any,
    tokenizer: Any,
    sentences: Sequence[Sequence[str]],
    max_length: int,
    batch_size: int = 64,
    progress: Progress | None = None,
    precision: str | None = None,
) -> list[np.ndarray]:
    """Per sentence, a (n_words, C) array of logits of each word's first subword."""
    return _forward_words(
        model,
        model,
        tokenizer,
        sentences,
        max_length,
        batch_size,
        model.config.num_labels,
        _logits,
        progress,
        precision,
    )


def mean_pool(hidden: Any, mask: Any) -> Any:
    """Mean of token vectors where mask is 1: (B, T, H), (B, T) -> (B, H)."""
    mask = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)


def text_embeddings(
    encoder: Any,
    tokenizer: Any,
    texts: Sequence[str],
    max_length: int,
    batch_size: int = 64,
    progress: Progress | None = None,
    precision: str | None = None,
) -> np.ndarray:
    """(N, H) mean-pooled last hidden states of `encoder` (a base model or a classifier)."""
    base = getattr(encoder, "base_model", encoder)
    return _forward_texts(
        encoder,
        base,
        tokenizer,
        texts,
        max_length,
        batch_size,
        base.config.hidden_size,
        _pooled,
        progress,
        precision,
    )


def word_embeddings(
    encoder: Any,
    tokenizer: Any,
    sentences: Sequence[Sequence[str]],
    max_length: int,
    batch_size: int = 64,
    progress: Progress | None = None,
    precision: str | None = None,
) -> list[np.ndarray]:
    """Per sentence, a (n_words, H) array: the last hidden state of each word's first subword."""
    base = getattr(encoder, "base_model", encoder)
    return _forward_words(
        encoder,
        base,
        tokenizer,
        sentences,
        max_length,
        batch_size,
        base.config.hidden_size,
        _hidden,
        progress,
        precision,
    )


def _logits_and_pooled(output: Any, batch: Any) -> np.ndarray:
    pooled = mean_pool(output.hidden_states[-1].float(), batch["attention_mask"])
    return torch_cat(output.logits.float(), pooled).cpu().numpy()


def _logits_and_hidden(output: Any) -> np.ndarray:
    return torch_cat(output.logits.float(), output.hidden_states[-1].float()).cpu().numpy()


def torch_cat(*tensors: Any) -> Any:
    import torch

    return torch.cat(tensors, dim=-1)


def text_outputs(
    model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    max_length: int,
    batch_size: int = 64,
    progress: Progress | None = None,
    precision: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """((N, C) logits, (N, H) mean-pooled embeddings) of a classifier, from one forward pass."""
    c = model.config.num_labels
    width = c + model.config.hidden_size
    both = _forward_texts(
        model,
        model,
        tokenizer,
        texts,
        max_length,
        batch_size,
        width,
        _logits_and_pooled,
        progress,
        precision,
        True,
    )
    return both[:, :c], both[:, c:]


def word_outputs(
    model: Any,
    tokenizer: Any,
    sentences: Sequence[Sequence[str]],
    max_length: int,
    batch_size: int = 64,
    progress: Progress | None = None,
    precision: str | None = None,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per sentence, ((n_words, C) logits, (n_words, H) word vectors) of a tagger, from one forward pass."""
    c = model.config.num_labels
    width = c + model.config.hidden_size
    both = _forward_words(
        model,
        model,
        tokenizer,
        sentences,
        max_length,
        batch_size,
        width,
        _logits_and_hidden,
        progress,
        precision,
        True,
    )
    return [b[:, :c] for b in both], [b[:, c:] for b in both]
