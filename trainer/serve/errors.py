"""The service's one shape for a refusal: {"error": "a sentence saying what to fix"}.

`Refusal` is what a route or a dependency raises to refuse a request; `add_handlers` gives the app the
handlers that answer it, and the framework's own refusals (bad JSON, an unknown path, a wrong method) and
any unexpected failure, in the same shape."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from trainer.i18n import tr

log = logging.getLogger("insight.serve")
ONE = '{"inputs": "a text"}'  # the two bodies /predict takes, named in messages
MANY = '{"inputs": ["text", ...]}'


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


class Refusal(Exception):
    """A request refused with `status` and a sentence (and headers, such as Retry-After)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers


def add_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Refusal, refused_by_us)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, refused_by_framework)
    app.add_exception_handler(Exception, unexpected)


async def refused_by_us(request: Request, exc: Refusal) -> JSONResponse:
    return error(exc.status, exc.message, exc.headers)


async def token_first(request: Request) -> JSONResponse | None:
    """A request the framework refused before the token dependency ran (an unknown path, a wrong method, a
    body it cannot read) is answered as before the routes existed: a missing or refused token first."""
    from trainer.serve.settings import OPEN_PATHS

    gate = getattr(request.app.state, "gate", None)
    if gate is None or request.url.path in OPEN_PATHS:
        return None
    try:
        await gate.check(request.headers.get("authorization", ""))
    except Refusal as refusal:
        return error(refusal.status, refusal.message, refusal.headers)
    return None


async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    problems = exc.errors()
    if any(p.get("type") == "json_invalid" for p in problems):
        if (refused := await token_first(request)) is not None:
            return refused
        return error(400, tr("The body is not JSON. Send {one} or {many}.", one=ONE, many=MANY))
    loc = [str(x) for x in (problems[0].get("loc") or [])[1:]] if problems else []
    where = loc[0] + "".join(f"[{x}]" if x.isdigit() else f".{x}" for x in loc[1:]) if loc else ""
    return error(422, tr("{field}: {problem}. Send {one} or {many}.", field=where or tr("The body"),
                         problem=problems[0].get("msg", "") if problems else "", one=ONE, many=MANY))  # fmt: skip


async def refused_by_framework(request: Request, exc: HTTPException) -> JSONResponse:
    """The framework's own refusals, in the service's shape: {"error": "..."}."""
    if (refused := await token_first(request)) is not None:
        return refused
    return error(exc.status_code, _refusal(request, exc), exc.headers)


async def unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("request failed")
    return error(500, tr("Something went wrong on the server; it is logged. Try again."))


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
