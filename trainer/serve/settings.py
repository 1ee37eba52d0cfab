"""The service's settings, in one place: `ServeConfig`, made once from the command line
(`ServeConfig.from_cli`), handed to each uvicorn worker process in the one environment variable the
service reads (INSIGHT_SERVE_CONFIG, JSON: `to_env` / `from_env`), then read by the app and its routes
(`trainer.serve.deps.config_of`)."""

from __future__ import annotations

import json
import os
from collections.abc import MutableMapping
from dataclasses import asdict, dataclass, field
from typing import Any

ENV = "INSIGHT_SERVE_CONFIG"  # the settings of `python -m trainer serve`, for its worker processes
MAX_BODY = 10 * 1024 * 1024  # bytes per request when `max_body` is 0


OPEN_PATHS = ("/health", "/docs", "/openapi.json", "/docs/oauth2-redirect")  # no token, not counted


@dataclass(frozen=True)
class ServeConfig:
    run: str
    runs_dir: str
    tokens: bool = True  # False: no token needed (127.0.0.1 only)
    monitor: str | None = None
    max_pass_texts: int = 32  # texts gathered into one forward pass at most (--max-batch)
    max_wait_ms: float = 5.0  # how long a forward pass waits for more requests (--max-wait-ms)
    max_inputs: int = 256
    max_chars: int = 20_000
    rate_per_minute: int = 0  # per token, all workers together; 0: no limit
    max_body: int = 0  # bytes per request; 0: MAX_BODY
    key: str = "0"  # the service (its port): what its workers share, the rate count included
    gpus: int = 0  # GPUs the workers share out, one each (0: none claimed)
    device: str = "auto"
    batching: str = "local"  # "ray": Ray Serve's request batching (a replica of `serve --ray`)
    variant: str | None = None  # a compressed variant of the run (--variant), in place of its model
    extra: dict = field(default_factory=dict)

    @property
    def body_limit(self) -> int:
        return self.max_body or MAX_BODY

    @classmethod
    def from_cli(cls, args: Any, run: str, runs_dir: str, gpus: int = 0) -> ServeConfig:
        """The settings `python -m trainer serve` was given (`args`: its parsed options)."""
        return cls(run=run, runs_dir=runs_dir, tokens=not args.no_tokens, monitor=args.monitor,
                   max_pass_texts=args.max_batch, max_wait_ms=args.max_wait_ms,
                   rate_per_minute=args.rate_limit, key=str(args.port), gpus=gpus,
                   variant=getattr(args, "variant", None))  # fmt: skip

    def to_env(self, environ: MutableMapping[str, str] | None = None) -> None:
        """Hand the settings to the worker processes uvicorn starts (they inherit the environment)."""
        (os.environ if environ is None else environ)[ENV] = json.dumps(asdict(self))

    @classmethod
    def from_env(cls, environ: MutableMapping[str, str] | None = None) -> ServeConfig:
        values = json.loads((os.environ if environ is None else environ)[ENV])
        values["key"] = str(values.get("key", "0"))  # the service: its workers share GPUs and the rate count
        return cls(**values)
