"""The app shared by a team (AppTest, local accounts): sign-in, each person's own runs, sharing, who may
cancel, session expiry, the audit page, model roots, and the refusal to serve the network without sign-in."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from app_kit import open_app
from helpers import fake_run
from streamlit.testing.v1 import AppTest

from insight_ui import state
from trainer import runs
from trainer.access import audit, owners, users
from trainer.runs import RunFolder

ROOT = Path(__file__).resolve().parent.parent
GOLD = ["positive", "negative", "neutral"] * 10


@pytest.fixture
def team(tmp_path, monkeypatch):
    """A runs folder with accounts ana and bo (and admin root) and one finished run of each of ana and bo."""
    runs_dir = tmp_path / "runs"
    for name, admin in (("ana", False), ("bo", False), ("boss", True)):
        users.add(runs_dir, name, f"{name}-password", admin=admin)
    made = {}
    for who in ("ana", "bo"):
        made[who] = fake_run(runs_dir, f"{who}'s secret run", GOLD, GOLD)
        owners.set_owner(made[who], who)
    monkeypatch.setenv("INSIGHT_RUNS_DIR", str(runs_dir))
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(users, "delay_for", lambda name: 0.0)  # the growing delay has its own test
    return runs_dir, made


def sign_in(name: str, password: str | None = None) -> AppTest:
    at = open_app(timeout=60)
    assert [t.value for t in at.title] == ["Sign in to Insight"]
    at.text_input(key="sign_in_name").input(name)
    at.text_input(key="sign_in_password").input(password or f"{name}-password")
    next(b for b in at.button if b.label == "Sign in").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def run_names(at: AppTest) -> list[str]:
    at.switch_page("insight_ui/pages/train.py").run()
    frames = [f.value for f in at.dataframe]
    return sorted(n for f in frames if "name" in f for n in f["name"].tolist())


def test_nothing_shows_before_sign_in_and_a_wrong_password_is_refused(team):
    runs_dir, _ = team
    at = sign_in("ana", "not-her-password")
    assert [t.value for t in at.title] == ["Sign in to Insight"]
    assert any("Wrong name or password." in e.value for e in at.error)
    assert not [p for p in at.sidebar.text if "secret run" in p.value]
    at = sign_in("ana")
    assert at.title[0].value == "Data" and any(t.value == "ana" for t in at.sidebar.text)
    actions = [(e["who"], e["action"]) for e in audit.events(runs_dir)]
    assert ("ana", "sign in refused") in actions and ("ana", "sign in") in actions


def test_each_person_sees_their_own_runs_until_one_is_shared(team):
    _, made = team
    at = sign_in("bo")
    assert run_names(at) == ["bo's secret run"]
    at.session_state[state.CURRENT_RUN] = str(made["ana"])  # typed in by hand: not opened
    at.switch_page("insight_ui/pages/evaluate.py").run()
    assert not at.exception
    picker = (
        at.selectbox(key="evaluate_run")
        if any(s.key == "evaluate_run" for s in at.selectbox)
        else at.selectbox[0]
    )
    assert str(made["ana"]) not in picker.options and all("ana" not in o for o in picker.options)
    assert at.session_state[state.CURRENT_RUN] != str(made["ana"])
    owners.share(made["ana"], ["bo"])
    assert run_names(sign_in("bo")) == ["ana's secret run", "bo's secret run"]
    owners.share(made["ana"], [owners.EVERYONE])
    assert "ana's secret run" in run_names(sign_in("boss")), "an admin sees everything"


def test_another_persons_job_is_never_shown_by_name_nor_cancellable(team):
    import subprocess
    import sys

    from trainer.files import locks

    runs_dir, made = team
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    lock = locks.try_lock(locks.device_lock_file(runs_dir))  # nothing else starts while the test looks
    try:
        RunFolder(made["ana"]).write_status(runs.RUNNING, name="ana's job", pid=sleeper.pid)
        RunFolder(made["bo"]).write_status(runs.QUEUED, name="bo's job", queued_at=time.time())
        at = sign_in("bo")
        at.switch_page("insight_ui/pages/train.py").run()
        shown = "\n".join(str(e.value) for kind in ("markdown", "caption", "text") for e in getattr(at, kind))
        shown += "\n".join(str(p.proto.text) for p in at.get("progress"))
        assert "waiting for another person's job to finish" in shown, shown[-2000:]
        assert "ana" not in shown.replace("Insight", ""), [ln for ln in shown.splitlines() if "ana" in ln]
        cancels = [b.key for b in at.button if b.key and b.key.startswith("cancel_")]
        assert cancels == [f"cancel_{made['bo'].name}"], "only bo's own job has a Cancel button"
        at = sign_in("ana")
        at.switch_page("insight_ui/pages/train.py").run()
        assert f"cancel_{made['ana'].name}" in [b.key for b in at.button if b.key]
    finally:
        sleeper.kill()
        sleeper.wait()
        if lock is not None:
            os.close(lock)
        state._job_manager.clear()


def test_a_session_ends_after_its_hours(team, monkeypatch):
    at = sign_in("ana")
    monkeypatch.setenv("INSIGHT_SESSION_HOURS", "0.00001")  # 36 ms
    time.sleep(0.1)
    at.run()
    assert [t.value for t in at.title] == ["Sign in to Insight"]
    assert any("Your session ended" in i.value for i in at.info)


def test_sign_out_ends_access(team):
    at = sign_in("ana")
    at.button(key="sign_out").click().run()
    assert [t.value for t in at.title] == ["Sign in to Insight"]
    at.switch_page("insight_ui/pages/train.py").run()
    assert [t.value for t in at.title] == ["Sign in to Insight"], "no page opens after signing out"


def test_only_admins_have_the_audit_page(team):
    at = sign_in("boss")
    at.switch_page("insight_ui/pages/audit.py").run()
    assert at.title[0].value == "Audit" and at.dataframe, "the log as a table"
    assert "sign in" in at.dataframe[0].value["did"].tolist()
    at = sign_in("ana")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("insight_ui/pages/audit.py")  # not in her navigation at all


def test_a_model_folder_outside_the_roots_is_refused_without_saying_if_it_exists(team, tmp_path, monkeypatch):
    monkeypatch.setenv("INSIGHT_MODEL_ROOTS", str(tmp_path / "models"))
    at = sign_in("ana")
    at.session_state[state.INCOMING] = (
        "reviews.csv",
        (ROOT / "sample_data" / "product_sentiment.csv").read_bytes(),
    )
    at.run()
    said = []
    for path in ("/etc", "/etc/passwd", "/no/such/folder"):
        at.text_input(key=state.BACKBONE).set_value(path).run()
        assert not at.exception
        said.append([str(w.value) for w in at.warning if "only opens the bundled model" in str(w.value)])
    assert said[0] and said[0] == said[1] == said[2], said
    assert not any("is a file" in str(e.value) or "config.json" in str(e.value) for e in at.warning)


def test_without_sign_in_the_app_refuses_to_serve_another_interface(tmp_path, monkeypatch):
    from streamlit import config

    monkeypatch.setenv("INSIGHT_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.chdir(ROOT)
    before = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0")
    try:
        at = open_app(timeout=60)
    finally:
        config.set_option("server.address", before)
    assert [e.value for e in at.error][0].startswith("Insight is listening on 0.0.0.0")
    assert not at.title, "no page is served"
    at = open_app(timeout=60)
    assert at.title[0].value == "Data" and not at.error, (
        "on 127.0.0.1 it is the one local user's app, as before"
    )


def test_the_owner_shares_from_the_train_page_and_a_viewer_may_not_delete_or_relabel(team):
    import pandas as pd

    runs_dir, made = team

    def script(run_dir, who, stamp):
        import time as clock
        from pathlib import Path

        import streamlit as st

        from insight_ui import auth
        from insight_ui.components.storage import storage_section
        from trainer.runs import run_info

        st.session_state[auth.PERSON] = {
            "id": who,
            "name": "",
            "admin": False,
            "since": clock.time(),
            "mode": "local",
            "stamp": stamp,  # the session of the account's current password
        }
        storage_section(run_info(Path(run_dir)))

    def stamp(who: str) -> str:
        return users.account(runs_dir, who).stamp

    at = open_app(script=script, args=(str(made["ana"]), "ana", stamp("ana")), timeout=30)
    assert not at.exception and at.expander[0].label == "Sharing: only you"
    at.radio(key=f"share_mode_{made['ana'].name}").set_value("These people").run()
    at.text_input(key=f"share_names_{made['ana'].name}").input("bo, cy").run()
    at.button(key=f"share_save_{made['ana'].name}").click().run()
    assert owners.access_of(made["ana"]).shared == ["bo", "cy"]
    assert ("ana", "share", made["ana"].name) in [
        (e["who"], e["action"], e["target"]) for e in audit.events(runs_dir)
    ]
    at = open_app(script=script, args=(str(made["ana"]), "bo", stamp("bo")), timeout=30)
    assert any("Shared with you by ana" in str(c.value) for c in at.caption)
    assert not [b for b in at.button if b.key and b.key.startswith("delete")], "deleting is the owner's"
    # the viewer opens the shared run on Evaluate: the label decisions are read-only for him
    train = pd.DataFrame([{"row": 0, "split": "test", "index": 0, "text": "text number 0", "given": "positive",
                           "suggested": "negative", "score": 0.01}])  # fmt: skip
    RunFolder(made["ana"]).write_issues(train, {"rows": 30, "folds": 5})
    at = sign_in("bo")
    at.session_state[state.CURRENT_RUN] = str(made["ana"])
    at.switch_page("insight_ui/pages/evaluate.py").run()
    assert not at.exception
    assert at.button(key="use_corrected").disabled, "relabelling is the owner's"


def test_a_person_past_their_job_quota_is_told_so_and_nothing_is_queued(team, monkeypatch):
    from trainer.files import locks

    runs_dir, made = team
    RunFolder(made["bo"]).write_status(runs.QUEUED, queued_at=time.time())
    monkeypatch.setenv("INSIGHT_MAX_JOBS_PER_PERSON", "1")
    lock = locks.try_lock(locks.device_lock_file(runs_dir))
    try:
        at = sign_in("bo")
        at.session_state[state.INCOMING] = (
            "reviews.csv",
            (ROOT / "sample_data" / "product_sentiment.csv").read_bytes(),
        )
        at.run()
        at.switch_page("insight_ui/pages/train.py").run()
        before = {p.name for p in runs_dir.iterdir()}
        at.button(key="start_training").click().run()
        assert any("already have 1 job queued or running" in str(e.value) for e in at.error), [
            e.value for e in at.error
        ]
        assert {p.name for p in runs_dir.iterdir()} == before, "no run was created"
    finally:
        if lock is not None:
            os.close(lock)
        state._job_manager.clear()


def plain(shown: str) -> str:
    """A message as read, without the escapes that keep Markdown from acting on it."""
    return shown.replace("\\", "")


def still_signed_in(at: AppTest) -> bool:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return [t.value for t in at.title] != ["Sign in to Insight"]


def test_a_removed_account_is_signed_out_at_its_next_rerun(team):
    runs_dir, _ = team
    at = sign_in("boss")
    assert run_names(at) == ["ana's secret run", "bo's secret run"]
    users.remove(runs_dir, "boss")
    assert not still_signed_in(at)
    assert any("Your account was changed or removed" in i.value for i in at.info)
    at.switch_page("insight_ui/pages/train.py").run()
    assert [t.value for t in at.title] == ["Sign in to Insight"] and not at.dataframe, "no run is listed"


def test_an_admin_no_longer_one_loses_the_admin_view_at_the_next_rerun(team):
    from trainer.files.atomic import write_json

    runs_dir, _ = team
    at = sign_in("boss")
    assert run_names(at) == ["ana's secret run", "bo's secret run"]
    data = json.loads(users.users_file(runs_dir).read_text())
    data["boss"]["admin"] = False  # as an administrator editing the accounts file would
    write_json(users.users_file(runs_dir), data, private=True)
    assert still_signed_in(at), "still boss, no longer an admin"
    assert run_names(at) == [], "another person's runs are gone from the list"
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("insight_ui/pages/audit.py")


def test_a_new_password_ends_every_session_made_with_the_old_one(team):
    runs_dir, _ = team
    here, there, bo = sign_in("ana"), sign_in("ana"), sign_in("bo")
    users.set_password(runs_dir, "ana", "a brand new password")
    assert not still_signed_in(here) and not still_signed_in(there)
    assert still_signed_in(bo), "other people's sessions go on"
    at = sign_in("ANA", "a brand new password")
    assert at.title[0].value == "Data" and any(t.value == "ana" for t in at.sidebar.text), "her own name"
    assert run_names(at) == ["ana's secret run"]


def test_a_damaged_accounts_file_lets_nobody_in_and_shows_no_run(team):
    runs_dir, _ = team
    at = sign_in("ana")
    for damage in (b"", b"{", None):
        if damage is None:
            users.users_file(runs_dir).unlink()
        else:
            users.users_file(runs_dir).write_bytes(damage)
        for page in (at, open_app(timeout=60, run=False)):
            page.run()
            assert not page.exception and not page.title and not page.dataframe, damage
            assert [plain(e.value) for e in page.error] == [
                f"Sign-in is set up here, but the accounts file {users.users_file(runs_dir)} is missing, empty or "
                "damaged, so nobody can sign in: restore it from a backup, or add an account with "
                "`python -m trainer users add NAME --admin`."
            ]


def test_names_differing_only_in_case_cannot_sign_in_until_fixed(team):
    from trainer.files.atomic import write_json

    runs_dir, made = team
    data = json.loads(users.users_file(runs_dir).read_text())
    data["ANA"] = dict(data["bo"])  # from before names were case-insensitive: bo's password, as ANA
    write_json(users.users_file(runs_dir), data, private=True)
    at = sign_in("ANA", "bo-password")
    assert [t.value for t in at.title] == ["Sign in to Insight"]
    assert any("cannot sign in until an administrator fixes the accounts file" in e.value for e in at.error)
    assert run_names(sign_in("bo")) == ["bo's secret run"], "other accounts sign in as before"


def test_with_sign_in_required_the_app_on_this_machine_refuses_until_an_account_exists(tmp_path, monkeypatch):
    from helpers import fake_run

    monkeypatch.setenv("INSIGHT_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("INSIGHT_REQUIRE_SIGN_IN", "1")
    monkeypatch.chdir(ROOT)
    fake_run(tmp_path / "runs", "a private run", GOLD, GOLD)
    at = open_app(timeout=60)
    assert not at.title and not at.dataframe, "nothing is served on 127.0.0.1 either"
    said = [plain(e.value) for e in at.error]
    assert len(said) == 1 and said[0].startswith(
        "Sign-in is required here (INSIGHT_REQUIRE_SIGN_IN=1) but none"
    )
    assert "`python -m trainer users add NAME --admin`" in said[0]
    users.add(tmp_path / "runs", "ana", "ana-password")
    assert [t.value for t in sign_in("ana").title] == ["Data"]


def oidc_app(monkeypatch, claims: dict) -> AppTest:
    """The app with OpenID Connect sign-in, where the provider said `claims` about the person."""
    from insight_ui import auth

    monkeypatch.setenv("INSIGHT_SIGN_IN", "oidc")
    monkeypatch.setattr(auth, "_claims", lambda: dict(claims))
    at = open_app(timeout=60)
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_openid_connect_trusts_an_e_mail_only_when_the_provider_verified_it(team, monkeypatch):
    at = oidc_app(monkeypatch, {"is_logged_in": True, "email": "ana", "sub": "someone-else"})
    assert at.title[0].value == "Data" and run_names(at) == [], "an unverified e-mail is not ana's identity"
    at = oidc_app(monkeypatch, {"is_logged_in": True, "email": "ana", "email_verified": True, "sub": "a-1"})
    assert run_names(at) == ["ana's secret run"]


def test_openid_connect_refuses_e_mail_domains_not_allowed(team, monkeypatch):
    monkeypatch.setenv("INSIGHT_ALLOWED_EMAIL_DOMAINS", "team.example")
    owners.set_owner(team[1]["ana"], "ana@team.example")
    at = oidc_app(monkeypatch, {"is_logged_in": True, "email": "eve@evil.example", "email_verified": True,
                                "sub": "e-1"})  # fmt: skip
    assert [t.value for t in at.title] == ["Sign in to Insight"] and not at.dataframe
    assert [plain(e.value) for e in at.error] == ["Accounts of evil.example may not use this Insight."]
    assert any(b.key == "sign_out_refused" for b in at.button), "a way to sign in with another account"
    at = oidc_app(monkeypatch, {"is_logged_in": True, "email": "ana@team.example", "email_verified": True})
    assert run_names(at) == ["ana's secret run"]
