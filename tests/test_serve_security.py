"""The service under hostile or unlucky requests: a text that breaks a forward pass fails only its own
request, every refusal (the framework's own included) is {"error": ...}, a chunked body past the limit is
413, a token serves only the runs its person may see, and the rate limit is one count for every worker.

Servers run in this process (uvicorn in a thread, on 127.0.0.1 and a free port) over a private copy of the
tiny run, so a test can change the run's owner or patch its model without touching anyone else's."""

from __future__ import annotations

import concurrent.futures
import contextlib
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from browser_kit import free_port

ROOT = Path(__file__).resolve().parent.parent
POISON = "POISON-TEXT"


@pytest.fixture
def run_copy(tmp_path: Path, tiny_text_run: Path) -> Path:
    """A private copy of the tiny finished run, in a runs folder of its own."""
    target = tmp_path / "runs" / tiny_text_run.name
    shutil.copytree(tiny_text_run, target)
    return target


@contextlib.contextmanager
def serving(run_dir: Path, **settings) -> Iterator[str]:
    """The service of `run_dir` on 127.0.0.1 in a thread of this process; yields its URL."""
    import uvicorn

    from trainer.serve.server import build_app
    from trainer.serve.settings import ServeConfig

    config = ServeConfig(run=str(run_dir), runs_dir=str(run_dir.parent), **settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(build_app(config), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))  # fmt: skip
    thread = threading.Thread(target=server.run, name="test-serve", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while not server.started:
            assert thread.is_alive() and time.time() < deadline, "the service did not start"
            time.sleep(0.05)
        assert httpx.get(url + "/health", timeout=10).json()["status"] == "ok"
        yield url
    finally:
        server.should_exit = True
        thread.join(60)
        assert not thread.is_alive(), "the service did not stop"


def is_error(answer: httpx.Response) -> bool:
    """The service's one shape for a refusal: {"error": "a sentence"} and nothing else."""
    body = answer.json()
    return set(body) == {"error"} and isinstance(body["error"], str) and len(body["error"]) > 10


def test_a_text_utf8_cannot_hold_is_refused_naming_its_field_and_a_concurrent_request_still_answers(run_copy):
    raw = b'{"inputs": ["fine text", "bad \\ud800 text"]}'  # the JSON escape of a lone surrogate
    alone = b'{"inputs": "bad \\ud800 text"}'
    with serving(run_copy, tokens=False, max_wait_ms=300) as url:
        with concurrent.futures.ThreadPoolExecutor(2) as pool:  # sent together: one pass on the old code
            bad = pool.submit(httpx.post, url + "/predict", content=raw,
                              headers={"Content-Type": "application/json"}, timeout=60)  # fmt: skip
            good = pool.submit(httpx.post, url + "/predict", json={"inputs": ["a clean text"]}, timeout=60)
            bad, good = bad.result(), good.result()
        single = httpx.post(url + "/predict", content=alone, headers={"Content-Type": "application/json"},
                            timeout=60)  # fmt: skip
        explained = httpx.post(url + "/explain", content=alone, headers={"Content-Type": "application/json"},
                               timeout=60)  # fmt: skip
    assert good.status_code == 200, good.text
    assert len(good.json()["predictions"]) == 1
    assert bad.status_code == 422 and is_error(bad) and "inputs[1]" in bad.json()["error"], bad.text
    assert "UTF-8" in bad.json()["error"]
    assert single.status_code == 422 and single.json()["error"].startswith("inputs "), single.text
    assert explained.status_code == 422 and is_error(explained), explained.text


def test_a_pass_that_fails_is_answered_again_request_by_request(run_copy, monkeypatch):
    from trainer.runs.predictor import RunModel

    seen: list[list[str]] = []
    real = RunModel.outputs

    def poisoned(self, inputs, *args, **kwargs):
        seen.append([str(i) for i in inputs])
        if any("slow first" in str(i) for i in inputs):
            time.sleep(1.5)  # the next two requests queue while this pass runs, and meet in the one after it
        if any(POISON in str(i) for i in inputs):  # any pass holding the marker text fails, by construction
            raise RuntimeError("this text breaks the forward pass")
        return real(self, inputs, *args, **kwargs)

    monkeypatch.setattr(RunModel, "outputs", poisoned)
    with serving(run_copy, tokens=False, max_wait_ms=1000) as url:
        seen.clear()  # the trust calibration at start-up is not a request
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            # a request that finds the service idle starts its pass at once (no one to wait for): the slow one
            # goes first, alone, and the two sent while it runs are gathered into one pass
            first = pool.submit(httpx.post, url + "/predict", json={"inputs": ["slow first"]}, timeout=60)
            deadline = time.monotonic() + 30
            while not seen and time.monotonic() < deadline:
                time.sleep(0.02)
            sent = [pool.submit(httpx.post, url + "/predict", json={"inputs": [text]}, timeout=60)
                    for text in (f"{POISON} in a text", "a clean text about an order")]  # fmt: skip
            poisoned_answer, clean = (f.result() for f in sent)
            assert first.result().status_code == 200
        after = httpx.post(url + "/predict", json={"inputs": "and the service goes on"}, timeout=60)
    together = [texts for texts in seen if len(texts) == 2]
    assert together, seen  # both requests met in one pass, which failed...
    assert clean.status_code == 200, clean.text  # ...yet the clean one was answered
    assert clean.json()["predictions"][0][0]["label"]
    assert poisoned_answer.status_code == 500 and is_error(poisoned_answer), poisoned_answer.text
    assert after.status_code == 200


def test_every_refusal_has_the_error_shape_the_frameworks_own_included(run_copy):
    json_type = {"Content-Type": "application/json"}
    with serving(run_copy, tokens=False) as url:
        cases = {
            "bad JSON": (httpx.post(url + "/predict", content=b"{not json", headers=json_type, timeout=30), 400),
            "not UTF-8": (httpx.post(url + "/predict", content=b'{"inputs": "caf\xe9 \xff"}', headers=json_type,
                                     timeout=30), 400),
            "deep nesting": (httpx.post(url + "/predict", content=b"[" * 100_000 + b"]" * 100_000,
                                        headers=json_type, timeout=30), 400),
            "wrong method": (httpx.get(url + "/predict", timeout=30), 405),
            "unknown path": (httpx.get(url + "/no/such/place", timeout=30), 404),
            "validation": (httpx.post(url + "/predict", json={"inputs": 5}, timeout=30), 422),
            "missing field": (httpx.post(url + "/predict", json={"text": "hi"}, timeout=30), 422),
        }  # fmt: skip
        good = httpx.post(url + "/predict", json={"inputs": "still answering"}, timeout=30)
    statuses = {name: answer.status_code for name, (answer, _) in cases.items()}
    assert statuses == {name: status for name, (_, status) in cases.items()}, statuses
    shapes = {name: answer.text[:200] for name, (answer, _) in cases.items() if not is_error(answer)}
    assert shapes == {}
    assert "UTF-8" in cases["not UTF-8"][0].json()["error"]
    assert "nested" in cases["deep nesting"][0].json()["error"]
    assert "POST" in cases["wrong method"][0].json()["error"] and "allow" in cases["wrong method"][0].headers
    assert "/no/such/place" in cases["unknown path"][0].json()["error"]
    assert "inputs" in cases["validation"][0].json()["error"]
    assert good.status_code == 200


def test_a_chunked_body_past_the_limit_is_413_and_one_within_it_is_answered(run_copy, monkeypatch):
    from trainer.serve import settings

    monkeypatch.setattr(settings, "MAX_BODY", 1000)  # bytes: small, so the whole body is sent at once
    chunks = [b'{"inputs": "', b"x" * 600, b"y" * 600, b'"}']
    with serving(run_copy, tokens=False) as url:
        over = httpx.post(url + "/predict", content=iter(chunks), headers={"Content-Type": "application/json"},
                          timeout=30)  # fmt: skip
        within = httpx.post(url + "/predict", content=iter([b'{"inputs": ', b'"a short text"}']),
                            headers={"Content-Type": "application/json"}, timeout=30)  # fmt: skip
    assert (
        "content-length" not in over.request.headers
        and over.request.headers["transfer-encoding"] == "chunked"
    )
    assert over.status_code == 413 and is_error(over) and "MB" in over.json()["error"], over.text
    assert within.status_code == 200, within.text


def test_a_token_serves_only_the_runs_its_person_may_see(run_copy):
    from trainer.access import owners, tokens, users
    from trainer.access.people import local_owner

    runs = run_copy.parent
    mine = tokens.create(runs, "mine", local_owner())
    anas = tokens.create(runs, "ana-token", "ana")
    with serving(run_copy, tokens=True) as url:

        def call(secret: str, path: str = "/predict") -> httpx.Response:
            if path == "/predict":
                return httpx.post(url + path, json={"inputs": "a text"}, timeout=60,
                                  headers={"Authorization": f"Bearer {secret}"})  # fmt: skip
            return httpx.get(url + path, headers={"Authorization": f"Bearer {secret}"}, timeout=60)

        # no accounts, no owner recorded: the run is the local owner's, and so is a token made by default
        before = (call(mine).status_code, call(anas).status_code)
        for name in ("ana", "bob"):
            users.add(runs, name, "a long enough password")
        users.add(runs, "boss", "a long enough password", admin=True)
        owners.set_owner(run_copy, "bob")
        bobs, boss = tokens.create(runs, "bob-token", "bob"), tokens.create(runs, "boss-token", "boss")
        refused, info_refused = call(anas), call(anas, "/info")
        owned, admin, local = call(bobs).status_code, call(boss).status_code, call(mine).status_code
        owners.share(run_copy, ["ana"])
        shared = call(anas).status_code
        owners.share(run_copy, [])
        unshared = call(anas).status_code
        users.users_file(runs).write_text("")  # sign-in set up, its accounts file damaged: nobody is served
        damaged = call(bobs).status_code, call(boss).status_code
    assert before == (200, 403)
    assert damaged == (403, 403)
    assert refused.status_code == 403 and is_error(refused), refused.text
    assert "ana" in refused.json()["error"] and run_copy.name in refused.json()["error"]
    assert info_refused.status_code == 403
    assert (owned, admin, local) == (200, 200, 403)
    assert (shared, unshared) == (200, 403)


def test_two_workers_count_one_rate_in_the_shared_file(tmp_path, monkeypatch):
    from trainer.serve import rate as limits

    now = [5000.0]
    monkeypatch.setattr(limits.time, "monotonic", lambda: now[0])
    path = limits.rate_file(tmp_path / "runs")
    first, second = limits.SharedRate(path, 3, "8000"), limits.SharedRate(path, 3, "8000")  # two workers
    other = limits.SharedRate(path, 3, "8001")  # another service
    try:
        taken = [worker.allow("ci") for worker in (first, second, first, second, first, second)]
        assert taken == [True, True, True, False, False, False]
        assert other.allow("ci") and first.allow("someone-else")
        now[0] += 20  # a third of a minute: one request's worth, for either worker
        assert second.allow("ci") and not first.allow("ci")
        assert (path.stat().st_mode & 0o777) == 0o600
    finally:
        for worker in (first, second, other):
            worker.close()


def test_a_real_two_worker_service_allows_the_rate_once_not_per_worker(run_copy):
    from trainer.access import tokens
    from trainer.access.people import local_owner

    runs = run_copy.parent
    secret = tokens.create(runs, "ci", local_owner())
    port = free_port()
    log = (runs / "serve.log").open("w+")
    proc = subprocess.Popen([sys.executable, "-m", "trainer", "serve", str(run_copy), "--port", str(port),
                             "--runs-dir", str(runs), "--workers", "2", "--rate-limit", "4"], cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline, ready = time.time() + 240, 0
        while ready < 3 and time.time() < deadline:  # several answers in a row: both workers are up
            assert proc.poll() is None, log.seek(0) or log.read()[-3000:]
            try:
                ok = httpx.get(url + "/health", timeout=2).json().get("status") == "ok"
            except httpx.HTTPError:
                ok = False
            ready = ready + 1 if ok else 0
            time.sleep(0.5)
        assert ready == 3, "the service did not start"
        auth = {"Authorization": f"Bearer {secret}"}
        with concurrent.futures.ThreadPoolExecutor(12) as pool:  # a new connection each: either worker
            answers = list(pool.map(lambda i: httpx.post(url + "/predict", json={"inputs": f"text {i}"},
                                                         headers=auth, timeout=120), range(12)))  # fmt: skip
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * 4 + [429] * 8, statuses


def test_without_a_token_every_path_but_the_open_ones_is_401_first(run_copy):
    """The token comes first: a caller without one learns nothing of which paths, methods or bodies exist."""
    from trainer.access import tokens
    from trainer.access.people import local_owner

    secret = tokens.create(run_copy.parent, "mine", local_owner())
    JSON = {"Content-Type": "application/json"}  # noqa: N806
    with serving(run_copy, tokens=True) as url:
        bare = [
            httpx.get(url + "/nothing-here", timeout=60),
            httpx.get(url + "/predict", timeout=60),
            httpx.post(url + "/predict", content=b"{not json", headers=JSON, timeout=60),
        ]
        signed = {"Authorization": f"Bearer {secret}"}
        with_token = [
            httpx.get(url + "/nothing-here", headers=signed, timeout=60).status_code,
            httpx.get(url + "/predict", headers=signed, timeout=60).status_code,
            httpx.post(url + "/predict", content=b"{not json", headers=signed | JSON, timeout=60).status_code,
        ]
        health = httpx.get(url + "/health", timeout=60).status_code
    assert [a.status_code for a in bare] == [401, 401, 401], [a.text for a in bare]
    assert all(is_error(a) and a.headers.get("www-authenticate") == "Bearer" for a in bare)
    assert with_token == [404, 405, 400] and health == 200
