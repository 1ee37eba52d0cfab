"""Small in-process background computations (a projection of the embedding map), with progress and
cancel, shared by every browser tab of one app process (`ComputationRegistry`). Fine-tunes and long
computations run as processes of their own: trainer.jobs.manager."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from trainer.errors import friendly_error

log = logging.getLogger(__name__)


class ThreadComputation:
    """A small in-process background computation (a projection) with progress and cancel."""

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any):
        self._lock = threading.Lock()
        self.done_count, self.total = 0, 0
        self.result: Any = None
        self.error: str | None = None
        self.stop = threading.Event()
        self.finished = threading.Event()
        self.started = time.time()
        kwargs.setdefault("progress", self._progress)
        kwargs.setdefault("should_stop", self.stop.is_set)
        self._thread = threading.Thread(target=self._run, args=(fn, args, kwargs), daemon=True)
        self._thread.start()

    def _progress(self, done: int, total: int) -> None:
        with self._lock:
            self.done_count, self.total = done, total

    def _run(self, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
        try:
            self.result = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001
            log.exception("background task failed")
            self.error = friendly_error(exc, "computing in the background")
        finally:
            self.finished.set()

    @property
    def progress(self) -> float:
        with self._lock:
            return self.done_count / self.total if self.total else 0.0

    @property
    def running(self) -> bool:
        return not self.finished.is_set()


class ComputationRegistry:
    """Process-wide in-process tasks by key, so every browser tab shares one computation per question."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._computations: dict[str, ThreadComputation] = {}

    def get(self, key: str) -> ThreadComputation | None:
        with self._lock:
            return self._computations.get(key)

    def start(self, key: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> ThreadComputation:
        """Start `fn` under `key` unless a task with that key is running or has succeeded."""
        with self._lock:
            task = self._computations.get(key)
            if task is None or (task.finished.is_set() and task.error):
                task = self._computations[key] = ThreadComputation(fn, *args, **kwargs)
            return task

    def drop(self, key: str) -> None:
        with self._lock:
            task = self._computations.pop(key, None)
        if task is not None:
            task.stop.set()
