"""The ASGI app uvicorn imports in each worker process: its settings come in INSIGHT_SERVE_CONFIG (JSON).

With several GPUs, each worker process claims one (a lock file per GPU and port) and sees only that one
(CUDA_VISIBLE_DEVICES, set before torch starts), so `--workers N` keeps one model per device.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from pathlib import Path

from trainer.serve.service import ServeConfig, build_app

ENV = "INSIGHT_SERVE_CONFIG"
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


def from_env():
    values = json.loads(os.environ[ENV])
    values["key"] = str(values.get("key", "0"))  # the service: its workers share GPUs and the rate count
    gpu = claim_gpu(int(values.pop("gpus", 0)), values["key"])
    if gpu is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = str(gpu)
    return build_app(ServeConfig(**values))
