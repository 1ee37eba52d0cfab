"""Who may call the service: a bearer token, whose person may see the run, within its rate.

`authorize` is the dependency of the routers that need a token (/predict, /explain, /info, /metrics);
/health and the documentation do not use it. It refuses with 401 (no valid token), 403 (the token's
person may not see the run) or 429 (over `--rate-limit`, counted for all workers together)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fastapi import Request

from trainer.i18n import tr, trn
from trainer.serve.errors import Refusal
from trainer.serve.settings import ServeConfig


class TokenGate:
    """The token checks of one service: its tokens file (read again when it changes) and its rate count."""

    def __init__(self, config: ServeConfig) -> None:
        from trainer.access import tokens
        from trainer.serve.rate import limiter

        self.config = config
        self.runs_dir, self.run_dir = Path(config.runs_dir), Path(config.run)
        self.verifier = tokens.Verifier(self.runs_dir)
        per_minute = config.rate_per_minute
        self.rate = limiter(self.runs_dir, per_minute, config.key) if per_minute else None

    async def check(self, header: str) -> None:
        """Refuses (raises Refusal) unless the Authorization `header` carries a token that may be served."""
        from trainer.access import tokens

        if not self.config.tokens:
            return
        token = self.verifier.verify(header[7:].strip()) if header.lower().startswith("bearer ") else None
        if token is None:
            raise Refusal(401, tr("A valid bearer token is needed: Authorization: Bearer <token> "
                                  "(python -m trainer tokens create NAME)."),
                          headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
        if not tokens.may_serve(self.runs_dir, token, self.run_dir):
            raise Refusal(403, tr("Token {name} acts for {person}, who may not see run {run}: share the run "
                                  "with them, or call with the token of someone who may see it.",
                                  name=token.name, person=token.person or "-", run=self.run_dir.name))  # fmt: skip
        if self.rate and not await asyncio.to_thread(self.rate.allow, token.name):
            said = trn("More than {n} request a minute with this token: slow down.",
                       "More than {n} requests a minute with this token: slow down.", self.config.rate_per_minute)  # fmt: skip
            raise Refusal(429, said, headers={"Retry-After": "60"})

    def close(self) -> None:
        if self.rate:
            self.rate.close()


async def authorize(request: Request) -> None:
    """The dependency: the request's token may be served, or it is refused."""
    await request.app.state.gate.check(request.headers.get("authorization", ""))
