"""Concurrent requests gathered into one forward pass: up to `max_batch` texts, or what arrived within
`max_wait_ms` of the first, run on one worker thread (one model per process), results handed back."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Sequence
from typing import Any


class Batcher:
    def __init__(self, run: Callable[[list], list], max_batch: int = 32, max_wait_ms: float = 5.0,
                 on_batch: Callable[[int], None] | None = None) -> None:  # fmt: skip
        self.run, self.max_batch, self.max_wait = run, max(1, max_batch), max(0.0, max_wait_ms) / 1000
        self.on_batch = on_batch
        self.queue: asyncio.Queue | None = None
        self.task: asyncio.Task | None = None
        self.pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="insight-model")

    async def start(self) -> None:
        self.queue = asyncio.Queue()
        self.task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self.task:
            self.task.cancel()
        self.pool.shutdown(wait=True)

    async def submit(self, items: Sequence[Any]) -> list:
        future = asyncio.get_running_loop().create_future()
        await self.queue.put((list(items), future))
        return await future

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            waiting = [await self.queue.get()]
            count = len(waiting[0][0])
            deadline = loop.time() + self.max_wait
            while count < self.max_batch:
                left = deadline - loop.time()
                if left <= 0:
                    break
                try:
                    waiting.append(await asyncio.wait_for(self.queue.get(), left))
                except TimeoutError:
                    break
                count += len(waiting[-1][0])
            flat = [item for items, _ in waiting for item in items]
            try:
                results = await loop.run_in_executor(self.pool, self.run, flat)
            except Exception as exc:  # noqa: BLE001 - each caller gets the error, the loop goes on
                for _, future in waiting:
                    if not future.done():
                        future.set_exception(exc)
                continue
            if self.on_batch:
                self.on_batch(len(flat))
            start = 0
            for items, future in waiting:
                if not future.done():
                    future.set_result(results[start : start + len(items)])
                start += len(items)
