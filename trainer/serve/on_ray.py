"""`python -m trainer serve RUN --ray ADDRESS`: the same service (its routes, tokens, rate limit, metrics and
monitor feed: trainer.serve.server.build_app, unchanged) as a Ray Serve application on a cluster.

Each replica is a Ray actor that builds the app and loads the run's model once (a GPU each where the
cluster has GPUs, else INSIGHT_RAY_CPUS_PER_COPY CPUs of a node). Concurrent requests to a replica are
gathered into forward passes by Ray Serve's request batching (`serve.batch`, counted in texts, up to
--max-batch texts or --max-wait-ms); a pass that fails is run again request by request, so a text that
breaks it fails its own request only, as in the service on one machine. Ray Serve's autoscaling adds
replicas while the requests waiting per replica stay above --target-ongoing-requests and removes them
when idle, between --min-replicas and --max-replicas; a replica lost with its process or machine is
started again by Ray Serve while the others keep answering.

What replicas share lives where every machine reaches it: the tokens, the rate count and the monitor on
the PostgreSQL server INSIGHT_DATABASE_URL names (else in the runs folder on shared storage). /metrics
answers with the counts of the replica that answers it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ray import serve

from trainer.serve.service import GATHERERS
from trainer.serve.settings import ServeConfig


def _texts(requests: list[list]) -> int:
    return sum(len(r) for r in requests)


class RayPasses:
    """What trainer.serve.passes.PassGatherer does, with Ray Serve's batching: the texts of concurrent
    requests of one replica in one forward pass of `run`; `on_pass(n)` told the texts of each pass."""

    def __init__(self, run: Callable[[list], list], max_texts: int = 32, max_wait_ms: float = 5.0,
                 on_pass: Callable[[int], None] | None = None) -> None:  # fmt: skip
        self.run, self.on_pass, self.max_texts = run, on_pass, max(1, max_texts)
        self.pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="insight-model")
        self._pass.set_max_batch_size(self.max_texts)
        self._pass.set_batch_wait_timeout_s(max(0.0, max_wait_ms) / 1000)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self.pool.shutdown(wait=True)

    async def submit(self, items: Sequence[Any]) -> list:
        """One request's results; a request of more texts than a pass holds goes in parts (Ray Serve's
        batching refuses an item larger than the batch)."""
        items, results = list(items), []
        for start in range(0, max(1, len(items)), self.max_texts):
            ok, value = await self._pass(items[start : start + self.max_texts])
            if not ok:
                raise value
            results += value
        return results

    @serve.batch(max_batch_size=32, batch_wait_timeout_s=0.005, batch_size_fn=_texts)
    async def _pass(self, requests: list[list]) -> list[tuple[bool, Any]]:
        loop = asyncio.get_running_loop()
        flat = [item for items in requests for item in items]
        try:
            results = await loop.run_in_executor(self.pool, self.run, flat)
        except Exception:  # noqa: BLE001 - each request again on its own: only the one that breaks fails
            return [await self._alone(items) for items in requests]
        if self.on_pass:
            self.on_pass(len(flat))
        answers, start = [], 0
        for items in requests:
            answers.append((True, results[start : start + len(items)]))
            start += len(items)
        return answers

    async def _alone(self, items: list) -> tuple[bool, Any]:
        try:
            results = await asyncio.get_running_loop().run_in_executor(self.pool, self.run, items)
        except Exception as exc:  # noqa: BLE001 - this request's own failure
            return False, exc
        if self.on_pass:
            self.on_pass(len(items))
        return True, results


GATHERERS["ray"] = RayPasses


@dataclass(frozen=True)
class Scaling:
    """Ray Serve's autoscaling of the service's replicas."""

    min_replicas: int = 1
    max_replicas: int = 2
    target_ongoing_requests: float = 2.0
    upscale_delay_s: float = 5.0
    downscale_delay_s: float = 60.0


def _app(values: dict) -> Any:
    """Built on each replica: the service's ASGI app with Ray Serve's batching."""
    from trainer.serve.server import build_app

    return build_app(ServeConfig(**values))


def app_name(config: ServeConfig) -> str:
    return f"insight-{config.key}"


def deploy(config: ServeConfig, plan: Any, scaling: Scaling, host: str, port: int) -> None:
    """The service as a Ray Serve application on the connected cluster, answering on host:port."""

    values = {**asdict(config), "batching": "ray"}

    def build() -> Any:  # a function (not a partial): Ray Serve calls it on each replica to build the app
        return _app(values)

    @serve.ingress(build)
    class Replica:
        pass

    actor = {"num_cpus": 0.0, "num_gpus": 1.0} if plan.gpus >= 1 else {"num_cpus": plan.cpus}
    deployment = serve.deployment(
        Replica, name="service", ray_actor_options=actor, max_ongoing_requests=max(8, 4 * config.max_pass_texts),
        autoscaling_config={"min_replicas": scaling.min_replicas, "max_replicas": scaling.max_replicas,
                            "target_ongoing_requests": scaling.target_ongoing_requests,
                            "upscale_delay_s": scaling.upscale_delay_s,
                            "downscale_delay_s": scaling.downscale_delay_s},
    )  # fmt: skip
    serve.start(http_options={"host": host, "port": port}, proxy_location="HeadOnly")
    serve.run(deployment.bind(), name=app_name(config), route_prefix="/", blocking=False)


def serve_until_stopped(config: ServeConfig, where: str, scaling: Scaling, host: str, port: int,
                        ready: Callable[[str], None]) -> None:  # fmt: skip
    """Deploy, say so (`ready`), and keep the application up until Ctrl-C or SIGTERM; then remove it."""
    from trainer.runs import cluster

    stopping = []
    with cluster.connected(where):
        plan = cluster.plan(where)
        # after ray.init, whose own handler would abort the process: SIGTERM stops it as Ctrl-C does
        previous = signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        try:
            _refuse_another(where)
            deploy(config, plan, scaling, host, port)
            ready(f"http://{host}:{port}")
            while not stopping:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            if app_name(config) in serve.status().applications:
                serve.delete(app_name(config))  # this service only, never another's
            if not [name for name in serve.status().applications if name]:
                serve.shutdown()  # its proxy too, so the next service answers on the port it is given
            signal.signal(signal.SIGTERM, previous)


def _refuse_another(where: str) -> None:
    """One Insight service per cluster: Ray Serve answers on one address, and the service takes its root."""
    from trainer.i18n import tr
    from trainer.runs.cluster import ClusterError

    others = [name for name in serve.status().applications if name]
    if others:
        raise ClusterError(tr("The Ray cluster at {address} serves {names} already: stop it first (Ctrl-C or "
                              "SIGTERM where it was started).", address=where, names=", ".join(sorted(others))))  # fmt: skip
