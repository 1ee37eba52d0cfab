"""Local accounts for a team without an identity provider: names, argon2 password hashes, admins.

Stored in `<runs>/.access/users.json` (mode 0600), written atomically under a lock. Passwords are hashed
with argon2id (argon2-cffi's `PasswordHasher`: a random salt per hash, memory-hard); a clear password is
never stored or logged. A wrong password costs a growing delay per account (1 s, 2 s, 4 s… up to 30 s,
reset by a right one), so guessing is slow.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from trainer.i18n import tr
from trainer.runs import procs
from trainer.runs.folder import access_dir
from trainer.runs.store import read_json, write_json

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD = 8
MAX_DELAY = 30.0
_hasher = PasswordHasher()
_failures: dict[str, int] = {}
_failures_lock = threading.Lock()


class AccountError(ValueError):
    """A request about accounts that cannot be done; the message says why."""


@dataclass(frozen=True)
class Account:
    name: str
    admin: bool
    created: float


def users_file(runs_dir: Path) -> Path:
    return access_dir(runs_dir) / "users.json"


def _read(runs_dir: Path) -> dict[str, dict]:
    data = read_json(users_file(runs_dir), {}) or {}
    return data if isinstance(data, dict) else {}


def _write(runs_dir: Path, data: dict[str, dict]) -> None:
    path = users_file(runs_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, data, private=True)


def accounts(runs_dir: Path) -> list[Account]:
    return [
        Account(name, bool(v.get("admin")), float(v.get("created") or 0))
        for name, v in sorted(_read(runs_dir).items())
    ]


def any_accounts(runs_dir: Path) -> bool:
    return bool(_read(runs_dir))


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(tr("The password is too short: use at least {n} characters.", n=MIN_PASSWORD))


def add(runs_dir: Path, name: str, password: str, admin: bool = False) -> Account:
    if not NAME_RE.match(name):
        raise AccountError(
            tr(
                "{name} cannot be an account name: use letters, digits, '.', '_', '-' or '@' (up to 64), "
                "starting with a letter or digit.",
                name=repr(name),
            )
        )
    _check_password(password)
    with procs.locked(access_dir(runs_dir) / "users.lock"):
        data = _read(runs_dir)
        if name in data:
            raise AccountError(
                tr(
                    "There is already an account called {name}. Use `users passwd {name}` to change its password.",
                    name=name,
                )
            )
        data[name] = {"hash": _hasher.hash(password), "admin": admin, "created": time.time()}
        _write(runs_dir, data)
    return Account(name, admin, data[name]["created"])


def remove(runs_dir: Path, name: str) -> None:
    with procs.locked(access_dir(runs_dir) / "users.lock"):
        data = _read(runs_dir)
        if name not in data:
            raise AccountError(tr("There is no account called {name}.", name=name))
        del data[name]
        _write(runs_dir, data)


def set_password(runs_dir: Path, name: str, password: str) -> None:
    _check_password(password)
    with procs.locked(access_dir(runs_dir) / "users.lock"):
        data = _read(runs_dir)
        if name not in data:
            raise AccountError(tr("There is no account called {name}.", name=name))
        data[name]["hash"] = _hasher.hash(password)
        _write(runs_dir, data)


def delay_for(name: str) -> float:
    """The pause before answering a sign-in for `name`: doubles with each wrong password in a row."""
    with _failures_lock:
        failures = _failures.get(name.casefold(), 0)
    return 0.0 if failures == 0 else min(MAX_DELAY, 2.0 ** (failures - 1))


def verify(runs_dir: Path, name: str, password: str, sleep=time.sleep) -> Account | None:
    """The account when `password` is right; None otherwise, after the account's growing delay (an
    unknown name takes as long as a known one, so names cannot be probed)."""
    sleep(delay_for(name))
    record = _read(runs_dir).get(name)
    try:
        ok = record is not None and _hasher.verify(record["hash"], password)
    except (VerificationError, InvalidHashError, KeyError, TypeError):
        ok = False
    if record is None:
        _hasher.hash(password)  # the same work as a real check
    with _failures_lock:
        if ok:
            _failures.pop(name.casefold(), None)
        else:
            _failures[name.casefold()] = _failures.get(name.casefold(), 0) + 1
    if not ok:
        return None
    return Account(name, bool(record.get("admin")), float(record.get("created") or 0))
