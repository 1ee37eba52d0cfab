"""Concurrent requests gathered into one forward pass: up to `max_texts` texts, or what arrived within
`max_wait_ms` of the first, run on one worker thread (one model per process), results handed back.

The wait is for company: a request that finds the service idle (nothing queued, and the pass before held
one request) starts its pass at once, so a lone caller never waits for others who are not coming; requests
that arrive meanwhile are gathered into the next pass, and while requests keep coming together each pass
waits for the rest of its group.

A pass that fails is run again one request at a time, so a text that breaks it (whatever the reason)
fails its own request only and every other request gathered into that pass still gets its answer."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Sequence
from typing import Any


class PassGatherer:
    """Gathers the texts of concurrent requests into forward passes of `run` (texts -> one result each);
    `on_pass(n)` is told the number of texts of each pass that succeeded."""

    def __init__(self, run: Callable[[list], list], max_texts: int = 32, max_wait_ms: float = 5.0,
                 on_pass: Callable[[int], None] | None = None) -> None:  # fmt: skip
        self.run, self.max_texts, self.max_wait = run, max(1, max_texts), max(0.0, max_wait_ms) / 1000
        self.on_pass = on_pass
        self.crowded = False  # whether the last pass gathered more than one request
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

    async def _gather(self) -> list[tuple[list, asyncio.Future]]:
        """The requests of the next pass: the first to arrive, and those that follow within the wait, up to
        `max_texts` texts."""
        loop = asyncio.get_running_loop()
        waiting = [await self.queue.get()]
        count = len(waiting[0][0])
        deadline = loop.time() + (self.max_wait if self.crowded or not self.queue.empty() else 0.0)
        while count < self.max_texts:
            left = deadline - loop.time()
            if left <= 0:
                break
            try:
                waiting.append(await asyncio.wait_for(self.queue.get(), left))
            except TimeoutError:
                break
            count += len(waiting[-1][0])
        while count < self.max_texts and not self.queue.empty():  # whatever is already queued joins too
            waiting.append(self.queue.get_nowait())
            count += len(waiting[-1][0])
        self.crowded = len(waiting) > 1
        return waiting

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            waiting = await self._gather()
            flat = [item for items, _ in waiting for item in items]
            try:
                results = await loop.run_in_executor(self.pool, self.run, flat)
            except Exception as exc:  # noqa: BLE001 - answered below, request by request; the loop goes on
                await self._alone(waiting, exc)
                continue
            if self.on_pass:
                self.on_pass(len(flat))
            start = 0
            for items, future in waiting:
                if not future.done():
                    future.set_result(results[start : start + len(items)])
                start += len(items)

    async def _alone(self, waiting: list, failed: Exception) -> None:
        """After a failed pass: each request of it in a pass of its own, so each gets its own outcome."""
        loop = asyncio.get_running_loop()
        if len(waiting) == 1:
            if not waiting[0][1].done():
                waiting[0][1].set_exception(failed)
            return
        for items, future in waiting:
            if future.done():  # its caller has gone
                continue
            try:
                results = await loop.run_in_executor(self.pool, self.run, items)
            except Exception as exc:  # noqa: BLE001 - this request's own failure
                if not future.done():
                    future.set_exception(exc)
                continue
            if self.on_pass:
                self.on_pass(len(items))
            if not future.done():
                future.set_result(results)
