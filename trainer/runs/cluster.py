"""A run's model on a Ray cluster: where the cluster is, how many copies of the model it holds, and the actors
that hold them.

A cluster is used when its address is given (`--ray ADDRESS`) or set (`INSIGHT_RAY_ADDRESS`); without one
nothing here is imported and scoring stays in the process. The address is what `ray.init` takes: the head's
`HOST:6379` when this machine is a node of the cluster (`ray start --address HOST:6379`), or
`ray://HOST:10001` through Ray Client. Every node reads the run's model and the file being scored at the
same path as this machine: the runs folder is on shared storage.

Each actor loads the run's model once and scores whatever it is sent: a GPU each where the cluster has
GPUs, else one actor per `cpus` CPUs. An actor lost with its machine is not started again in place (a
cluster at full use has no room for it, and Ray would wait for room forever): the work it held fails, and
is started again over the machines left, so a lost machine slows a scoring but loses no row. File scoring runs as a Ray Data pipeline (`trainer.apply.cluster_scoring`); a
monitor's batches, scored a slice at a time as they are set aside, use a pool of the same actors that lives
as long as the batch (`ClusterScorer`).
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from trainer.errors import PlainError
from trainer.i18n import tr

ENV = "INSIGHT_RAY_ADDRESS"
CPUS_ENV = "INSIGHT_RAY_CPUS_PER_COPY"  # CPUs per copy of the model on a cluster without GPUs
DEFAULT_CPUS = 4  # a BERT-size model's batches keep about four threads busy; more copies beat more threads
BLOCK_TEXTS = 256  # texts per request to one actor (a monitor batch's slices)
REACH_SECONDS = 5.0  # how long the cluster's address may take to answer before it is called unreachable
TRIES = 3  # calls of a monitor's slice of texts before a cluster that keeps losing its copies is given up


_CONNECTED: dict[str, str] = {}  # the address this process connected to (ray.init holds one at a time)


class ClusterError(PlainError):
    """The cluster could not be reached or has no room for a copy of the model (said in words)."""


def address(given: str | None = None) -> str | None:
    """The cluster to use: the one given, else INSIGHT_RAY_ADDRESS; None: score here."""
    return (given or os.environ.get(ENV) or "").strip() or None


@dataclass(frozen=True)
class Plan:
    """How a scoring spreads over the cluster: `copies` actors of `cpus` CPUs (and `gpus` GPUs) each."""

    address: str
    nodes: int
    copies: int
    cpus: float
    gpus: float


@contextlib.contextmanager
def connected(where: str) -> Iterator[None]:
    """Connected to the cluster at `where` (disconnected after, when this connected)."""
    import ray

    ours = _connect(where)
    try:
        yield
    finally:
        if ours:
            ray.shutdown()
            _CONNECTED.clear()


def _reachable(where: str) -> None:
    """Refuse an address nothing answers on, at once (Ray itself would keep trying for minutes)."""
    host, _, port = where.removeprefix("ray://").rstrip("/").rpartition(":")
    try:
        with socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=REACH_SECONDS):
            return
    except ValueError:
        error = tr("it is not HOST:PORT or ray://HOST:PORT")
    except OSError as exc:
        error = exc.strerror or type(exc).__name__
    raise ClusterError(
        tr("The Ray cluster at {address} could not be reached: {error}", address=where, error=error)
    )


def _connect(where: str) -> bool:
    """This process connected to the cluster at `where`; False when it was already (nothing to undo). A
    process holds one connection: one to another cluster is closed first."""
    import ray

    _reachable(where)
    if ray.is_initialized():
        if _CONNECTED.get("address") == where:
            return False
        ray.shutdown()
    _CONNECTED.clear()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        ray.init(address=where, log_to_driver=False, logging_level="ERROR", include_dashboard=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        error = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ClusterError(
            tr("The Ray cluster at {address} could not be reached: {error}", address=where, error=error)
        ) from None
    _CONNECTED["address"] = where
    return True


def plan(where: str) -> Plan:
    """The copies of the model the cluster's alive nodes hold: one per GPU, else one per `cpus` CPUs of a
    node (each node at least one)."""
    import ray

    nodes = [n for n in ray.nodes() if n.get("Alive")]
    gpus = sum(float(n["Resources"].get("GPU", 0)) for n in nodes)
    if gpus >= 1:
        return Plan(where, len(nodes), int(gpus), 1.0, 1.0)
    wanted = max(1, int(os.environ.get(CPUS_ENV, DEFAULT_CPUS)))
    per_node = [float(n["Resources"].get("CPU", 0)) for n in nodes]
    usable = [c for c in per_node if c >= 1]
    if not usable:
        raise ClusterError(
            tr("The Ray cluster at {address} has no node with a CPU free to score.", address=where)
        )
    cpus = float(min(wanted, min(usable)))
    return Plan(where, len(nodes), int(sum(c // cpus for c in usable)), cpus, 0.0)


class ModelCopy:
    """One copy of a run's model on a node of the cluster (a Ray actor): loaded once, then scores."""

    def __init__(self, run_dir: str, threads: float = 1.0, variant: str | None = None):
        import torch

        from trainer.runs.predictor import RunModel

        if torch.get_num_threads() != max(1, int(threads)):
            torch.set_num_threads(max(1, int(threads)))
        self.model = RunModel.load(Path(run_dir), variant=variant)

    def labels(self) -> list[str] | None:
        """The labels its probabilities come in (None where a text has none: entities)."""
        return self.model.probability_labels

    def texts(self, texts: list[str]) -> tuple[list, list, Any]:
        """(labels, confidences, probabilities or None) of the texts, as `trainer.monitor.scorers` gives."""
        scored = self.model.score(texts)
        return scored.labels, scored.confidence.tolist(), scored.probabilities


class ClusterScorer:
    """A monitor's scorer on the cluster: texts -> (labels, confidences, probabilities), in their order,
    spread over the plan's copies of the model in slices of BLOCK_TEXTS. The copies live as long as the
    scorer; the connection as long as this process (as a database connection would). A copy lost with its
    machine fails the call; the call is made again over copies started on the machines left (TRIES calls)."""

    def __init__(self, run_dir: str | Path, where: str, variant: str | None = None):
        import ray

        _connect(where)
        self.where, self.run_dir, self.variant = where, str(Path(run_dir).resolve()), variant
        self._start()
        self.labels = ray.get(self._actors[0].labels.remote())

    def _start(self) -> None:
        import ray
        from ray.util import ActorPool

        self.plan = plan(self.where)
        remote = ray.remote(num_cpus=self.plan.cpus, num_gpus=self.plan.gpus, max_restarts=0)(ModelCopy)
        self._actors = [
            remote.remote(self.run_dir, self.plan.cpus, self.variant) for _ in range(self.plan.copies)
        ]
        self._pool = ActorPool(self._actors)

    def __call__(self, texts: list[str]) -> tuple:
        from ray.exceptions import RayActorError

        for tries in range(1, TRIES + 1):
            try:
                return self._score(texts)
            except RayActorError as exc:
                if tries == TRIES:
                    raise ClusterError(tr("The Ray cluster at {address} lost the copies of the model {tries} "
                                          "times in a row ({error}).", address=self.where, tries=TRIES,
                                          error=type(exc).__name__)) from None  # fmt: skip
                self._start()
        raise AssertionError("unreachable")

    def _score(self, texts: list[str]) -> tuple:
        slices = [texts[i : i + BLOCK_TEXTS] for i in range(0, len(texts), BLOCK_TEXTS)]
        labels: list = []
        confidence: list = []
        probabilities: list = []
        for got in self._pool.map(lambda actor, part: actor.texts.remote(part), slices):
            labels += got[0]
            confidence += got[1]
            probabilities.append(got[2])
        if self.labels is None:
            return labels, confidence
        if not slices:
            return labels, confidence, np.zeros((0, len(self.labels)))
        return labels, confidence, np.concatenate(probabilities)
