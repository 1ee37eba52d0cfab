"""What wraps every request: the body limit (an ASGI middleware around the whole app) and the request
metrics (by endpoint and status, with the time taken), counted for every path but the open ones."""

from __future__ import annotations

import time
from typing import Any

from fastapi import Request

from trainer.i18n import number, tr
from trainer.serve.errors import error
from trainer.serve.settings import OPEN_PATHS

COUNTED = ("/predict", "/explain", "/info", "/metrics")  # endpoints named in the metrics; others: "other"


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


async def count_requests(request: Request, call_next: Any) -> Any:
    """HTTP middleware: each answer (refusals included) counted by endpoint and status, with its time."""
    path = request.url.path
    if path in OPEN_PATHS:
        return await call_next(request)
    started = time.perf_counter()
    response = await call_next(request)
    service = getattr(request.app.state, "service", None)
    if service is not None:
        endpoint = path if path in COUNTED else "other"
        service.metrics.requests.labels(endpoint, str(response.status_code)).inc()
        service.metrics.latency.labels(endpoint).observe(time.perf_counter() - started)
    return response
