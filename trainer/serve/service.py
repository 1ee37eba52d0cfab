"""The service: FastAPI routes over one run's model, with bearer tokens, batching, limits, Prometheus
metrics, and served texts fed to a monitor.

Every request that is not right gets a 4xx with {"error": "..."} saying what to fix; nothing a client
sends is a 500. Bodies past MAX_BODY bytes are refused before they are read whole.
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

import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from trainer.serve.batcher import Batcher

log = logging.getLogger("insight.serve")
MAX_BODY = 10 * 1024 * 1024  # bytes


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
    rate_per_minute: int = 0  # per token; 0: no limit
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
    """ASGI middleware: a body over `limit` bytes is answered 413 as soon as it is known to be."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        too_big = (
            f"The body is over {self.limit // (1024 * 1024)} MB: send fewer or shorter texts per request."
        )
        if length is not None and length.isdigit() and int(length) > self.limit:
            return await error(413, too_big)(scope, receive, send)
        seen = 0

        async def limited() -> dict:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooBig
            return message

        try:
            await self.app(scope, limited, send)
        except _TooBig:
            await error(413, too_big)(scope, receive, send)


class _TooBig(Exception):
    pass


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
        from trainer.apply.score import calibrate
        from trainer.runs import load_run
        from trainer.runs.model import RunModel

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
        inputs = [self.task.read_input(t) for t in texts]
        preds, vectors = self.model.outputs(inputs, batch_size=max(1, len(inputs)))
        confidence = np.asarray(self.task.input_confidence(preds), dtype=np.float64)
        untrusted = self.trust.untrusted(confidence, np.asarray(self.task.input_vectors(vectors)))
        out = []
        for i, text in enumerate(texts):
            if not self.task.inputs_are_words:
                probs = np.asarray(preds.probabilities[i], dtype=np.float64)
                order = np.argsort(-probs, kind="stable")
                answer = [{"label": preds.class_names[j], "score": float(probs[j])} for j in order]
                label = preds.labels[i]
            else:
                answer = self._spans(text, inputs[i], preds.tags[i], preds.confidence[i])
                label = self.task.trend_label(preds, i)
            out.append({"answer": answer, "trusted": not bool(untrusted[i]), "label": label,
                        "confidence": float(confidence[i]),
                        "probs": [float(p) for p in preds.probabilities[i]] if not self.task.inputs_are_words else None})  # fmt: skip
        return out

    @staticmethod
    def _spans(text: str, words: list[str], tags: list[str], confidence: list[float]) -> list[dict]:
        """Entities in the shape of the token-classification pipeline with aggregation_strategy="simple"."""
        from trainer.evaluate.metrics import entity_spans

        starts, cursor = [], 0
        for word in words:
            at = text.find(word, cursor)
            starts.append((at, at + len(word)) if at >= 0 else (None, None))
            cursor = at + len(word) if at >= 0 else cursor
        spans = []
        for a, b, kind in entity_spans(tags):
            start, end = starts[a][0], starts[b - 1][1]
            word = text[start:end] if start is not None and end is not None else " ".join(words[a:b])
            spans.append({"entity_group": kind, "score": float(np.mean(confidence[a:b])), "word": word,
                          "start": start, "end": end})  # fmt: skip
        return spans

    def explain(self, text: str, target: str | None) -> list[dict]:
        items, words = self.task.explain_plan([self.task.read_input(text)], self.model.predict)
        with self.explain_lock:
            found = self.task.explain(self.model.model, self.model.tokenizer, self.model.labels, items,
                                      [target] * len(items), words, max_length=self.model.max_length)  # fmt: skip
        return [e.to_record() for e in found]


def build_app(config: ServeConfig) -> FastAPI:
    from trainer.access.tokens import Verifier

    state: dict[str, Any] = {}
    verifier = Verifier(Path(config.runs_dir))
    buckets: dict[str, list[float]] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        service = Service(config)
        await service.batcher.start()
        if config.monitor:
            from trainer.serve.feed import MonitorFeed

            service.feed = MonitorFeed(Path(config.runs_dir), config.monitor, service)
            service.feed.start()
        state["service"] = service
        yield
        await service.batcher.stop()
        if service.feed:
            service.feed.stop()

    app = FastAPI(title="Insight", description="A fine-tuned run behind an HTTP API.", lifespan=lifespan)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = exc.errors()
        if any(p.get("type") == "json_invalid" for p in problems):
            return error(400, 'The body is not JSON. Send {"inputs": "a text"} or {"inputs": ["text", ...]}.')
        where = ".".join(str(x) for x in (problems[0].get("loc") or [])[1:]) if problems else ""
        return error(422, f"{where or 'The body'}: {problems[0].get('msg', 'is not valid') if problems else 'is not valid'}. "
                          "Send {\"inputs\": \"a text\"} or {\"inputs\": [\"text\", ...]}.")  # fmt: skip

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("request failed")
        return error(500, "Something went wrong on the server; it is logged. Try again.")

    @app.middleware("http")
    async def guard(request: Request, call_next):
        path = request.url.path
        started = time.perf_counter()
        service = state.get("service")
        if path in ("/health", "/docs", "/openapi.json", "/docs/oauth2-redirect"):
            return await call_next(request)
        if config.tokens:
            header = request.headers.get("authorization", "")
            token = verifier.verify(header[7:].strip()) if header.lower().startswith("bearer ") else None
            if token is None:
                answer = error(401, "A valid bearer token is needed: Authorization: Bearer <token> "
                                    "(python -m trainer tokens create NAME).")  # fmt: skip
                answer.headers["WWW-Authenticate"] = "Bearer"
                _count(service, path, 401, started)
                return answer
            if config.rate_per_minute and not _allowed(buckets, token.name, config.rate_per_minute):
                _count(service, path, 429, started)
                return JSONResponse({"error": f"More than {config.rate_per_minute} requests a minute with this "
                                              "token: slow down."}, status_code=429, headers={"Retry-After": "60"})  # fmt: skip
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
        texts = [body.inputs] if isinstance(body.inputs, str) else list(body.inputs)
        problem = _check_texts(texts, config)
        if problem:
            return error(422 if "limit" not in problem else 413, problem)
        results = await service.batcher.submit(texts)
        for result in results:
            service.metrics.labels.labels(result["label"]).inc()
        service.metrics.texts.inc(len(results))
        if service.feed:
            service.feed.put(texts, results)
        if isinstance(body.inputs, str):
            return {"predictions": results[0]["answer"], "trusted": results[0]["trusted"]}
        return {"predictions": [r["answer"] for r in results], "trusted": [r["trusted"] for r in results]}

    @app.post("/explain")
    async def explain(body: ExplainBody):
        import asyncio

        service: Service = state["service"]
        problem = _check_texts([body.inputs], config)
        if problem:
            return error(422, problem)
        if body.target is not None and body.target not in service.model.labels:
            return error(
                422, f"Unknown target {body.target!r}. This run's labels: {', '.join(service.model.labels)}."
            )
        return {"explanations": await asyncio.to_thread(service.explain, body.inputs, body.target)}

    return BodyLimit(app, MAX_BODY)  # type: ignore[return-value]


def _check_texts(texts: list[str], config: ServeConfig) -> str | None:
    if not texts:
        return "inputs is an empty list: send at least one text."
    if len(texts) > config.max_inputs:
        return (
            f"{len(texts)} texts are over the limit of {config.max_inputs} per request: send them in parts."
        )
    for i, text in enumerate(texts):
        if not text.strip():
            return f"Text {i} is empty: send some text."
        if len(text) > config.max_chars:
            return (
                f"Text {i} has {len(text):,} characters, over the limit of {config.max_chars:,}: shorten it."
            )
    return None


def _allowed(buckets: dict[str, list[float]], name: str, per_minute: int) -> bool:
    """A token bucket per token: `per_minute` requests, refilled evenly."""
    now = time.monotonic()
    tokens, last = buckets.get(name, [float(per_minute), now])
    tokens = min(float(per_minute), tokens + (now - last) * per_minute / 60)
    if tokens < 1:
        buckets[name] = [tokens, now]
        return False
    buckets[name] = [tokens - 1, now]
    return True


def _count(service: Service | None, path: str, status: int, started: float) -> None:
    if service is None:
        return
    endpoint = path if path in ("/predict", "/explain", "/info", "/metrics") else "other"
    service.metrics.requests.labels(endpoint, str(status)).inc()
    service.metrics.latency.labels(endpoint).observe(time.perf_counter() - started)
