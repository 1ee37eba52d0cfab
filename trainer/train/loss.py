"""The loss with per-class weights, for labels that are imbalanced (`TrainConfig.class_weights`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def weighted_loss(weights: np.ndarray) -> Callable:
    """A `compute_loss_func` applying per-class weights to cross-entropy."""
    import torch

    w = torch.tensor(weights, dtype=torch.float32)

    def loss_fn(outputs: Any, labels: Any, num_items_in_batch: Any = None) -> Any:
        logits = outputs["logits"] if isinstance(outputs, dict) else outputs.logits
        weight = w.to(logits.device)
        return torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]).float(), labels.reshape(-1), weight=weight, ignore_index=-100
        )

    return loss_fn


def class_weights(flat: list[str], class_names: list[str]) -> np.ndarray:
    """Inverse-frequency weights normalised to mean 1 (sklearn's 'balanced'), from every class occurrence."""
    counts = np.array([max(1, flat.count(c)) for c in class_names], dtype=np.float64)
    weights = len(flat) / (len(class_names) * counts)
    return weights / weights.mean()
