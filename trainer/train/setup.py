"""Getting ready to train, whichever way: the device with the seed set and the threads chosen, and the
max length the texts are cut at.
"""

from __future__ import annotations

import os
from typing import Any

from trainer.config import TrainConfig
from trainer.tasks import get_task


def set_threads() -> None:
    """One torch thread per core, shared by the processes of this machine (torchrun, `training_threads`)."""
    import torch

    from trainer.train.speed import training_threads

    wanted = training_threads(int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
    if torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)


def resolve_max_length(config: TrainConfig, data: Any, tokenizer: Any, model_config: Any) -> int:
    """The user's max length, else the one chosen from the data, capped by the model."""
    from trainer.model.loading import model_max_length

    cap = model_max_length(tokenizer, model_config)
    if config.max_length:
        return min(config.max_length, cap)
    chosen = getattr(data.report, "max_length", None)
    if chosen:
        return min(int(chosen), cap)
    from trainer.data.report import token_stats

    task = get_task(data.task)
    # A data shape, not a policy: the tokenizer is told whether it reads word lists (is_split_into_words).
    lengths, _ = token_stats(tokenizer, task.inputs(data.train), task.inputs_are_words)
    from trainer.data import choose_max_length

    return choose_max_length(lengths, cap)


def seeded_device(config: TrainConfig) -> Any:
    """The device to train on, with the seed set, the threads chosen and the library's progress bars off."""
    from transformers import set_seed
    from transformers.utils import logging as hf_logging

    from trainer.model.loading import pick_device

    hf_logging.disable_progress_bar()
    set_threads()
    set_seed(config.seed)
    return pick_device(config.device)
