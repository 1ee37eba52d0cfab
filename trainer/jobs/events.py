"""What every process of a fine-tune job shares: no library chatter, and progress written to the run folder
(the job's process, and under torchrun or Ray Train the first worker)."""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from trainer.runs import RunFolder

PROGRESS_EVERY = 1.0  # seconds between progress writes during training


def quiet() -> None:
    """No library chatter: progress goes through the run folder."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    for name in ("transformers", "huggingface_hub", "accelerate", "peft", "torch.distributed"):
        logging.getLogger(name).setLevel(logging.ERROR)


class ProgressWriter:
    """An event sink that keeps progress.json current: every log/eval event, steps at most once a second."""

    def __init__(self, folder: RunFolder):
        self.folder, self.last = folder, 0.0

    def __call__(self, event: Any) -> None:
        now = time.time()
        if event.kind == "step" and now - self.last < PROGRESS_EVERY:
            return
        self.last = now
        self.folder.write_progress(event.to_dict())
