"""trainer.access and its commands: local accounts, owners and sharing, quotas, model roots, the audit log,
and the launcher that refuses to open the app to the network without sign-in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from trainer import runs
from trainer.access import audit, owners, quotas, users
from trainer.access.models import ModelNotAllowed, allowed_model
from trainer.access.people import Person, local_owner
from trainer.runs import RunFolder, create_run

ROOT = Path(__file__).resolve().parent.parent


def cli(*args, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "trainer", *map(str, args)], cwd=ROOT, input=stdin, text=True,
                          capture_output=True, timeout=120, env={**os.environ, **(env or {})})  # fmt: skip


def test_accounts_store_a_slow_salted_hash_and_never_the_password(tmp_path):
    users.add(tmp_path, "ana", "correct horse", admin=True)
    users.add(tmp_path, "bo", "correct horse")
    stored = users.users_file(tmp_path).read_text()
    assert "correct horse" not in stored and stored.count("$argon2id$") == 2
    hashes = [v["hash"] for v in json.loads(stored).values()]
    assert hashes[0] != hashes[1], "a random salt per hash"
    assert oct(users.users_file(tmp_path).stat().st_mode & 0o777) == "0o600"
    assert [(a.name, a.admin) for a in users.accounts(tmp_path)] == [("ana", True), ("bo", False)]
    with pytest.raises(users.AccountError, match="already an account called ana"):
        users.add(tmp_path, "ana", "another one")
    with pytest.raises(users.AccountError, match="too short"):
        users.add(tmp_path, "cy", "short")
    with pytest.raises(users.AccountError, match="cannot be an account name"):
        users.add(tmp_path, "<b>x</b>", "long enough")


def test_a_wrong_password_is_refused_and_each_one_in_a_row_waits_longer(tmp_path):
    users.add(tmp_path, "ana", "correct horse")
    waits: list[float] = []
    assert users.verify(tmp_path, "ana", "correct horse", sleep=waits.append).name == "ana"
    for _ in range(4):
        assert users.verify(tmp_path, "ana", "wrong guess", sleep=waits.append) is None
    assert users.verify(tmp_path, "nobody", "wrong guess", sleep=waits.append) is None
    assert waits == [0.0, 0.0, 1.0, 2.0, 4.0, 0.0], "doubling per wrong password in a row"
    assert users.verify(tmp_path, "ana", "correct horse", sleep=waits.append) is not None and waits[-1] == 8.0
    assert users.delay_for("ana") == 0.0, "a right password resets it"
    users.set_password(tmp_path, "ana", "a new secret")
    assert users.verify(tmp_path, "ana", "correct horse", sleep=lambda s: None) is None
    assert users.verify(tmp_path, "ana", "a new secret", sleep=lambda s: None) is not None
    users.remove(tmp_path, "ana")
    assert users.verify(tmp_path, "ana", "a new secret", sleep=lambda s: None) is None


def test_the_users_and_audit_commands(tmp_path):
    done = cli("users", "add", "ana", "--admin", "--runs-dir", tmp_path, stdin="correct horse\n")
    assert done.returncode == 0 and done.stdout.strip() == "added ana (admin)", done.stderr
    assert cli("users", "add", "bo", "--runs-dir", tmp_path, stdin="correct horse\n").returncode == 0
    assert cli("users", "list", "--runs-dir", tmp_path).stdout.splitlines() == ["ana  admin", "bo"]
    short = cli("users", "add", "cy", "--runs-dir", tmp_path, stdin="short\n")
    assert short.returncode == 2 and short.stderr.startswith("error: The password is too short")
    assert cli("users", "passwd", "bo", "--runs-dir", tmp_path, stdin="brand new one\n").returncode == 0
    assert users.verify(tmp_path, "bo", "brand new one", sleep=lambda s: None) is not None
    gone = cli("users", "remove", "nobody", "--runs-dir", tmp_path)
    assert gone.returncode == 2 and "no account called nobody" in gone.stderr
    assert cli("users", "remove", "bo", "--runs-dir", tmp_path).returncode == 0
    log = cli("audit", "--runs-dir", tmp_path, "--json")
    actions = [json.loads(line)["action"] for line in log.stdout.splitlines()]
    assert actions == ["add account", "add account", "change password", "remove account"]
    assert "correct horse" not in users.users_file(tmp_path).read_text() + log.stdout


def test_owners_see_their_runs_shared_runs_and_admins_everything(tmp_path):
    ana, bo, cy, admin = Person("ana"), Person("bo"), Person("cy"), Person("root", admin=True)
    run = create_run(tmp_path, "ana's run")
    owners.set_owner(run, "ana")
    assert owners.can_see(ana, run) and not owners.can_see(bo, run) and owners.can_see(admin, run)
    assert owners.can_change(ana, run) and not owners.can_change(bo, run) and owners.can_change(admin, run)
    owners.share(run, ["bo"])
    assert owners.can_see(bo, run) and not owners.can_see(cy, run) and not owners.can_change(bo, run)
    owners.share(run, [owners.EVERYONE])
    assert owners.can_see(cy, run) and not owners.can_change(cy, run)
    owners.share(run, [])
    assert not owners.can_see(bo, run)
    legacy = create_run(tmp_path, "made on the command line")
    assert owners.access_of(legacy).owner == local_owner(), "no access.json: the local owner's"


def test_quotas_say_which_one_is_reached(tmp_path, monkeypatch):
    ana = Person("ana")
    for i in range(2):
        run = create_run(tmp_path, f"job {i}")
        owners.set_owner(run, "ana")
        RunFolder(run).write_status(runs.QUEUED, queued_at=time.time())
    monkeypatch.setenv("INSIGHT_MAX_JOBS_PER_PERSON", "3")
    quotas.check(ana, tmp_path)
    monkeypatch.setenv("INSIGHT_MAX_JOBS_PER_PERSON", "2")
    with pytest.raises(quotas.QuotaError, match="already have 2 jobs queued or running"):
        quotas.check(ana, tmp_path)
    quotas.check(Person("bo"), tmp_path)
    quotas.check(Person("root", admin=True), tmp_path)
    monkeypatch.setenv("INSIGHT_MAX_JOBS_PER_PERSON", "9")
    (run / "big.bin").write_bytes(bytes(2_000_000))
    monkeypatch.setenv("INSIGHT_MAX_DISK_MB_PER_PERSON", "2")
    with pytest.raises(
        quotas.QuotaError, match=r"Your runs take 2.0 MB, and the most one person may keep is 2 MB"
    ):
        quotas.check(ana, tmp_path)
    quotas.check(Person("bo"), tmp_path)  # bo owns none of them
    monkeypatch.setenv("INSIGHT_MAX_DISK_MB_PER_PERSON", "3")
    quotas.check(ana, tmp_path)


def test_only_model_folders_under_the_roots_are_accepted_and_no_other_path_is_described(
    tmp_path, monkeypatch
):
    root = tmp_path / "models"
    (root / "my-bert").mkdir(parents=True)
    monkeypatch.setenv("INSIGHT_MODEL_ROOTS", str(root))
    assert allowed_model("default") == "default"
    assert allowed_model("my-bert") == str((root / "my-bert").resolve())
    assert allowed_model(str(root / "my-bert")) == str((root / "my-bert").resolve())
    said = set()
    for name in ("/etc/passwd", "~/.ssh", "/nonexistent/x", "../../etc", "my-bert/../../..", str(tmp_path)):
        with pytest.raises(ModelNotAllowed) as caught:
            allowed_model(name)
        said.add(str(caught.value))
    assert len(said) == 1, "the same answer whether the path exists or not"
    (root / "escape").symlink_to("/etc", target_is_directory=True)
    with pytest.raises(ModelNotAllowed):
        allowed_model("escape")


def test_the_audit_log_only_grows_one_event_per_line(tmp_path):
    audit.record(tmp_path, "ana", "sign in", how="local")
    audit.record(tmp_path, "ana", "start", "run-1", name="<b>x</b>")
    with audit.log_file(tmp_path).open("a") as out:
        out.write("{damaged\n")
    audit.record(tmp_path, "bo", "download", "run-1/model.zip")
    events = audit.events(tmp_path)
    assert [(e["who"], e["action"], e["target"]) for e in events] == [
        ("ana", "sign in", ""), ("ana", "start", "run-1"), ("bo", "download", "run-1/model.zip")]  # fmt: skip
    assert audit.events(tmp_path, last=1)[0]["who"] == "bo"
    out = cli("audit", "--runs-dir", tmp_path, "--last", "2").stdout.splitlines()
    assert len(out) == 2 and "ana  start  run-1" in out[0] and "bo  download  run-1/model.zip" in out[1]


def test_the_app_is_not_opened_to_the_network_without_sign_in(tmp_path):
    env = {**os.environ, "INSIGHT_RUNS_DIR": str(tmp_path / "runs"), "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "insight_ui.serve", "--address", "0.0.0.0"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, env=env)  # fmt: skip
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith(
        "error: Insight is listening on 0.0.0.0, where others on the network can reach it"
    )
    assert "python -m trainer users add NAME" in done.stderr and "secrets.toml" in done.stderr
    assert "make app" in done.stderr and done.stderr.count("\n") == 1
