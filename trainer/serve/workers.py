"""The ASGI app uvicorn imports in each worker process: its settings come in INSIGHT_SERVE_CONFIG (JSON,
trainer.serve.settings).

With several GPUs, each worker process claims one (a lock file per GPU and port) and sees only that one
(CUDA_VISIBLE_DEVICES, set before torch starts), so `--workers N` keeps one model per device.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path
from typing import Any

from trainer.serve.server import build_app
from trainer.serve.settings import ServeConfig

_held: list = []  # the lock files this process holds, for its lifetime


def claim_gpu(count: int, key: str) -> int | None:
    """The first of `count` GPUs no other worker of this service holds (None with fewer than two)."""
    if count < 2:
        return None
    for index in range(count):
        handle = open(Path(tempfile.gettempdir()) / f"insight-serve-{key}-gpu{index}.lock", "w")  # noqa: SIM115
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            continue
        _held.append(handle)
        return index
    return os.getpid() % count  # more workers than GPUs: share them


def from_env() -> Any:
    config = ServeConfig.from_env()
    gpu = claim_gpu(config.gpus, config.key)  # the service's workers share its GPUs out
    if gpu is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = str(gpu)
    return build_app(config)
