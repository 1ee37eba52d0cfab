"""The service: FastAPI routes over one run's model, with bearer tokens, batching, limits, Prometheus
metrics, and served texts fed to a monitor.

Every request that is not right gets a 4xx with {"error": "..."} saying what to fix, the framework's own
refusals included (bad JSON, an unknown path, a wrong method); nothing a client sends is a 500, and a
text that breaks a forward pass fails its own request only (the batcher answers the others alone).
Bodies past `max_body` bytes are refused with 413 before they are read whole, chunked ones too. A token
serves only the runs its person may see (403 otherwise), and its rate is counted for all workers.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from trainer.i18n import number, tr, trn
from trainer.serve.batcher import Batcher

log = logging.getLogger("insight.serve")
MAX_BODY = 10 * 1024 * 1024  # bytes
ONE = '{"inputs": "a text"}'  # the two bodies /predict takes, named in messages
MANY = '{"inputs": ["text", ...]}'


@dataclass
class ServeConfig:
    run: str
    runs_dir: str
    tokens: bool = True  # False: no token needed (127.0.0.1 only)
    monitor: str | None = None
    max_batch: int = 32
    max_wait_ms: float = 5.0
    max_inputs: int = 256
    max_chars: int = 20_000
    rate_per_minute: int = 0  # per token, all workers together; 0: no limit
    max_body: int = 0  # bytes per request; 0: MAX_BODY
    key: str = "0"  # the service (its port): what its workers share, the rate count included
    device: str = "auto"
    extra: dict = field(default_factory=dict)


class PredictBody(BaseModel):
    inputs: str | list[str]


class ExplainBody(BaseModel):
    inputs: str
    target: str | None = None


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class BodyLimit:
    """ASGI middleware: a body over `limit` bytes is answered 413 as soon as it is known to be.

    The body is read here, chunk by chunk, before the app sees it (FastAPI reads it whole anyway), so a
    chunked body without Content-Length is stopped at the limit too, and the refusal is a 413 rather than
    the framework's 400 for a body it could not read."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        mb = self.limit / (1024 * 1024)
        too_big = tr("The body is over {mb} MB: send fewer or shorter texts per request.",
                     mb=number(mb, 0 if mb == int(mb) else 2))  # fmt: skip
        if length is not None and length.isdigit() and int(length) > self.limit:
            return await error(413, too_big)(scope, receive, send)
        chunks, seen = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left before the body was whole
                return None
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            if seen > self.limit:
                return await error(413, too_big)(scope, receive, send)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if replayed:
                return await receive()  # after the body: the disconnect, when it comes
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)


class Metrics:
    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry()
        self.requests = Counter(
            "insight_requests", "Requests answered", ["endpoint", "status"], registry=self.registry
        )
        self.latency = Histogram("insight_request_seconds", "Time to answer a request", ["endpoint"],
                                 registry=self.registry)  # fmt: skip
        self.batch = Histogram("insight_batch_size", "Texts per forward pass", registry=self.registry,
                               buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256))  # fmt: skip
        self.labels = Counter(
            "insight_predicted", "Texts predicted, by label", ["label"], registry=self.registry
        )
        self.texts = Counter("insight_texts", "Texts predicted", registry=self.registry)
        self.monitor_rows = Counter(
            "insight_monitor_rows", "Served texts stored in the monitor", registry=self.registry
        )
        self.monitor_errors = Counter("insight_monitor_write_errors", "Monitor writes that failed (retried)",
                                      registry=self.registry)  # fmt: skip


class Service:
    """The loaded run: its model, trust thresholds and batcher; what /predict and /explain compute."""

    def __init__(self, config: ServeConfig) -> None:
        from trainer.runs import load_run
        from trainer.runs.predictor import RunModel
        from trainer.runs.trust import calibrate

        self.config = config
        self.run = load_run(Path(config.run))
        self.model = RunModel.load(Path(config.run), device=config.device)
        self.task = self.model.adapter
        self.trust = calibrate(self.model, self.run)
        weights = Path(config.run) / "model" / "model.safetensors"
        self.checksum = hashlib.sha256(weights.read_bytes()).hexdigest() if weights.is_file() else None
        self.metrics = Metrics()
        self.batcher = Batcher(
            self._forward, config.max_batch, config.max_wait_ms, self.metrics.batch.observe
        )
        self.explain_lock = threading.Lock()
        self.feed = None

    def info(self) -> dict:
        return {"run": self.run.path.name, "name": self.run.info.name, "task": self.task.cli_name,
                "labels": list(self.model.labels), "model_sha256": self.checksum,
                "precision": self.model.precision or "float32", "device": str(self.model.model.device),
                "max_batch": self.config.max_batch, "max_inputs": self.config.max_inputs,
                "max_chars": self.config.max_chars}  # fmt: skip

    def _forward(self, texts: list[str]) -> list[dict]:
        """One forward pass over `texts`: per text its answer in the pipeline's shape, and trusted."""
        scored = self.model.score(texts, self.trust, batch_size=max(1, len(texts)))
        probs = scored.probabilities
        return [{"answer": answer, "trusted": not bool(scored.untrusted[i]), "label": scored.labels[i],
                 "confidence": float(scored.confidence[i]),
                 "probs": [float(p) for p in probs[i]] if probs is not None else None}
                for i, answer in enumerate(scored.answers())]  # fmt: skip

    def explain(self, text: str, target: str | None) -> list[dict]:
        items, words = self.task.explain_plan([self.task.read_input(text)], self.model.predict)
        with self.explain_lock:
            found = self.task.explain(self.model.model, self.model.tokenizer, self.model.labels, items,
                                      [target] * len(items), words, max_length=self.model.max_length)  # fmt: skip
        return [e.to_record() for e in found]


def build_app(config: ServeConfig) -> FastAPI:
    from trainer.access import tokens
    from trainer.serve.limits import SharedRate, rate_file

    state: dict[str, Any] = {}
    runs_dir, run_dir = Path(config.runs_dir), Path(config.run)
    verifier = tokens.Verifier(runs_dir)
    rate = (
        SharedRate(rate_file(runs_dir), config.rate_per_minute, config.key)
        if config.rate_per_minute
        else None
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        service = Service(config)
        await service.batcher.start()
        if config.monitor:
            from trainer.serve.feed import MonitorFeed

            service.feed = MonitorFeed(runs_dir, config.monitor, service)
            service.feed.start()
        state["service"] = service
        yield
        await service.batcher.stop()
        if service.feed:
            service.feed.stop()
        if rate:
            rate.close()

    app = FastAPI(title="Insight", description="A fine-tuned run behind an HTTP API.", lifespan=lifespan)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = exc.errors()
        if any(p.get("type") == "json_invalid" for p in problems):
            return error(400, tr("The body is not JSON. Send {one} or {many}.", one=ONE, many=MANY))
        loc = [str(x) for x in (problems[0].get("loc") or [])[1:]] if problems else []
        where = loc[0] + "".join(f"[{x}]" if x.isdigit() else f".{x}" for x in loc[1:]) if loc else ""
        return error(422, tr("{field}: {problem}. Send {one} or {many}.", field=where or tr("The body"),
                             problem=problems[0].get("msg", "") if problems else "", one=ONE, many=MANY))  # fmt: skip

    @app.exception_handler(HTTPException)
    async def refused(request: Request, exc: HTTPException) -> JSONResponse:
        """The framework's own refusals, in the service's shape: {"error": "..."}."""
        return JSONResponse(
            {"error": _refusal(request, exc)}, status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("request failed")
        return error(500, tr("Something went wrong on the server; it is logged. Try again."))

    @app.middleware("http")
    async def guard(request: Request, call_next):
        import asyncio

        path = request.url.path
        started = time.perf_counter()
        service = state.get("service")
        if path in ("/health", "/docs", "/openapi.json", "/docs/oauth2-redirect"):
            return await call_next(request)
        if config.tokens:
            header = request.headers.get("authorization", "")
            token = verifier.verify(header[7:].strip()) if header.lower().startswith("bearer ") else None
            if token is None:
                answer = error(401, tr("A valid bearer token is needed: Authorization: Bearer <token> "
                                       "(python -m trainer tokens create NAME)."))  # fmt: skip
                answer.headers["WWW-Authenticate"] = "Bearer"
                _count(service, path, 401, started)
                return answer
            if not tokens.may_serve(runs_dir, token, run_dir):
                _count(service, path, 403, started)
                return error(403, tr("Token {name} acts for {person}, who may not see run {run}: share the run "
                                     "with them, or call with the token of someone who may see it.",
                                     name=token.name, person=token.person or "-", run=run_dir.name))  # fmt: skip
            if rate and not await asyncio.to_thread(rate.allow, token.name):
                _count(service, path, 429, started)
                said = trn("More than {n} request a minute with this token: slow down.",
                           "More than {n} requests a minute with this token: slow down.", config.rate_per_minute)  # fmt: skip
                return JSONResponse({"error": said}, status_code=429, headers={"Retry-After": "60"})
        response = await call_next(request)
        _count(service, path, response.status_code, started)
        return response

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok" if "service" in state else "starting"}

    @app.get("/info")
    async def info() -> dict:
        return state["service"].info()

    @app.get("/metrics")
    async def metrics() -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return Response(generate_latest(state["service"].metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.post("/predict")
    async def predict(body: PredictBody):
        service: Service = state["service"]
        one = isinstance(body.inputs, str)
        texts = [body.inputs] if one else list(body.inputs)
        problem = _check_texts(texts, config, listed=not one)
        if problem:
            return error(*problem)
        results = await service.batcher.submit(texts)
        for result in results:
            service.metrics.labels.labels(result["label"]).inc()
        service.metrics.texts.inc(len(results))
        if service.feed:
            service.feed.put(texts, results)
        if one:
            return {"predictions": results[0]["answer"], "trusted": results[0]["trusted"]}
        return {"predictions": [r["answer"] for r in results], "trusted": [r["trusted"] for r in results]}

    @app.post("/explain")
    async def explain(body: ExplainBody):
        import asyncio

        service: Service = state["service"]
        problem = _check_texts([body.inputs], config, listed=False)
        if problem:
            return error(422, problem[1])
        if body.target is not None and body.target not in service.model.labels:
            return error(422, tr("Unknown target {target}. This run's labels: {labels}.", target=repr(body.target),
                                 labels=", ".join(service.model.labels)))  # fmt: skip
        return {"explanations": await asyncio.to_thread(service.explain, body.inputs, body.target)}

    return BodyLimit(app, config.max_body or MAX_BODY)  # type: ignore[return-value]


def _refusal(request: Request, exc: HTTPException) -> str:
    """The sentence for a refusal the framework raised (no route, wrong method, a body it cannot read)."""
    path, cause = request.url.path, exc.__cause__
    if exc.status_code == 404:
        return tr("There is nothing at {path}: this service answers /predict, /explain, /info, /metrics and "
                  "/health (its documentation is at /docs).", path=path)  # fmt: skip
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        return tr("{method} is not allowed on {path}: use {allowed}.", method=request.method, path=path,
                  allowed=allowed)  # fmt: skip
    if exc.status_code == 400 and isinstance(cause, UnicodeDecodeError):
        return tr("The body is not UTF-8: send JSON encoded as UTF-8, {one} or {many}.", one=ONE, many=MANY)
    if exc.status_code == 400 and isinstance(cause, RecursionError):
        return tr("The body is nested too deeply to read: send {one} or {many}.", one=ONE, many=MANY)
    if exc.status_code == 400:
        return tr("The body could not be read as JSON. Send {one} or {many}.", one=ONE, many=MANY)
    return tr("The request was refused ({status}): {detail}", status=exc.status_code, detail=str(exc.detail))


def _check_texts(texts: list[str], config: ServeConfig, listed: bool = True) -> tuple[int, str] | None:
    """What is wrong with the texts of a request, as (status, sentence), or None; `listed`: they came as a
    list, so a sentence names the field as inputs[i]."""
    if not texts:
        return 422, tr("inputs is an empty list: send at least one text.")
    if len(texts) > config.max_inputs:
        return 413, tr("{n} texts are over the limit of {limit} per request: send them in parts.",
                       n=len(texts), limit=config.max_inputs)  # fmt: skip
    for i, text in enumerate(texts):
        if not text.strip():
            return 422, tr("Text {i} is empty: send some text.", i=i)
        if len(text) > config.max_chars:
            return 413, tr("Text {i} has {chars} characters, over the limit of {limit}: shorten it.", i=i,
                           chars=number(len(text)), limit=number(config.max_chars))  # fmt: skip
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return 422, tr("{field} is not text that UTF-8 can hold (a lone surrogate, half of a UTF-16 pair): "
                           "send valid Unicode text.", field=f"inputs[{i}]" if listed else "inputs")  # fmt: skip
    return None


def _count(service: Service | None, path: str, status: int, started: float) -> None:
    if service is None:
        return
    endpoint = path if path in ("/predict", "/explain", "/info", "/metrics") else "other"
    service.metrics.requests.labels(endpoint, str(status)).inc()
    service.metrics.latency.labels(endpoint).observe(time.perf_counter() - started)
