"""Served texts into a monitor: kept in memory and written every FLUSH_SECONDS as one batch, by a thread of
their own, so a slow or failed write never delays or fails a prediction; a failed write is kept and
tried again (up to MAX_WAITING rows wait; beyond that the oldest are dropped and counted)."""

from __future__ import annotations

import logging
import threading
from collections import deque
from pathlib import Path
from typing import Any

import pandas as pd

log = logging.getLogger("insight.serve")
FLUSH_SECONDS = 1.0
MAX_WAITING = 200_000


class MonitorFeed:
    def __init__(self, runs_dir: Path, name: str, service: Any) -> None:
        from trainer.monitor import monitor as monitors

        self.monitor = monitors.Monitor(runs_dir, name)
        if Path(self.monitor.settings.run).resolve() != Path(service.run.path).resolve():
            raise monitors.MonitorError(f"Monitor {name} scores with {Path(self.monitor.settings.run).name}, not "
                                        f"{service.run.path.name}: serve that run, or create a monitor for this one.")  # fmt: skip
        self.monitor.set_labels(service.model.probability_labels)
        self.service, self.waiting, self.lock = service, deque(), threading.Lock()
        self.dropped, self.stopping = 0, threading.Event()
        self.thread = threading.Thread(target=self._loop, name="insight-monitor-feed", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def put(self, texts: list[str], results: list[dict]) -> None:
        now = pd.Timestamp.now(tz="UTC").isoformat()
        with self.lock:
            for text, result in zip(texts, results, strict=True):
                self.waiting.append((now, text, result))
            while len(self.waiting) > MAX_WAITING:
                self.waiting.popleft()
                self.dropped += 1

    def flush(self) -> int:
        with self.lock:
            rows = list(self.waiting)
        if not rows:
            return 0
        settings = self.monitor.settings
        frame = pd.DataFrame(
            {settings.text_column: [t for _, t, _ in rows], settings.time_column: [w for w, _, _ in rows]}
        )
        if settings.group_column:
            frame[settings.group_column] = ""
        results = [r for _, _, r in rows]
        probs = [r["probs"] for r in results]
        try:
            batch = self.monitor.add_scored(
                frame,
                [r["label"] for r in results],
                [r["confidence"] for r in results],
                probs if all(p is not None for p in probs) else None,
                "served",
                f"served|{rows[0][0]}|{len(rows)}",
            )
        except Exception:  # noqa: BLE001 - kept and tried again; predictions go on
            self.service.metrics.monitor_errors.inc()
            log.exception("writing served texts to monitor %s failed; trying again", self.monitor.name)
            return 0
        with self.lock:
            for _ in range(min(len(rows), len(self.waiting))):
                self.waiting.popleft()
        self.service.metrics.monitor_rows.inc(batch.added)
        return batch.added

    def _loop(self) -> None:
        while not self.stopping.wait(FLUSH_SECONDS):
            self.flush()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=30)
        self.flush()
