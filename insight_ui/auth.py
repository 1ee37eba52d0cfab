"""Who is using the app: sign-in (OpenID Connect through `st.login`, or local accounts), and what they may do.

Modes (INSIGHT_SIGN_IN = auto | oidc | local | none; auto picks the first that is set up):
- oidc: an `[auth]` section in .streamlit/secrets.toml (any OpenID Connect provider); Streamlit's
  `st.login` signs people in and `st.user` says who they are (their e-mail when the provider says it is
  verified, else their subject; INSIGHT_ALLOWED_EMAIL_DOMAINS limits who may come in).
- local: accounts made with `python -m trainer users add NAME`; the app shows a sign-in form; a wrong
  password is slowed down (trainer.access.users) and a session ends after INSIGHT_SESSION_HOURS (8). The
  account is read again on every rerun: removed, or its password changed, the session ends; an admin no
  longer one is no longer treated as one. Once set up, a missing or damaged accounts file lets nobody in.
- none: no sign-in; the machine's own user (trainer.access.local_owner) owns and may change everything,
  as before sign-in existed. Refused unless the server listens on this machine only (127.0.0.1) and
  INSIGHT_REQUIRE_SIGN_IN is not set (set it behind a reverse proxy, where 127.0.0.1 serves the network).

Admins: local accounts made with --admin, and the names or e-mails in INSIGHT_ADMINS.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import streamlit as st

from insight_ui import state
from insight_ui.safe import md
from trainer.access import audit, owners, users
from trainer.access.people import (
    IdentityRefused,
    Person,
    admins,
    local_person,
    oidc_identity,
    sign_in_required,
)
from trainer.i18n import N_, tr
from trainer.model.roots import ModelNotAllowed, allowed_model

NONE, OIDC, LOCAL = "none", "oidc", "local"
LOCAL_ADDRESSES = {"127.0.0.1", "localhost", "::1"}
PERSON = state.SIGNED_IN  # session key: {"id", "name", "admin", "since", "mode", "stamp"}
REFUSAL = N_(
    "Insight is listening on {address}, where others on the network can reach it, and no sign-in is set up. "
    "Set up sign-in first (an [auth] section in .streamlit/secrets.toml for your company's OpenID Connect "
    "provider, or accounts made with `python -m trainer users add NAME`: see “Sharing Insight with a team” in "
    "the README), or start it with `make app`, which listens on 127.0.0.1 only."
)
REQUIRED = N_(
    "Sign-in is required here (INSIGHT_REQUIRE_SIGN_IN=1) but none is set up: create the first account with "
    "`python -m trainer users add NAME --admin`, or add an [auth] section for your OpenID Connect provider to "
    ".streamlit/secrets.toml (see “Sharing Insight with a team” in the README)."
)


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file at all
        return False


def mode() -> str:
    forced = os.environ.get("INSIGHT_SIGN_IN", "auto").strip().lower()
    if forced in (NONE, OIDC, LOCAL):
        return forced
    if _oidc_configured():
        return OIDC
    if users.set_up(state.runs_dir()):  # even when its accounts file is damaged now: that refuses, not opens
        return LOCAL
    return NONE


def listening_address() -> str:
    return str(st.get_option("server.address") or "").strip()


def exposed(address: str | None = None) -> bool:
    """Whether the server listens beyond this machine (no address: every interface)."""
    address = listening_address() if address is None else address
    return address not in LOCAL_ADDRESSES


def session_seconds() -> float:
    try:
        return float(os.environ.get("INSIGHT_SESSION_HOURS", "8")) * 3600
    except ValueError:
        return 8 * 3600.0


def _remember(person: Person, how: str, stamp: str = "") -> Person:
    state.put(PERSON, {"id": person.id, "name": person.name, "admin": person.admin,
                       "since": time.time(), "mode": how, "stamp": stamp})  # fmt: skip
    audit.record(state.runs_dir(), person.id, "sign in", how=how)
    return person


def _is_admin(person_id: str, flagged: bool = False) -> bool:
    return flagged or person_id.casefold() in admins()


def _claims() -> dict | None:
    """What the OpenID Connect provider said about the person signed in with st.login; None: nobody is."""
    user = st.user
    return dict(user) if user.is_logged_in else None


def _oidc_person() -> Person | None:
    claims = _claims()
    if claims is None:
        return None
    try:
        person_id = oidc_identity(claims)
    except IdentityRefused:
        return None  # gate() says why
    person = Person(person_id, str(claims.get("name") or ""), _is_admin(person_id))
    known = state.get(PERSON)
    if not known or known.get("id") != person.id:
        _remember(person, OIDC)
    return person


def _local_person() -> Person | None:
    known = state.get(PERSON)
    if not known or known.get("mode") != LOCAL:
        return None
    if time.time() - float(known.get("since", 0)) > session_seconds():
        state.pop(PERSON)
        state.put(state.SIGN_IN_NOTE, N_("Your session ended. Sign in again."))  # gate() translates it
        return None
    try:  # read again on every rerun: a removal, a new password or a lost admin flag counts at once
        account = users.account(state.runs_dir(), str(known.get("id") or ""))
    except users.AccountsUnreadable:
        return None  # gate() refuses everyone, saying why; the session may go on once the file is restored
    if account is None or account.stamp != known.get("stamp"):
        state.pop(PERSON)
        state.put(state.SIGN_IN_NOTE, N_("Your account was changed or removed. Sign in again."))
        return None
    return Person(account.name, known.get("name", ""), _is_admin(account.name, account.admin))


def current() -> Person | None:
    """Who is signed in now (the local user when there is no sign-in), or None."""
    how = mode()
    if how == NONE:  # the local user only where gate() lets the app run without sign-in
        return None if sign_in_required() or exposed() else local_person()
    return _oidc_person() if how == OIDC else _local_person()


def gate() -> Person:
    """The person using the app; otherwise the sign-in page is drawn and the script stops here."""
    how = mode()
    if how == NONE:
        if sign_in_required():
            _refuse(tr(REQUIRED))
        if exposed():
            _refuse(tr(REFUSAL, address=listening_address() or tr("every network interface")))
        return local_person()
    if how == LOCAL:
        try:
            users.load(state.runs_dir())
        except users.AccountsUnreadable as exc:
            _refuse(str(exc))
    person = current()
    if person is not None:
        return person
    st.title(tr("Sign in to Insight"))
    claims = _claims() if how == OIDC else None
    if claims is not None:  # signed in with the provider, but not as someone Insight accepts
        try:
            oidc_identity(claims)
        except IdentityRefused as exc:
            st.error(md(str(exc)), icon=":material/lock:")
            if st.button(tr("Sign out"), icon=":material/logout:", key="sign_out_refused"):
                st.logout()  # to come back with another account of the provider
            st.stop()
    note = state.pop(state.SIGN_IN_NOTE)
    if note:
        st.info(tr(note), icon=":material/schedule:")
    if how == OIDC:
        st.markdown(
            tr("Insight is shared with your team: sign in with your organisation's account to see your work.")
        )
        if st.button(tr("Sign in"), type="primary", icon=":material/login:", key="sign_in"):
            st.login()
        st.stop()
    with st.form("sign_in_form"):
        name = st.text_input(tr("Name"), key="sign_in_name")
        password = st.text_input(tr("Password"), type="password", key="sign_in_password")
        pressed = st.form_submit_button(tr("Sign in"), type="primary", icon=":material/login:")
    if pressed:
        try:
            account = users.verify(state.runs_dir(), name.strip(), password)
        except users.AccountError as exc:  # several accounts differ from this name only in case
            account = None
            st.error(md(str(exc)), icon=":material/error:")
        else:
            if account is None:
                st.error(tr("Wrong name or password."), icon=":material/error:")
        if account is None:
            audit.record(state.runs_dir(), name.strip()[:64], "sign in refused")
        else:
            _remember(
                Person(account.name, admin=_is_admin(account.name, account.admin)), LOCAL, account.stamp
            )
            st.rerun()
    st.stop()


def _refuse(sentence: str) -> None:
    """Nothing is served: one sentence says why."""
    st.error(md(sentence), icon=":material/lock:")
    st.stop()


def sign_out() -> None:
    person = current()
    if person is not None:
        audit.record(state.runs_dir(), person.id, "sign out")
    state.forget(PERSON, state.CURRENT_RUN, state.CURRENT_JOB, state.DATASET)
    if mode() == OIDC:
        st.logout()  # deletes the identity cookie and redirects; nothing after it may rerun this session
        st.stop()


def me() -> Person:
    """The person using the app (pages call this after the gate; the local user without sign-in)."""
    return current() or gate()


def signed_in() -> bool:
    return mode() != NONE


def can_see(run_dir: str | Path) -> bool:
    return owners.can_see(me(), Path(run_dir))


def can_change(run_dir: str | Path) -> bool:
    return owners.can_change(me(), Path(run_dir))


def record(action: str, target: str = "", **details) -> None:
    audit.record(state.runs_dir(), me().id, action, target, **details)


def recorder(action: str, target: str = "", **details):
    """An on_click callback that writes one audit event (downloads)."""
    return lambda: record(action, target, **details)


def model_for(name: str) -> str:
    """The backbone a visitor typed, as the loader takes it. With sign-in on, only the bundled model and
    folders under the model roots (the message never says whether another path exists)."""
    if not signed_in():
        return name
    try:
        return allowed_model(name)
    except ModelNotAllowed as exc:
        raise ValueError(str(exc)) from None
