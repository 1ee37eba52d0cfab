"""The service's app: FastAPI over one run's model, with bearer tokens, forward passes gathered across
requests, limits, Prometheus metrics, and served texts fed to a monitor.

Every request that is not right gets a 4xx with {"error": "..."} saying what to fix, the framework's own
refusals included (bad JSON, an unknown path, a wrong method); nothing a client sends is a 500
(trainer.serve.errors). Bodies past the limit are refused with 413 before they are read whole, chunked
ones too (trainer.serve.middleware). A token serves only the runs its person may see (403 otherwise), and
its rate is counted for all workers (trainer.serve.auth). The routes: trainer.serve.routes_predict
(/predict, /explain) and trainer.serve.routes_admin (/health, /info, /metrics).
"""

from __future__ import annotations

import contextlib
from typing import Any

from fastapi import FastAPI

from trainer.serve import errors, middleware, routes_admin, routes_predict
from trainer.serve.auth import TokenGate
from trainer.serve.service import Service
from trainer.serve.settings import ServeConfig


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI):
    """The run's model loaded before the first request; on shutdown, what the monitor is owed written."""
    service = Service(app.state.config)
    await service.start()
    app.state.service = service
    try:
        yield
    finally:
        await service.stop()
        app.state.gate.close()


def build_app(config: ServeConfig) -> Any:
    """The ASGI app of the service: FastAPI inside the body limit."""
    app = FastAPI(title="Insight", description="A fine-tuned run behind an HTTP API.", lifespan=lifespan)
    app.state.config = config
    app.state.gate = TokenGate(config)
    app.state.service = None  # until the lifespan has loaded the model
    errors.add_handlers(app)
    app.middleware("http")(middleware.count_requests)
    app.include_router(routes_admin.open_router)
    app.include_router(routes_admin.router)
    app.include_router(routes_predict.router)
    return middleware.BodyLimit(app, config.body_limit)
