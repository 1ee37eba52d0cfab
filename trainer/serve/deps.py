"""What routes are given (FastAPI dependencies): the service's settings and the loaded Service, both kept
on the app's state by `trainer.serve.server.build_app`. Routes name them as `config: ConfigDep` and
`service: ServiceDep`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from trainer.serve.service import Service
from trainer.serve.settings import ServeConfig


def config_of(request: Request) -> ServeConfig:
    return request.app.state.config


def service_of(request: Request) -> Service:
    """The loaded run (model, trust, pass gatherer, metrics, monitor feed); set once the app has started."""
    return request.app.state.service


ConfigDep = Annotated[ServeConfig, Depends(config_of)]
ServiceDep = Annotated[Service, Depends(service_of)]
