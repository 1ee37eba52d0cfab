"""Batched inference: class probabilities, per-word tags, embeddings; the run model wrapper."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from trainer.config import TEXT_TASK, TOKEN_TASK
from trainer.encoding import centrality, encode_texts, encode_words

Progress = Callable[[int, int], None]


def _autocast(device: Any) -> Any:
    """bf16/fp16 autocast on CUDA, nothing elsewhere."""
    import torch

    if getattr(device, "type", str(device)) != "cuda":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.autocast("cuda", dtype=dtype)


def _batches(features: list[dict], batch_size: int, tokenizer: Any, device: Any):
    """Yield (indices, padded batch on device), longest-first so padding is small."""
    order = sorted(range(len(features)), key=lambda i: -len(features[i]["input_ids"]))
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        rows = [{k: v for k, v in features[i].items() if k != "labels"} for i in idx]
        batch = tokenizer.pad(rows, return_tensors="pt")
        yield idx, {k: v.to(device) for k, v in batch.items()}


def _model_device(model: Any) -> Any:
    return next(model.parameters()).device


def _exclusive(model: Any) -> Any:
    """Hold the model's attribution lock: Captum hooks the embedding layer while it attributes,
    and a forward pass from another thread meanwhile would read hooked embeddings."""
    from trainer.attribution import model_lock

    return model_lock(model)


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
) -> np.ndarray:
    """Run `module` over texts in length-sorted batches; `read(output, batch)` gives (B, width) rows."""
    import torch

    module.eval()
    device = _model_device(module)
    features = encode_texts(tokenizer, texts, max_length)
    out = np.zeros((len(texts), width), dtype=np.float32)
    done = 0
    with _exclusive(owner), torch.inference_mode(), _autocast(device):
        for idx, batch in _batches(features, batch_size, tokenizer, device):
            out[idx] = read(module(**batch), batch)
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
) -> list[np.ndarray]:
    """Per sentence, a (n_words, width) array read at each word's first subword.

    Long sentences are read in overlapping windows; each word keeps the vector from the window
    where it has the most context on both sides.
    """
    import torch

    module.eval()
    device = _model_device(module)
    windows = encode_words(tokenizer, sentences, max_length)
    out = [np.zeros((len(s), width), dtype=np.float32) for s in sentences]
    best = [np.full(len(s), -1) for s in sentences]
    with _exclusive(owner), torch.inference_mode(), _autocast(device):
        for idx, batch in _batches([w.features for w in windows], batch_size, tokenizer, device):
            values = read(module(**batch))  # (B, T, width)
            for row, wi in enumerate(idx):
                window = windows[wi]
                for pos, (word, first) in enumerate(zip(window.word_ids, window.first_subword, strict=True)):
                    score = centrality(pos, len(window.word_ids))
                    if first and score > best[window.sentence][word]:
                        best[window.sentence][word] = score
                        out[window.sentence][word] = values[row, pos]
    return out


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
) -> np.ndarray:
    """(N, C) float32 logits, in the order of `texts`."""
    return _forward_texts(
        model, model, tokenizer, texts, max_length, batch_size, model.config.num_labels, _logits, progress
    )


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, numerically stable."""
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def word_logits(
    model: Any,
    tokenizer: Any,
    sentences: Sequence[Sequence[str]],
    max_length: int,
    batch_size: int = 64,
) -> list[np.ndarray]:
    """Per sentence, a (n_words, C) array of logits of each word's first subword."""
    return _forward_words(
        model, model, tokenizer, sentences, max_length, batch_size, model.config.num_labels, _logits
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
) -> np.ndarray:
    """(N, H) mean-pooled last hidden states of `encoder` (a base model or a classifier)."""
    base = getattr(encoder, "base_model", encoder)
    return _forward_texts(
        encoder, base, tokenizer, texts, max_length, batch_size, base.config.hidden_size, _pooled, progress
    )


def word_embeddings(
    encoder: Any,
    tokenizer: Any,
    sentences: Sequence[Sequence[str]],
    max_length: int,
    batch_size: int = 64,
) -> list[np.ndarray]:
    """Per sentence, a (n_words, H) array: the last hidden state of each word's first subword."""
    base = getattr(encoder, "base_model", encoder)
    return _forward_words(
        encoder, base, tokenizer, sentences, max_length, batch_size, base.config.hidden_size, _hidden
    )


@dataclass
class Predictions:
    """Text-task predictions in input order."""

    labels: list[str]  # predicted label per text
    probabilities: np.ndarray  # (N, C), columns in `class_names` order
    class_names: list[str]

    @property
    def confidence(self) -> np.ndarray:
        return self.probabilities.max(axis=1)


@dataclass
class TagPredictions:
    """Token-task predictions: a tag and its probability per word."""

    tags: list[list[str]]
    confidence: list[list[float]]
    probabilities: list[np.ndarray]  # per sentence (n_words, C)
    class_names: list[str]


class RunModel:
    """A fine-tuned model loaded from a run folder (or any saved model folder), ready to use."""

    def __init__(self, model: Any, tokenizer: Any, task: str, max_length: int, labels: list[str]):
        self.model, self.tokenizer, self.task = model, tokenizer, task
        self.max_length, self.labels = max_length, labels

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> RunModel:
        """Load `<run>/model` (or a model folder) onto the best available device."""
        import torch
        from transformers import AutoModelForSequenceClassification, AutoModelForTokenClassification

        from trainer.models import load_tokenizer, model_max_length, pick_device
        from trainer.runs import read_json

        path = Path(path)
        model_dir = path / "model" if (path / "model" / "config.json").exists() else path
        if not (model_dir / "config.json").exists():
            raise FileNotFoundError(
                f"{path} has no saved model (the run may have failed, been cancelled or still be running)."
            )
        run_config = read_json(model_dir.parent / "config.json", {}) or {}
        architectures = (read_json(model_dir / "config.json", {}) or {}).get("architectures") or [""]
        task = TOKEN_TASK if architectures[0].endswith("TokenClassification") else TEXT_TASK
        auto = AutoModelForTokenClassification if task == TOKEN_TASK else AutoModelForSequenceClassification
        model = auto.from_pretrained(model_dir, use_safetensors=True, trust_remote_code=False)
        tokenizer = load_tokenizer(str(model_dir))
        choice = pick_device(device)
        model.to(torch.device(choice.device)).eval()
        labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
        max_length = run_config.get("resolved_max_length") or model_max_length(tokenizer, model.config)
        return cls(model, tokenizer, task, int(max_length), labels)

    def predict(
        self, texts: Sequence[str], batch_size: int = 64, progress: Progress | None = None
    ) -> Predictions:
        """Class probabilities for each text."""
        probs = softmax(text_logits(self.model, self.tokenizer, texts, self.max_length, batch_size, progress))
        return Predictions([self.labels[i] for i in probs.argmax(1)], probs, self.labels)

    def predict_tags(self, sentences: Sequence[Sequence[str]], batch_size: int = 64) -> TagPredictions:
        """A tag per word for each pre-split sentence."""
        probs = [
            softmax(x)
            for x in word_logits(self.model, self.tokenizer, sentences, self.max_length, batch_size)
        ]
        tags = [[self.labels[i] for i in p.argmax(1)] for p in probs]
        conf = [p.max(1).tolist() if len(p) else [] for p in probs]
        return TagPredictions(tags, conf, probs, self.labels)

    def embed(
        self, texts: Sequence[str], batch_size: int = 64, progress: Progress | None = None
    ) -> np.ndarray:
        """(N, H) sentence embeddings from the fine-tuned encoder."""
        return text_embeddings(self.model, self.tokenizer, texts, self.max_length, batch_size, progress)

    def embed_words(self, sentences: Sequence[Sequence[str]], batch_size: int = 64) -> list[np.ndarray]:
        """Per sentence, (n_words, H) word embeddings from the fine-tuned encoder."""
        return word_embeddings(self.model, self.tokenizer, sentences, self.max_length, batch_size)


def _backbone(model_name: str) -> tuple[Any, Any]:
    """The pretrained encoder (no head) and its tokenizer, on the best device."""
    import torch
    from transformers import AutoModel

    from trainer.models import load_tokenizer, pick_device, resolve_model

    encoder = AutoModel.from_pretrained(
        resolve_model(model_name), use_safetensors=True, trust_remote_code=False
    )
    encoder.to(torch.device(pick_device().device))
    return encoder, load_tokenizer(model_name)


def backbone_embeddings(
    model_name: str,
    texts: Sequence[str],
    max_length: int,
    batch_size: int = 64,
    progress: Progress | None = None,
) -> np.ndarray:
    """(N, H) embeddings from the pretrained backbone, before fine-tuning (for comparison)."""
    encoder, tokenizer = _backbone(model_name)
    return text_embeddings(encoder, tokenizer, texts, max_length, batch_size, progress)


def backbone_word_embeddings(
    model_name: str, sentences: Sequence[Sequence[str]], max_length: int, batch_size: int = 64
) -> list[np.ndarray]:
    """Per sentence, (n_words, H) word embeddings from the pretrained backbone."""
    encoder, tokenizer = _backbone(model_name)
    return word_embeddings(encoder, tokenizer, sentences, max_length, batch_size)


def predictions_frame(texts: Sequence[str], preds: Predictions, gold: Sequence[str] | None = None) -> Any:
    """The predictions.csv table: text, [gold], predicted, confidence, p_<label>..."""
    import pandas as pd

    frame = pd.DataFrame({"text": list(texts)})
    if gold is not None:
        frame["gold"] = list(gold)
    frame["predicted"] = preds.labels
    frame["confidence"] = np.round(preds.confidence, 6)
    if gold is not None:
        frame["correct"] = frame["gold"] == frame["predicted"]
    for j, name in enumerate(preds.class_names):
        frame[f"p_{name}"] = np.round(preds.probabilities[:, j], 6)
    return frame


def tag_predictions_frame(
    sentences: Sequence[Sequence[str]], preds: TagPredictions, gold: Sequence[Sequence[str]] | None = None
) -> Any:
    """predictions.csv for the token task: tokens, [gold tags], predicted tags, mean confidence."""
    import pandas as pd

    frame = pd.DataFrame({"tokens": [" ".join(s) for s in sentences]})
    if gold is not None:
        frame["gold"] = [" ".join(g) for g in gold]
    frame["predicted"] = [" ".join(t) for t in preds.tags]
    frame["confidence"] = [round(float(np.mean(c)), 6) if c else 1.0 for c in preds.confidence]
    if gold is not None:
        frame["correct"] = [list(g) == list(p) for g, p in zip(gold, preds.tags, strict=True)]
    return frame
