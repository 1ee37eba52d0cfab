"""A person who acts on runs, and the two people that exist without sign-in."""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trainer.i18n import tr


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


def same_person(a: str, b: str) -> bool:
    """Whether two person ids name one person: names and e-mails are compared case-insensitively (local
    account names are unique that way)."""
    return a.strip().casefold() == b.strip().casefold()


def sign_in_required() -> bool:
    """INSIGHT_REQUIRE_SIGN_IN=1: sign-in is compulsory whatever address the app listens on (behind a
    reverse proxy the app listens on 127.0.0.1, yet serves the network)."""
    return os.environ.get("INSIGHT_REQUIRE_SIGN_IN", "").strip().lower() in ("1", "true", "yes", "on")


def allowed_email_domains() -> set[str]:
    """INSIGHT_ALLOWED_EMAIL_DOMAINS: the e-mail domains OpenID Connect sign-in accepts (comma-separated;
    unset: any)."""
    raw = os.environ.get("INSIGHT_ALLOWED_EMAIL_DOMAINS", "")
    return {d.strip().lstrip("@").casefold() for d in raw.split(",") if d.strip().lstrip("@")}


class IdentityRefused(ValueError):
    """An OpenID Connect identity Insight does not accept; the message says why."""


def oidc_identity(claims: Mapping[str, Any]) -> str:
    """The person id of an OpenID Connect sign-in: the e-mail only when the provider says it is verified,
    else the subject (`sub`, the provider's own id for the person). With allowed domains set, a verified
    e-mail in one of them is required. Raises IdentityRefused (with a sentence) otherwise."""
    email = str(claims.get("email") or "").strip()
    verified = claims.get("email_verified") in (True, "true", "True")
    subject = str(claims.get("sub") or "").strip()
    domains = allowed_email_domains()
    if domains:
        if not (email and verified):
            raise IdentityRefused(
                tr(
                    "Insight accepts only verified e-mail addresses, and your provider did not say yours is verified."
                )
            )
        if email.rpartition("@")[2].casefold() not in domains:
            raise IdentityRefused(
                tr("Accounts of {domain} may not use this Insight.", domain=email.rpartition("@")[2])
            )
    if email and verified:
        return email
    if subject:
        return subject
    raise IdentityRefused(tr("Your provider said neither a verified e-mail address nor who you are (sub)."))
