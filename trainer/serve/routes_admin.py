"""The routes that tell about the service: GET /health (open, for load balancers), and GET /info and
GET /metrics (a token needed)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from trainer.serve.auth import authorize
from trainer.serve.deps import ServiceDep

open_router = APIRouter()  # no token: /health
router = APIRouter(dependencies=[Depends(authorize)])


@open_router.get("/health")
async def health(request: Request) -> dict:
    return {"status": "ok" if getattr(request.app.state, "service", None) is not None else "starting"}


@router.get("/info")
async def info(service: ServiceDep) -> dict:
    return service.info()


@router.get("/metrics")
async def metrics(service: ServiceDep) -> Response:
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    return Response(generate_latest(service.metrics.registry), media_type=CONTENT_TYPE_LATEST)
