"""Bearer tokens for the HTTP service: `python -m trainer tokens create NAME [--person ID]|list|revoke NAME`.

A token is 32 random bytes (`secrets.token_urlsafe`), shown once when created; only its SHA-256 is kept,
in `<runs>/.access/tokens.json` (mode 0600), or on the PostgreSQL server INSIGHT_DATABASE_URL names
(trainer.access.documents), with the person it acts for. A random token of this length
needs no slow hash (that is for passwords people choose). The service re-reads the tokens when they change,
so a revoked token is refused on its next request, on every machine.

A token acts for its person and serves only the runs that person may see (`trainer.access.owners`: their
own, those shared with them or with everyone, every run for an admin), checked on every request, so
un-sharing a run refuses its tokens at once. The check holds without sign-in too: a run without an owner
belongs to the local owner, and a token is made for the local owner unless `--person` says otherwise.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainer.access import owners, users
from trainer.access.documents import Document
from trainer.access.people import Person, admins
from trainer.runs.folder import access_dir

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
PREFIX = "insight_"


class TokenError(ValueError):
    """A request about tokens that cannot be done; the message says why."""


@dataclass(frozen=True)
class Token:
    name: str
    person: str
    created: float
    revoked: float | None


def tokens_file(runs_dir: Path) -> Path:
    return access_dir(runs_dir) / "tokens.json"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _document(runs_dir: Path) -> Document:
    return Document(runs_dir, tokens_file(runs_dir).name)


def _read(runs_dir: Path) -> dict[str, dict]:
    try:
        data = json.loads(_document(runs_dir).text() or "{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def create(runs_dir: Path, name: str, person: str) -> str:
    """A new token for `person`; returns the secret (it is not stored and cannot be shown again)."""
    if not NAME_RE.match(name):
        raise TokenError(f"{name!r} cannot be a token name: use letters, digits, '.', '_', '-' or '@'.")
    secret = PREFIX + secrets.token_urlsafe(32)
    document = _document(runs_dir)
    with document.locked():
        data = _read(runs_dir)
        if name in data and not data[name].get("revoked"):
            raise TokenError(
                f"There is already a token called {name}. Revoke it first, or pick another name."
            )
        data[name] = {"hash": _digest(secret), "person": person, "created": time.time(), "revoked": None}
        document.write(data)
    return secret


def listed(runs_dir: Path) -> list[Token]:
    return [Token(n, v.get("person", ""), float(v.get("created") or 0), v.get("revoked"))
            for n, v in sorted(_read(runs_dir).items())]  # fmt: skip


def revoke(runs_dir: Path, name: str) -> None:
    document = _document(runs_dir)
    with document.locked():
        data = _read(runs_dir)
        if name not in data:
            raise TokenError(f"There is no token called {name}. See `python -m trainer tokens list`.")
        data[name]["revoked"] = data[name].get("revoked") or time.time()
        document.write(data)


class Verifier:
    """Checks bearer tokens against the stored ones, read again whenever they change."""

    def __init__(self, runs_dir: Path) -> None:
        self.document = _document(runs_dir)
        self.runs_dir = Path(runs_dir)
        self._stamp: Any = None
        self._by_hash: dict[str, Token] = {}

    def _load(self) -> None:
        stamp = self.document.stamp()
        if stamp is not None and stamp == self._stamp:
            return
        data = _read(self.runs_dir)
        self._by_hash = {v["hash"]: Token(n, v.get("person", ""), float(v.get("created") or 0), v.get("revoked"))
                         for n, v in data.items() if isinstance(v, dict) and "hash" in v}  # fmt: skip
        self._stamp = stamp

    def verify(self, secret: str) -> Token | None:
        """The live token `secret` is, or None (unknown or revoked)."""
        self._load()
        found = self._by_hash.get(_digest(secret))
        return found if found and not found.revoked else None


def person_of(runs_dir: Path, token: Token) -> Person:
    """Who `token` acts for: its person, an admin if their local account is one or INSIGHT_ADMINS names them."""
    key = token.person.casefold()
    flagged = any(a.admin and a.name.casefold() == key for a in users.accounts(runs_dir))
    return Person(token.person, admin=bool(key) and (flagged or key in admins()))


def may_serve(runs_dir: Path, token: Token, run_dir: Path) -> bool:
    """Whether `token`'s person may see the run at `run_dir`, so a service of it may answer them."""
    try:
        return bool(token.person) and owners.can_see(person_of(runs_dir, token), run_dir)
    except users.AccountsUnreadable:  # sign-in is set up but its accounts file is damaged: fail closed
        return False
