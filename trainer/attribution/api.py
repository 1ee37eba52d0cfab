"""The entry points: explain texts, or one word per sentence (token task), in batches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trainer.attribution.engine import Explanation, Settings, explain_items
from trainer.attribution.inputs import text_items, token_item, word_at
from trainer.attribution.token_words import joined_spans

TEXT, TOKEN = "text-classification", "token-classification"  # the `task` an Explanation reports


def _labels(model: Any, labels: Sequence[str] | None) -> list[str]:
    n = model.config.num_labels
    labels = list(labels) if labels is not None else [model.config.id2label[i] for i in range(n)]
    if len(labels) != n:
        raise ValueError(f"The model has {n} classes but {len(labels)} label names were given.")
    return labels


def _target_index(target: str | int | None, labels: list[str]) -> int | None:
    if target is None:
        return None
    if isinstance(target, int) and not isinstance(target, bool) and 0 <= target < len(labels):
        return target
    if target in labels:
        return labels.index(target)
    raise ValueError(f"Unknown class {target!r}: choose one of {', '.join(labels)}.")


def _max_length(model: Any, tokenizer: Any, max_length: int | None) -> int:
    from trainer.model.loading import model_max_length

    return int(max_length) if max_length else model_max_length(tokenizer, model.config)


def _settings(**kwargs: Any) -> Settings:
    s = Settings(**kwargs)
    if s.n_steps < 1 or s.max_steps < 1 or s.batch_size < 1 or not 0 < s.fraction <= 1:
        raise ValueError("n_steps, max_steps and batch_size must be >= 1 and fraction in (0, 1].")
    return s


def explain(
    model: Any,
    tokenizer: Any,
    labels: Sequence[str] | None,
    texts: Sequence[str],
    targets: Sequence[str | int | None] | None = None,
    max_length: int | None = None,
    n_steps: int = 50,
    tolerance: float = 0.05,
    max_steps: int = 300,
    batch_size: int = 8,
    faithfulness: bool = True,
    fraction: float = 0.2,
    seed: int = 0,
    memory_budget_mb: float | None = None,
) -> list[Explanation]:
    """Explain a text classifier's decision on each text (target: a class name, or None = predicted)."""
    labels = _labels(model, labels)
    targets = list(targets) if targets is not None else [None] * len(texts)
    if len(targets) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(targets)} targets.")
    settings = _settings(
        n_steps=n_steps, tolerance=tolerance, max_steps=max_steps, batch_size=batch_size,
        faithfulness=faithfulness, fraction=fraction, seed=seed, budget_mb=memory_budget_mb,
    )  # fmt: skip
    if not texts:
        return []
    length = _max_length(model, tokenizer, max_length)
    items = text_items(tokenizer, texts, [_target_index(t, labels) for t in targets], length)
    return explain_items(model, tokenizer, labels, items, TEXT, settings)


def explain_tokens(
    model: Any,
    tokenizer: Any,
    labels: Sequence[str] | None,
    sentences: Sequence[Sequence[str]],
    word_indices: Sequence[int],
    targets: Sequence[str | int | None] | None = None,
    max_length: int | None = None,
    n_steps: int = 50,
    tolerance: float = 0.05,
    max_steps: int = 300,
    batch_size: int = 8,
    faithfulness: bool = True,
    fraction: float = 0.2,
    seed: int = 0,
    memory_budget_mb: float | None = None,
) -> list[Explanation]:
    """Explain a token classifier's tag for one word per pre-split sentence, batched."""
    labels = _labels(model, labels)
    targets = list(targets) if targets is not None else [None] * len(sentences)
    if not len(sentences) == len(word_indices) == len(targets):
        raise ValueError("sentences, word_indices and targets must have the same length.")
    settings = _settings(
        n_steps=n_steps, tolerance=tolerance, max_steps=max_steps, batch_size=batch_size,
        faithfulness=faithfulness, fraction=fraction, seed=seed, budget_mb=memory_budget_mb,
    )  # fmt: skip
    length = _max_length(model, tokenizer, max_length)
    items = []
    for tokens, index, target in zip(sentences, word_indices, targets, strict=True):
        if not 0 <= index < len(tokens):
            raise ValueError(f"Word index {index} is outside the sentence ({len(tokens)} words).")
        items.append(token_item(tokenizer, tokens, index, _target_index(target, labels), length))
    return explain_items(model, tokenizer, labels, items, TOKEN, settings)


def explain_token(
    model: Any,
    tokenizer: Any,
    labels: Sequence[str] | None,
    tokens: Sequence[str],
    word_index: int | None = None,
    target: str | int | None = None,
    char_span: tuple[int, int] | None = None,
    **kwargs: Any,
) -> Explanation:
    """Explain the tag of one word: by index in `tokens`, or by a char span of `" ".join(tokens)`."""
    if (word_index is None) == (char_span is None):
        raise ValueError("Give either word_index or char_span.")
    if word_index is None:
        word_index = word_at(joined_spans(tokens), char_span)  # type: ignore[arg-type]
    return explain_tokens(model, tokenizer, labels, [tokens], [word_index], [target], **kwargs)[0]
