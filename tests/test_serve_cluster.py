"""`serve --ray`: the service as a Ray Serve application on a two-node cluster on this machine. It answers
the contract of the service on one machine (health, info, predictions equal to the run's own), adds a
replica under load and removes it when idle, and a replica killed under load is replaced while the other
keeps answering, no request lost beyond those in flight. The cluster, the service (the command line) and
every Ray driver run in processes of their own (tests/ray_kit.py)."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest
from ray_kit import local_cluster
from test_apply_cluster import answer, on_cluster

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def cluster():
    with local_cluster(2) as running:
        yield running


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """`python -m trainer serve RUN --ray ADDRESS ...` in its own session; `url`, `log()`, `stop()`."""

    def __init__(self, run_dir: Path, address: str, *options: str) -> None:
        self.port, self.address = free_port(), address
        self.url = f"http://127.0.0.1:{self.port}"
        self.logged = (run_dir.parent / f"serve-{self.port}.log").open("w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "trainer", "serve", str(run_dir), "--ray", address, "--port", str(self.port),
             "--no-tokens", *options],
            cwd=ROOT, stdout=self.logged, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "INSIGHT_RAY_CPUS_PER_COPY": "1"},
        )  # fmt: skip
        deadline = time.time() + 240
        while not self.healthy():
            assert self.proc.poll() is None and time.time() < deadline, self.log()
            time.sleep(0.5)

    def healthy(self) -> bool:
        try:
            return httpx.get(self.url + "/health", timeout=2).json().get("status") == "ok"
        except (httpx.HTTPError, ValueError):
            return False

    def log(self) -> str:
        self.logged.seek(0)
        return self.logged.read()[-4000:]

    def replicas(self) -> int:
        return answer(on_cluster("replicas", self.address, f"insight-{self.port}"), timeout=120)["running"]

    def stop(self) -> str:
        """SIGTERM, as a service manager stops it; returns what it printed."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(90)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)
        said = self.log()
        self.logged.close()
        return said


def until(condition, timeout: float, every: float = 1.0) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


class Load:
    """`clients` threads posting texts in a loop until stopped; every answer's (time, status) kept."""

    def __init__(self, url: str, clients: int) -> None:
        self.url, self.answers, self.stopping = url, [], threading.Event()
        self.pool = concurrent.futures.ThreadPoolExecutor(clients)
        self.futures = [self.pool.submit(self._client, i) for i in range(clients)]

    def _client(self, i: int) -> None:
        with httpx.Client(timeout=60) as client:
            while not self.stopping.is_set():
                try:
                    reply = client.post(
                        self.url + "/predict", json={"inputs": [f"text {i} {time.time()}"] * 4}
                    )
                    self.answers.append((time.time(), reply.status_code, reply.text[:300]))
                except httpx.HTTPError as exc:
                    self.answers.append((time.time(), 0, str(exc)))

    def stop(self) -> list[tuple]:
        self.stopping.set()
        for future in self.futures:
            future.result(120)
        self.pool.shutdown()
        return self.answers


def test_the_service_on_the_cluster_answers_its_contract_and_scales_with_the_load(tiny_text_run, cluster):
    from trainer.runs.predictor import RunModel

    served = Served(tiny_text_run, cluster.address, "--min-replicas", "1", "--max-replicas", "2",
                    "--target-ongoing-requests", "1", "--upscale-delay", "1", "--downscale-delay", "4")  # fmt: skip
    try:
        texts = ["a great phone, works well", "broke after a day, awful", "it is a phone"]
        body = httpx.post(served.url + "/predict", json={"inputs": texts}, timeout=60).json()
        here = RunModel.load(tiny_text_run).predict(texts)
        assert [p[0]["label"] for p in body["predictions"]] == here.labels, body
        assert [p[0]["score"] for p in body["predictions"]] == pytest.approx(list(here.confidence), abs=1e-4)
        many = httpx.post(
            served.url + "/predict", json={"inputs": [f"text {i}" for i in range(40)]}, timeout=60
        )
        assert many.status_code == 200 and len(many.json()["predictions"]) == 40, "more texts than one pass"
        info = httpx.get(served.url + "/info", timeout=30).json()
        assert info["labels"] == here.class_names
        assert served.replicas() == 1
        load = Load(served.url, 16)
        grew = until(lambda: served.replicas() == 2, timeout=90)
        answers = load.stop()
        assert grew, "a second replica under the load of 16 clients"
        assert answers and {status for _, status, _ in answers} == {200}, answers[-3:]
        assert until(lambda: served.replicas() == 1, timeout=90), "back to one replica once idle"
    finally:
        said = served.stop()
    assert "on the Ray cluster" in said and "1 to 2 replicas" in said, said
    assert served.proc.returncode == 0, "stopped cleanly, the application removed"


def replica_processes() -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if " ".join(process.info["cmdline"] or []).startswith("ray::ServeReplica"):
            found.append(process)
    return found


def test_a_replica_killed_under_load_is_replaced_and_only_requests_in_flight_fail(tiny_text_run, cluster):
    clients = 8
    served = Served(tiny_text_run, cluster.address, "--min-replicas", "2", "--max-replicas", "2")
    try:
        assert until(lambda: served.replicas() == 2, timeout=90)
        load = Load(served.url, clients)
        time.sleep(3)
        victims = replica_processes()
        assert len(victims) == 2
        killed = time.time()
        os.kill(victims[0].pid, signal.SIGKILL)
        time.sleep(8)
        answers = load.stop()
        assert until(lambda: served.replicas() == 2, timeout=120), "the lost replica is started again"
    finally:
        served.stop()
    failed = [a for a in answers if a[1] != 200]
    assert len(failed) <= clients, f"only the requests in flight fail: {failed[:3]}"
    assert all(a[1] >= 500 and a[2] for a in failed), failed[:3]
    after = [a for a in answers if a[0] > killed + 1]
    assert sum(a[1] == 200 for a in after) >= 10, "the other replica kept answering"
