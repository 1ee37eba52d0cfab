"""Local accounts for a team without an identity provider: names, argon2 password hashes, admins.

Stored in `<runs>/.access/users.json` (mode 0600), written atomically under a lock, or on the PostgreSQL
server INSIGHT_DATABASE_URL names (trainer.access.documents), shared by every app server of a team. Passwords are hashed
with argon2id (argon2-cffi's `PasswordHasher`: a random salt per hash, memory-hard); a clear password is
never stored or logged.

Names are case-insensitive: `ana` and `ANA` are one account (kept as first typed); an accounts file from
before that rule with names differing only in case is reported (`collisions`) and those names cannot sign
in until all but one are removed.

Fail closed: the first account also writes `<runs>/.access/sign-in.json`, a marker that sign-in is set up.
From then on a missing, empty or damaged accounts file refuses everyone (`AccountsUnreadable`) instead of
opening the app without sign-in. (INSIGHT_REQUIRE_SIGN_IN=1 does the same from the configuration, for
when the whole runs folder could be lost.)

Guessing is slow: a wrong password costs a growing delay per name (1 s, 2 s, 4 s… up to 30 s, reset by a
right one; forgotten an hour after the last wrong one); one check at a time per name, so parallel guesses
wait for each other's delays; at most two argon2 checks at once in the process (each takes 64 MiB); an
unknown name is checked against a dummy hash, as slow as a real one. The failure tables hold at most
10,000 names each, the least recently failed forgotten first; unknown names have a table of their own,
so trying many of them never pushes a real account's count out.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from trainer.access.documents import Document
from trainer.i18n import tr
from trainer.runs.folder import access_dir

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD = 8
FIRST_DELAY = 1.0  # seconds after the first wrong password in a row; doubles with each one after it
MAX_DELAY = 30.0
CONCURRENT_CHECKS = 2  # argon2 checks at once in this process (64 MiB each)
FAILURES_KEPT = 10_000  # names per failure table
FAILURES_FORGOTTEN_AFTER = 3600.0  # seconds after a name's last wrong password
_hasher = PasswordHasher()


class AccountError(ValueError):
    """A request about accounts that cannot be done; the message says why."""


class AccountsUnreadable(AccountError):
    """Sign-in is set up but the accounts file is missing, empty or damaged: nobody may come in."""


class NameCollision(AccountError):
    """The right password for a name that several accounts share, differing only in case."""


@dataclass(frozen=True)
class Account:
    name: str
    admin: bool
    created: float
    stamp: str = ""  # changes with the password: a session made before a change has another one


class FailureTable:
    """Wrong passwords in a row per name: at most `limit` names (the least recently failed go first), each
    forgotten `ttl` seconds after its last wrong password. Thread-safe."""

    def __init__(self, limit: int = FAILURES_KEPT, ttl: float = FAILURES_FORGOTTEN_AFTER,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.limit, self.ttl, self.clock = limit, ttl, clock
        self._entries: OrderedDict[str, tuple[int, float]] = OrderedDict()  # oldest failure first
        self._lock = threading.Lock()

    def _prune(self) -> None:
        now = self.clock()
        while self._entries and now - next(iter(self._entries.values()))[1] > self.ttl:
            self._entries.popitem(last=False)

    def count(self, key: str) -> int:
        with self._lock:
            self._prune()
            return self._entries.get(key, (0, 0.0))[0]

    def failed(self, key: str) -> None:
        with self._lock:
            self._prune()
            count = self._entries.pop(key, (0, 0.0))[0]
            self._entries[key] = (count + 1, self.clock())
            while len(self._entries) > self.limit:
                self._entries.popitem(last=False)

    def forget(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def __len__(self) -> int:
        with self._lock:
            self._prune()
            return len(self._entries)


_failures = FailureTable()  # names of accounts
_guesses = FailureTable()  # names of no account
_checks = threading.BoundedSemaphore(CONCURRENT_CHECKS)
_name_locks: dict[str, list] = {}  # key -> [lock, how many hold it or wait]; empty when nobody signs in
_name_locks_guard = threading.Lock()


def key(name: str) -> str:
    """What a name is compared by: case-insensitive (and no longer than a name may be)."""
    return name.strip().casefold()[:65]


def users_file(runs_dir: Path) -> Path:
    return access_dir(runs_dir) / "users.json"


def marker_file(runs_dir: Path) -> Path:
    """Written with the first account and never removed by Insight: sign-in was set up here."""
    return access_dir(runs_dir) / "sign-in.json"


def _users(runs_dir: Path) -> Document:
    return Document(runs_dir, users_file(runs_dir).name)


def _marker(runs_dir: Path) -> Document:
    return Document(runs_dir, marker_file(runs_dir).name)


def _parse(document: Document) -> dict[str, dict] | None:
    """The accounts; {} when there are none written; None when empty, unreadable or damaged."""
    try:
        text = document.text()
    except (OSError, ValueError):
        return None
    if text is None:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return None
    good = isinstance(data, dict) and all(
        isinstance(v, dict) and isinstance(v.get("hash"), str) for v in data.values()
    )
    return data if good and data else None


def _mark(runs_dir: Path) -> None:
    marker = _marker(runs_dir)
    if marker.exists():
        return
    with contextlib.suppress(OSError):  # a read-only runs folder: the accounts file still says it is set up
        marker.write({"set_up": time.time()})


def set_up(runs_dir: Path) -> bool:
    """Whether local sign-in was ever set up here: the marker, or an accounts file (even a damaged one)."""
    return _marker(runs_dir).exists() or _users(runs_dir).exists()


def load(runs_dir: Path) -> dict[str, dict]:
    """The accounts by name; {} when sign-in was never set up. Raises AccountsUnreadable once it was and
    the accounts file is missing, empty or damaged."""
    document = _users(runs_dir)
    data = _parse(document)
    if data:
        _mark(runs_dir)  # an accounts file from before the marker existed
        return data
    if set_up(runs_dir):
        raise AccountsUnreadable(
            tr(
                "Sign-in is set up here, but the accounts file {path} is missing, empty or damaged, so nobody "
                "can sign in: restore it from a backup, or add an account with `python -m trainer users add "
                "NAME --admin`.",
                path=f"{document.name} (PostgreSQL)" if document.address else str(document.path),
            )
        )
    return {}


def _write(runs_dir: Path, data: dict[str, dict]) -> None:
    _users(runs_dir).write(data)
    _mark(runs_dir)


def _for_change(runs_dir: Path) -> dict[str, dict]:
    """The accounts, to change them (under the lock). A damaged file is kept aside, not overwritten."""
    document = _users(runs_dir)
    data = _parse(document)
    if data is None:
        document.set_aside()
        return {}
    return data


def _matching(data: dict[str, dict], name: str) -> list[str]:
    return [n for n in data if key(n) == key(name)]


def _find(data: dict[str, dict], name: str) -> str:
    """The one account `name` means: the exact name, else the one that differs only in case."""
    if name in data:
        return name
    found = _matching(data, name)
    if len(found) != 1:
        raise AccountError(tr("There is no account called {name}.", name=name))
    return found[0]


def _stamp(record: dict) -> str:
    """A fingerprint of the password hash (a new salt each time): changes whenever the password does."""
    return hashlib.sha256(str(record.get("hash")).encode()).hexdigest()[:16]


def _account(name: str, record: dict) -> Account:
    return Account(name, bool(record.get("admin")), float(record.get("created") or 0), _stamp(record))


def accounts(runs_dir: Path) -> list[Account]:
    return [_account(name, record) for name, record in sorted(load(runs_dir).items())]


def any_accounts(runs_dir: Path) -> bool:
    try:
        return bool(load(runs_dir))
    except AccountsUnreadable:
        return False


def collisions(runs_dir: Path) -> list[list[str]]:
    """Groups of account names that differ only in case (from before names were case-insensitive)."""
    groups: dict[str, list[str]] = {}
    for name in sorted(load(runs_dir)):
        groups.setdefault(key(name), []).append(name)
    return [names for names in groups.values() if len(names) > 1]


def account(runs_dir: Path, name: str) -> Account | None:
    """The account `name` signs in as, read again now; None when there is none, or several differing only
    in case. Raises AccountsUnreadable (see load)."""
    data = load(runs_dir)
    found = _matching(data, name)
    return _account(found[0], data[found[0]]) if len(found) == 1 else None


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
    with _users(runs_dir).locked():
        data = _for_change(runs_dir)
        same = _matching(data, name)
        if same:
            raise AccountError(
                tr(
                    "There is already an account called {name}. Use `users passwd {name}` to change its password.",
                    name=same[0],
                )
            )
        data[name] = {"hash": _hasher.hash(password), "admin": admin, "created": time.time()}
        _write(runs_dir, data)
    return _account(name, data[name])


def remove(runs_dir: Path, name: str) -> None:
    with _users(runs_dir).locked():
        data = load(runs_dir)
        del data[_find(data, name)]
        _write(runs_dir, data)


def set_password(runs_dir: Path, name: str, password: str) -> None:
    _check_password(password)
    with _users(runs_dir).locked():
        data = load(runs_dir)
        data[_find(data, name)]["hash"] = _hasher.hash(password)
        _write(runs_dir, data)


def delay_for(name: str) -> float:
    """The pause before answering a sign-in for `name`: doubles with each wrong password in a row."""
    failures = max(_failures.count(key(name)), _guesses.count(key(name)))
    return 0.0 if failures == 0 else min(MAX_DELAY, FIRST_DELAY * 2.0 ** (failures - 1))


@contextlib.contextmanager
def _one_at_a_time(name_key: str) -> Iterator[None]:
    """One sign-in per name at a time, so each waits out the delay the one before it earned."""
    with _name_locks_guard:
        entry = _name_locks.setdefault(name_key, [threading.Lock(), 0])
        entry[1] += 1
    try:
        with entry[0]:
            yield
    finally:
        with _name_locks_guard:
            entry[1] -= 1
            if entry[1] == 0:
                del _name_locks[name_key]


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def _matches(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def verify(runs_dir: Path, name: str, password: str, sleep=time.sleep) -> Account | None:
    """The account when `password` is right; None otherwise, after the name's growing delay (an unknown
    name takes as long as a known one, so names cannot be probed; None for everyone while the accounts file
    is unreadable). Raises NameCollision for the right password of a name several accounts share."""
    name_key = key(name)
    with _one_at_a_time(name_key):
        sleep(delay_for(name))
        try:
            data = load(runs_dir)
        except AccountsUnreadable:
            data = {}  # nobody can sign in (the app says why)
        found = _matching(data, name)
        with _checks:
            right = [n for n in found if _matches(data[n]["hash"], password)]
            if not found:
                _matches(_dummy_hash(), password)  # the same work as a real check
        table = _failures if found else _guesses
        if right:
            table.forget(name_key)
        else:
            table.failed(name_key)
    if right and len(found) > 1:
        raise NameCollision(
            tr(
                "This account cannot sign in until an administrator fixes the accounts file: `python -m "
                "trainer users list` says what is wrong."
            )
        )
    return _account(found[0], data[found[0]]) if right else None
