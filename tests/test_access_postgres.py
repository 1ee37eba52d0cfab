"""Accounts, tokens, the audit log and the rate limit on a PostgreSQL server (INSIGHT_DATABASE_URL set): a
real server started by a fixture. Two runs folders stand for two app servers on two machines: what one
changes, the other sees at once (a removed account or a revoked token is refused there on its next use).
Tests of the files' behaviour that hold for any store run again here unchanged."""

from __future__ import annotations

import pytest
from test_access import (  # noqa: F401 - collected again here, on PostgreSQL
    test_a_wrong_password_is_refused_and_each_one_in_a_row_waits_longer,
    test_names_that_differ_only_in_case_are_one_account,
)
from test_access_audit import (  # noqa: F401 - collected again here, on PostgreSQL
    test_appends_from_several_processes_and_threads_at_once_keep_the_chain,
)
from test_serve_security import (  # noqa: F401 - collected again here: the service's tokens and rate on the server
    run_copy,
    test_a_real_two_worker_service_allows_the_rate_once_not_per_worker,
)

from trainer.access import audit, tokens, users
from trainer.runs import postgres

pytestmark = pytest.mark.usefixtures("on_postgres")  # every test on a database of its own


def test_two_app_servers_share_accounts_tokens_and_the_audit_log(tmp_path):
    here, there = tmp_path / "machine-a", tmp_path / "machine-b"
    users.add(here, "ana", "correct horse", admin=True)
    users.add(here, "bo", "correct horse")
    signed = users.verify(there, "ana", "correct horse", sleep=lambda s: None)
    assert signed is not None and signed.admin, "an account made on one machine signs in on the other"
    secret = tokens.create(here, "ci", "ana")
    gate_there = tokens.Verifier(there)
    assert gate_there.verify(secret).person == "ana"
    audit.record(here, "ana", "sign-in")
    audit.record(there, "ana", "start", "run-1")
    assert (
        [e["action"] for e in audit.events(there)]
        == ["sign-in", "start"]
        == [e["action"] for e in audit.events(here)]
    )
    assert audit.verify(there).intact
    tokens.revoke(there, "ci")
    assert gate_there.verify(secret) is None and tokens.Verifier(here).verify(secret) is None
    users.remove(there, "ana")
    assert users.account(here, "ana") is None and users.account(here, "bo").name == "bo", (
        "a removed account is gone on every machine"
    )
    assert not list(tmp_path.rglob("*.json")) and not list(tmp_path.rglob("*.jsonl")), (
        "nothing in the folders"
    )


def test_an_edited_or_cut_log_on_the_server_is_named_by_its_line(tmp_path, on_postgres):
    for i in range(4):
        audit.record(tmp_path, "ana", f"action-{i}")
    with postgres.connection(on_postgres) as con:
        con.execute(
            "UPDATE public.insight_audit SET line = replace(line, 'action-1', 'action-9') WHERE seq = 2"
        )
    verdict = audit.verify(tmp_path)
    assert not verdict.intact and verdict.broken == 3, verdict
    with postgres.connection(on_postgres) as con:
        con.execute(
            "UPDATE public.insight_audit SET line = replace(line, 'action-9', 'action-1') WHERE seq = 2"
        )
        assert audit.verify(tmp_path).intact
        con.execute("DELETE FROM public.insight_audit WHERE seq = 4")
    verdict = audit.verify(tmp_path)
    assert not verdict.intact and "cut after line 3" in verdict.sentence, verdict


def test_once_set_up_accounts_lost_on_the_server_let_nobody_in(tmp_path, on_postgres):
    users.add(tmp_path, "ana", "correct horse")
    with postgres.connection(on_postgres) as con:
        con.execute("DELETE FROM public.insight_documents WHERE name = 'users.json'")
    with pytest.raises(users.AccountsUnreadable, match="users.json"):
        users.account(tmp_path, "ana")
    assert users.verify(tmp_path, "ana", "correct horse", sleep=lambda s: None) is None


def test_replicas_on_two_machines_count_one_rate_on_the_server():
    from trainer.serve import rate as limits

    address = postgres.url()
    first, second = limits.ServerRate(address, 3, "8000"), limits.ServerRate(address, 3, "8000")
    other = limits.ServerRate(address, 3, "8001")  # another service
    try:
        taken = [replica.allow("ci") for replica in (first, second, first, second, first, second)]
        assert taken == [True, True, True, False, False, False]
        assert other.allow("ci") and first.allow("someone-else")
    finally:
        for replica in (first, second, other):
            replica.close()
    assert isinstance(limits.limiter(None, 3, "8000"), limits.ServerRate)


def test_accounts_and_tokens_made_before_the_server_stay_when_it_is_set(tmp_path, monkeypatch, on_postgres):
    """Sign-in set up in the runs folder must stay set up (never open the app) once the server is named."""
    monkeypatch.delenv(postgres.ENV)
    users.add(tmp_path, "ana", "correct horse", admin=True)
    secret = tokens.create(tmp_path, "ci", "ana")
    monkeypatch.setenv(postgres.ENV, on_postgres)
    assert users.set_up(tmp_path) and users.account(tmp_path, "ana").admin
    assert users.verify(tmp_path, "ana", "correct horse", sleep=lambda s: None) is not None
    assert tokens.Verifier(tmp_path).verify(secret).person == "ana"


def test_a_url_that_cannot_be_read_never_shows_its_password(monkeypatch):
    monkeypatch.setenv(postgres.ENV, "postgresql://ana:s3cr%t@127.0.0.1:1/insight")
    with pytest.raises(postgres.DatabaseError) as said:
        postgres.connect_raw(postgres.url())
    assert "s3cr" not in str(said.value) and "percent-encoded" in str(said.value)
