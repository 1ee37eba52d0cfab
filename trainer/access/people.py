"""A person who acts on runs, and the two people that exist without sign-in."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Person:
    """Someone acting: `id` is what owns runs (a local account name, or an OpenID e-mail / subject)."""

    id: str
    name: str = ""
    admin: bool = False

    @property
    def shown(self) -> str:
        return self.name or self.id


def local_owner() -> str:
    """Who owns what the command line (and the app without sign-in) creates: INSIGHT_LOCAL_OWNER, else the
    system user name."""
    configured = os.environ.get("INSIGHT_LOCAL_OWNER", "").strip()
    if configured:
        return configured
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "local"


def local_person() -> Person:
    """The machine's own user: owns and may change everything, as before sign-in existed."""
    return Person(local_owner(), admin=True)


def admins() -> set[str]:
    """People named admins in INSIGHT_ADMINS (comma-separated account names or e-mail addresses)."""
    return {a.strip().casefold() for a in os.environ.get("INSIGHT_ADMINS", "").split(",") if a.strip()}
