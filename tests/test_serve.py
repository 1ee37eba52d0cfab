"""The HTTP service, started as a person would (`python -m trainer serve`): the API contract for both
tasks, the same predictions as `trainer predict`, tokens, every bad request a 4xx that says what to fix,
served texts in a monitor, /metrics, and a graceful shutdown that loses no accepted request."""

from __future__ import annotations

import concurrent.futures
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest
from browser_kit import free_port
from cli_kit import trainer_cli
from helpers import conll_file, sentiment_csv

ROOT = Path(__file__).resolve().parent.parent


def fit(runs_dir: Path, data: Path, model: Path) -> str:
    done = trainer_cli("fit", data, "--model", model, "--max-steps", "3", "--quiet", runs_dir=runs_dir)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


class Server:
    def __init__(self, runs_dir: Path, run: str, *extra: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (runs_dir / f"serve-{self.port}.log").open("w+")
        self.proc = subprocess.Popen([sys.executable, "-m", "trainer", "serve", run, "--port", str(self.port),
                                      "--runs-dir", str(runs_dir), *extra], cwd=ROOT, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        deadline = time.time() + 240
        while time.time() < deadline:
            assert self.proc.poll() is None, self.output()
            try:
                if httpx.get(self.url + "/health", timeout=2).json().get("status") == "ok":
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise AssertionError("the service did not start: " + self.output())

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()[-4000:]

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait()


def sent_while_stopped(port: int, body: dict) -> socket.socket:
    """A POST /predict written whole into a connection to `port` (the kernel takes the connection and the
    bytes while the service's process is stopped); its answer is read by `answer_of`."""
    data = json.dumps(body).encode()
    connection = socket.create_connection(("127.0.0.1", port), timeout=120)
    head = (f"POST /predict HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n")  # fmt: skip
    connection.sendall(head.encode() + data)
    return connection


def answer_of(connection: socket.socket) -> tuple[int, dict]:
    """The status and JSON body of the answer on `connection` (read to its end, then closed)."""
    with connection:
        raw = b"".join(iter(lambda: connection.recv(65536), b""))
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


@pytest.fixture(scope="module")
def served(tmp_path_factory, tiny_model_dir):
    runs_dir = tmp_path_factory.mktemp("serve-runs")
    work = tmp_path_factory.mktemp("serve-data")
    run = fit(runs_dir, sentiment_csv(work / "s.csv", n=60), tiny_model_dir)
    secret = trainer_cli("tokens", "create", "ci", runs_dir=runs_dir).stdout.strip().splitlines()[0]
    assert trainer_cli("monitor", "create", "live", "--run", run, "--text-column", "text", "--time-column",
                       "time", runs_dir=runs_dir).returncode == 0  # fmt: skip
    server = Server(runs_dir, run, "--monitor", "live", "--max-wait-ms", "20")
    try:
        yield server, runs_dir, run, {"Authorization": f"Bearer {secret}"}, work
    finally:
        server.stop()


def test_predict_answers_in_the_pipeline_shape_and_equals_trainer_predict(served):
    server, runs_dir, run, auth, work = served
    texts = ["great product, works well", "terrible, it broke at once", "it is fine I guess"]
    one = httpx.post(server.url + "/predict", json={"inputs": texts[0]}, headers=auth, timeout=60)
    assert one.status_code == 200, one.text
    body = one.json()
    assert (
        isinstance(body["trusted"], bool)
        and [set(p) for p in body["predictions"]] == [{"label", "score"}] * 3
    )
    scores = [p["score"] for p in body["predictions"]]
    assert scores == sorted(scores, reverse=True) and abs(sum(scores) - 1) < 1e-5
    many = httpx.post(server.url + "/predict", json={"inputs": texts}, headers=auth, timeout=60).json()
    assert len(many["predictions"]) == 3 and len(many["trusted"]) == 3
    (work / "t.csv").write_text(pd.DataFrame({"text": texts}).to_csv(index=False))
    expected = pd.read_csv(io.StringIO(trainer_cli("predict", run, work / "t.csv", runs_dir=runs_dir).stdout))
    for row, answer in zip(expected.itertuples(), many["predictions"], strict=True):
        assert answer[0]["label"] == row.predicted
        for item in answer:
            assert abs(item["score"] - getattr(row, f"p_{item['label']}")) < 1e-4
    info = httpx.get(server.url + "/info", headers=auth, timeout=30).json()
    assert info["task"] == "text" and info["run"] == Path(run).name and len(info["model_sha256"]) == 64
    assert info["precision"] in ("float32", "bf16", "bfloat16")
    explained = httpx.post(
        server.url + "/explain", json={"inputs": texts[1]}, headers=auth, timeout=120
    ).json()
    record = explained["explanations"][0]
    assert record["text"] == texts[1] and len(record["words"]) == len(record["scores"]) > 0


def test_without_a_token_or_with_a_revoked_one_the_answer_is_401(served):
    server, runs_dir, _, auth, _ = served
    assert httpx.post(server.url + "/predict", json={"inputs": "hi"}, timeout=30).status_code == 401
    wrong = httpx.post(
        server.url + "/predict", json={"inputs": "hi"}, headers={"Authorization": "Bearer nope"}, timeout=30
    )
    assert wrong.status_code == 401 and "token" in wrong.json()["error"]
    other = trainer_cli("tokens", "create", "temporary", runs_dir=runs_dir).stdout.strip().splitlines()[0]
    header = {"Authorization": f"Bearer {other}"}
    assert (
        httpx.post(server.url + "/predict", json={"inputs": "hi"}, headers=header, timeout=30).status_code
        == 200
    )
    assert trainer_cli("tokens", "revoke", "temporary", runs_dir=runs_dir).returncode == 0
    assert (
        httpx.post(server.url + "/predict", json={"inputs": "hi"}, headers=header, timeout=30).status_code
        == 401
    )
    listed = trainer_cli("tokens", "list", runs_dir=runs_dir).stdout
    assert "temporary" in listed and "REVOKED" in listed and other not in listed
    assert httpx.get(server.url + "/health", timeout=30).status_code == 200  # for load balancers, no token


def test_every_bad_request_is_a_4xx_that_says_what_to_fix_and_the_service_keeps_answering(served):
    server, _, _, auth, _ = served

    def post(headers: dict | None = None, **kw):
        return httpx.post(server.url + "/predict", headers=auth | (headers or {}), timeout=120, **kw)

    cases = [
        (post(content=b"not json", headers={"Content-Type": "application/json"}), 400, "not JSON"),
        (post(json={"inputs": 5}), 422, "inputs"),
        (post(json={"text": "hi"}), 422, "inputs"),
        (post(json={"inputs": []}), 422, "empty list"),
        (post(json={"inputs": ["x"] * 300}), 413, "limit of 256"),
        (post(json={"inputs": "x" * 30_000}), 413, "limit of 20,000"),
        (post(json={"inputs": ["fine", "  "]}), 422, "Text 1 is empty"),
        (post(content=b"x" * (50 * 1024 * 1024), headers={"Content-Type": "application/json"}), 413, "MB"),
    ]
    for answer, status, said in cases:
        assert answer.status_code == status, (status, answer.text[:300])
        assert said in answer.json()["error"], answer.json()
    target = httpx.post(
        server.url + "/explain", json={"inputs": "ok", "target": "nope"}, headers=auth, timeout=60
    )
    assert target.status_code == 422 and "Unknown target" in target.json()["error"]
    assert post(json={"inputs": "still here"}).status_code == 200


def test_served_texts_arrive_in_the_monitor_and_metrics_count_them(served):
    server, runs_dir, _, auth, _ = served
    from trainer.monitor import monitor as monitors

    texts = [f"served text number {i}, quite good" for i in range(12)]
    assert (
        httpx.post(server.url + "/predict", json={"inputs": texts}, headers=auth, timeout=60).status_code
        == 200
    )
    deadline = time.time() + 60
    found = set()
    while time.time() < deadline and not set(texts) <= found:
        time.sleep(0.5)
        with monitors.Monitor(runs_dir, "live").store.connect() as con:
            found = {b for (b,) in con.execute("SELECT body FROM scored").fetchall()}
    assert set(texts) <= found
    metrics = httpx.get(server.url + "/metrics", headers=auth, timeout=30).text
    assert 'insight_requests_total{endpoint="/predict",status="200"}' in metrics
    assert "insight_batch_size_bucket" in metrics and "insight_predicted_total{label=" in metrics
    texts_total = next(
        float(line.split()[-1]) for line in metrics.splitlines() if line.startswith("insight_texts_total")
    )
    assert texts_total >= 12
    assert "insight_monitor_rows_total" in metrics


def test_concurrent_requests_are_batched_and_a_shutdown_loses_no_accepted_request(tmp_path, tiny_model_dir):
    runs_dir = tmp_path / "runs"
    run = fit(runs_dir, sentiment_csv(tmp_path / "s.csv", n=60), tiny_model_dir)
    server = Server(runs_dir, run, "--no-tokens", "--max-wait-ms", "50")
    try:
        # one wave, arriving together by construction: sent while the service is stopped, so all 16 wait in
        # its sockets when it goes on (16 threads of clients, on a loaded machine, arrived one by one, and a
        # lone request rightly starts its pass at once: CI run here, 2026-12-08, 16 passes of 4)
        os.killpg(server.proc.pid, signal.SIGSTOP)
        try:
            wave = [sent_while_stopped(server.port, {"inputs": [f"t {i}"] * 4}) for i in range(16)]
        finally:
            os.killpg(server.proc.pid, signal.SIGCONT)
        answers = [answer_of(connection) for connection in wave]
        assert [status for status, _ in answers] == [200] * 16
        assert all(len(body["predictions"]) == 4 for _, body in answers)
        metrics = httpx.get(server.url + "/metrics", timeout=30).text
        value = {
            line.split()[0]: float(line.split()[1])
            for line in metrics.splitlines()
            if line.startswith("insight_batch_size_")
        }
        assert (
            value["insight_batch_size_sum"] == 64 and value["insight_batch_size_count"] < 16
        )  # more than 4 per pass
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            long = " ".join(["a long text about an order that came late and broke"] * 8)
            sent = [pool.submit(httpx.post, server.url + "/predict", json={"inputs": [f"{long} {i}"] * 64}, timeout=120)
                    for i in range(24)]  # fmt: skip
            time.sleep(1.5)  # the first requests are accepted and queued behind each other's passes
            server.proc.send_signal(signal.SIGTERM)  # while requests are in flight
            answers = []
            for future in sent:
                try:
                    answers.append(future.result())
                except httpx.TransportError:
                    answers.append(None)  # refused before it was accepted: the port was closed
        accepted = [a for a in answers if a is not None]
        assert len(accepted) >= 2 and all(a.status_code == 200 for a in accepted), [
            a.status_code for a in accepted
        ]
        assert all(len(a.json()["predictions"]) == 64 for a in accepted)
        assert server.proc.wait(60) in (0, -signal.SIGTERM)  # uvicorn ends with the signal it drained on
    finally:
        server.stop()
    batches = json.dumps(server.output())
    assert "Traceback" not in batches


def test_an_entity_run_answers_in_the_token_classification_shape(tmp_path, tiny_model_dir):
    runs_dir = tmp_path / "runs"
    run = fit(runs_dir, conll_file(tmp_path / "n.conll", n=40), tiny_model_dir)
    server = Server(runs_dir, run, "--no-tokens")
    try:
        text = "Anna Schmidt flew from Berlin to Paris"
        answer = httpx.post(server.url + "/predict", json={"inputs": [text]}, timeout=60)
        assert answer.status_code == 200, answer.text
        spans = answer.json()["predictions"][0]
        assert isinstance(spans, list)
        for span in spans:
            assert set(span) == {"entity_group", "score", "word", "start", "end"}
            assert text[span["start"] : span["end"]] == span["word"]
        assert httpx.get(server.url + "/info", timeout=30).json()["task"] == "entities"
    finally:
        server.stop()


def test_serving_without_tokens_beyond_this_machine_is_refused(tmp_path):
    done = trainer_cli("serve", "whatever", "--no-tokens", "--host", "0.0.0.0", runs_dir=tmp_path / "runs")
    assert done.returncode == 2 and done.stderr.startswith(
        "error: Serving without tokens is only for 127.0.0.1"
    )


def test_each_worker_claims_its_own_gpu():
    from trainer.serve import workers as app

    key = f"test-{time.time_ns()}"
    assert app.claim_gpu(1, key) is None  # one GPU or none: nothing to share out
    assert [app.claim_gpu(3, key) for _ in range(3)] == [0, 1, 2]
    assert app.claim_gpu(3, key) in (0, 1, 2)  # a fourth worker shares one


def test_a_token_past_its_rate_is_refused_until_the_minute_refills(monkeypatch):
    from trainer.serve import rate as limits

    now = [1000.0]
    monkeypatch.setattr(limits.time, "monotonic", lambda: now[0])
    buckets: dict = {}
    assert all(limits.allowed(buckets, "ci", 3) for _ in range(3))
    assert not limits.allowed(buckets, "ci", 3) and limits.allowed(buckets, "other", 3)
    now[0] += 20  # a third of a minute: one request's worth
    assert limits.allowed(buckets, "ci", 3) and not limits.allowed(buckets, "ci", 3)
