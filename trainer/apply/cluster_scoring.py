"""A file scored on a Ray cluster, as a Ray Data pipeline: read in blocks, scored by copies of the model,
written back here in the order and shape local scoring writes.

The file is read in the chunks local scoring reads (`trainer.data.stream`), each chunk one block, by read
tasks that each take a run of consecutive chunks (on the nodes, from shared storage); the chunks already
scored are skipped, so a stopped scoring resumes. Each block goes to a copy of the model (a Ray Data actor,
`trainer.runs.cluster.ModelCopy`), which scores it exactly as local scoring does (`score_chunk`) and
sends back the part file's text and the chunk's own tallies. This process writes each part file, merges
the tallies in file order and saves its progress after every chunk, as local scoring does: the results
are the same rows. A machine lost half-way fails the pipeline, which starts again on the machines left
from the first chunk not written, so no row is lost and none is written twice.
"""

from __future__ import annotations

import json
import math
import pickle
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from trainer.apply.chunk import Tallies, score_chunk
from trainer.data import stream
from trainer.errors import PlainError
from trainer.i18n import N_, tr
from trainer.runs.cluster import ClusterError, ModelCopy, connected, plan
from trainer.runs.records import Phase
from trainer.runs.scoring import Scoring, ScoringState, Spec

if TYPE_CHECKING:  # types only
    from trainer.runs.trust import Trust

ON_CLUSTER = N_("Scoring the texts on the Ray cluster (machines: {nodes}; copies of the model: {copies})")
LOST = N_(
    "The Ray cluster at {address} failed {tries} times in a row without scoring a chunk ({error}). "
    "What was scored is kept: start the scoring again to resume."
)
LOST_TRIES = 3
READS_PER_COPY = 4  # read tasks per copy of the model: the copies are never waiting on one reader
WIND_DOWN_SECONDS = 10.0  # the most a stopped pipeline waits for its threads before the process disconnects
PARKED = "Prefetcher"  # Ray Data's block prefetcher thread (ray.data._internal.block_batching.util)


def _read(source: str, chunk_rows: int, first: int, last: float, done: frozenset) -> Iterator[pd.DataFrame]:
    """One block per chunk of the file with an index in [first, last) that is not done yet."""
    start = 0
    for index, chunk in enumerate(stream.chunks(source, chunk_rows)):
        if index >= last:
            return
        if index >= first and index not in done:
            yield pd.DataFrame({"index": [index], "start": [start], "chunk": [pickle.dumps(chunk)]})
        start += len(chunk)


def _datasource(spec: Spec, done: set[int], tasks: int, chunks: int) -> Any:
    """The file as a Ray Data source: `tasks` read tasks of consecutive chunks (the last one to the end)."""
    from ray.data.block import BlockMetadata
    from ray.data.datasource import Datasource, ReadTask

    per = max(1, math.ceil(chunks / tasks))
    frozen = frozenset(done)

    class Chunks(Datasource):
        def estimate_inmemory_data_size(self) -> int | None:
            return None

        def get_read_tasks(self, parallelism: int, per_task_row_limit: int | None = None,
                           data_context: Any = None) -> list:  # fmt: skip
            found = []
            for i in range(tasks):
                first, last = i * per, (i + 1) * per if i < tasks - 1 else math.inf
                found.append(ReadTask(lambda a=first, b=last: _read(spec.source, spec.chunk_rows, a, b, frozen),
                                      BlockMetadata(num_rows=None, size_bytes=None, exec_stats=None, input_files=None)))  # fmt: skip
            return found

    return Chunks()


class ChunkCopy(ModelCopy):
    """A copy of the model that scores whole chunks of the file as local scoring does."""

    def __init__(self, run_dir: str, threads: float, column: str, spec: dict, trust: Trust):
        super().__init__(run_dir, threads, spec.get("variant"))
        self.column, self.spec, self.trust = column, Spec(**spec), trust

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        parts, tallied = [], []
        for start, blob in zip(batch["start"], batch["chunk"], strict=True):
            tallies = Tallies()
            part = score_chunk(self.model, self.model.adapter, pickle.loads(blob), self.column, int(start),
                                self.spec, self.trust, tallies)  # fmt: skip
            parts.append(part.to_csv(index=False))
            tallied.append(json.dumps(tallies.to_json()))
        return {"index": batch["index"], "part": np.array(parts, dtype=object),
                "tallies": np.array(tallied, dtype=object)}  # fmt: skip


def score_on_cluster(where: str, run_dir: Path, scoring: Scoring, column: str, trust: Trust,
                     progress: Callable[[int, int], None] | None, should_stop: Callable[[], bool] | None,
                     on_phase: Callable[[Phase], None] | None) -> Tallies | None:  # fmt: skip
    """Score every chunk of the scoring's file not scored yet on the cluster at `where`; the merged tallies,
    or None when stopped (what was written is kept: the next start resumes).

    A machine lost half-way fails the pipeline (its copy of the model is not started again where no room
    is left for it); the pipeline then starts again on the machines left, from the chunks not written yet,
    as a resumed scoring does. LOST_TRIES failures in a row without a chunk written between them stop it."""
    from ray.exceptions import RayError, RayTaskError

    failures, total = 0, stream.count_rows(scoring.spec().source)
    with connected(where):
        while True:
            before, threads = len(scoring.state(0).chunks), set(threading.enumerate())
            try:
                return _pipeline(
                    where, run_dir, scoring, (column, trust, total), (progress, should_stop, on_phase)
                )
            except RayError as exc:
                if isinstance(exc, RayTaskError) and isinstance(exc.cause, PlainError):
                    raise exc.cause from None  # a message for a person, from the chunk's own checks
                failures = 0 if len(scoring.state(0).chunks) > before else failures + 1
                if failures >= LOST_TRIES:
                    error = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                    raise ClusterError(tr(LOST, address=where, tries=LOST_TRIES, error=error)) from None
                time.sleep(1.0)
            finally:
                _wind_down(threads)


class _Written:
    """What this process has written of a scoring: each chunk's part file, and its progress after each."""

    def __init__(self, scoring: Scoring):
        state = scoring.state(0)
        self.scoring = scoring
        self.done, self.written, self.seen = set(state.chunks), dict(state.written), state.rows
        self.tallies = Tallies.from_json(state.tallies) if state.tallies is not None else Tallies()

    def add(self, row: dict) -> int:
        """Write one scored chunk (unless it is written already); returns the rows read so far."""
        index = int(row["index"])
        if index in self.done:  # written already (sent again after a machine was lost)
            return self.seen
        part = Tallies.from_json(json.loads(row["tallies"]))
        self.scoring.write_part(index, row["part"])
        self.tallies.merge(part)
        self.done.add(index)
        self.seen += part.rows
        self.written[str(index)] = time.time()
        state = ScoringState(sorted(self.done), self.tallies.to_json(), self.seen, self.written)
        self.scoring.write_state(state, 0)
        return self.seen


def _wind_down(before: set[threading.Thread]) -> None:
    """Wait (WIND_DOWN_SECONDS at most) for the threads a pipeline started to end once its iterator is
    closed. Ray Data's threads that pass blocks on outlive a closed iterator for a moment, and one that
    reaches Ray after the process has disconnected (ray.shutdown) ends the whole process with status 1
    (seen when a scoring stopped half-way, 2026-12-07). Its block prefetcher is not waited for: it stays
    parked, touching nothing, until it is collected."""
    deadline = time.monotonic() + WIND_DOWN_SECONDS
    for thread in set(threading.enumerate()) - before:
        # Ray's own threads seen from Python (threading._DummyThread) cannot be joined: passed over
        if thread.name != PARKED and not isinstance(thread, threading._DummyThread):
            thread.join(max(0.0, deadline - time.monotonic()))


def _pipeline(where: str, run_dir: Path, scoring: Scoring, what: tuple, told: tuple) -> Tallies | None:
    """One run of the pipeline over the chunks not written yet, on the machines alive now. `what` is (the
    text column, the trust thresholds, the file's rows), `told` (progress, should_stop, on_phase)."""
    import ray

    (column, trust, total), (progress, should_stop, on_phase) = what, told
    spec = scoring.spec()
    out = _Written(scoring)
    cluster = plan(where)
    if on_phase:
        on_phase(Phase(ON_CLUSTER, values={"nodes": cluster.nodes, "copies": cluster.copies}))
    chunks = max(1, math.ceil(total / spec.chunk_rows))
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True  # the tallies merge in file order, as here
    context.enable_progress_bars = False
    reads = min(chunks, cluster.copies * READS_PER_COPY)
    data = ray.data.read_datasource(_datasource(spec, out.done, reads, chunks), num_cpus=0)
    # from one copy up to the plan's: a machine that is leaving (or copies of a failed try still shutting
    # down) never keeps the pipeline waiting for room
    copies = ray.data.ActorPoolStrategy(min_size=1, max_size=cluster.copies, initial_size=cluster.copies)
    with warnings.catch_warnings():  # max_restarts is passed as Ray's own comments say (named in Ray 2.64)
        warnings.simplefilter("ignore", DeprecationWarning)
        scored = data.map_batches(ChunkCopy, batch_size=1, compute=copies, num_cpus=cluster.cpus,
                                  num_gpus=cluster.gpus or None, zero_copy_batch=True, max_restarts=0,
                                  max_task_retries=0,
                                  fn_constructor_args=(str(run_dir), cluster.cpus, column, asdict(spec), trust))  # fmt: skip
    rows = iter(scored.iter_rows())
    try:
        for row in rows:
            seen = out.add(row)
            if progress:
                progress(min(seen, max(total, seen)), max(total, seen))
            if should_stop and should_stop():
                return None
    finally:
        getattr(rows, "close", lambda: None)()  # the pipeline and its copies stop here, even on a failure
    return out.tallies
