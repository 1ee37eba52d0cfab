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
from cli_kit import trainer_cli

from trainer import runs
from trainer.access import audit, owners, quotas, users
from trainer.access.people import Person, local_owner
from trainer.model.roots import ModelNotAllowed, allowed_model
from trainer.runs import RunFolder, create_run

ROOT = Path(__file__).resolve().parent.parent


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
    done = trainer_cli("users", "add", "ana", "--admin", "--runs-dir", tmp_path, stdin="correct horse\n")
    assert done.returncode == 0 and done.stdout.strip() == "added ana (admin)", done.stderr
    assert trainer_cli("users", "add", "bo", "--runs-dir", tmp_path, stdin="correct horse\n").returncode == 0
    assert trainer_cli("users", "list", "--runs-dir", tmp_path, in_process=True).stdout.splitlines() == [
        "ana  admin",
        "bo",
    ]
    short = trainer_cli("users", "add", "cy", "--runs-dir", tmp_path, stdin="short\n")
    assert short.returncode == 2 and short.stderr.startswith("error: The password is too short")
    assert (
        trainer_cli("users", "passwd", "bo", "--runs-dir", tmp_path, stdin="brand new one\n").returncode == 0
    )
    assert users.verify(tmp_path, "bo", "brand new one", sleep=lambda s: None) is not None
    gone = trainer_cli("users", "remove", "nobody", "--runs-dir", tmp_path, in_process=True)
    assert gone.returncode == 2 and "no account called nobody" in gone.stderr
    assert trainer_cli("users", "remove", "bo", "--runs-dir", tmp_path, in_process=True).returncode == 0
    log = trainer_cli("audit", "--runs-dir", tmp_path, "--json", in_process=True)
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
    out = trainer_cli("audit", "--runs-dir", tmp_path, "--last", "2", in_process=True).stdout.splitlines()
    assert len(out) == 2 and "ana  start  run-1" in out[0] and "bo  download  run-1/model.zip" in out[1]


def test_the_app_is_not_opened_to_the_network_without_sign_in(tmp_path):
    env = {**os.environ, "INSIGHT_RUNS_DIR": str(tmp_path / "runs"), "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "insight_ui.launch", "--address", "0.0.0.0"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, env=env)  # fmt: skip
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith(
        "error: Insight is listening on 0.0.0.0, where others on the network can reach it"
    )
    assert "python -m trainer users add NAME" in done.stderr and "secrets.toml" in done.stderr
    assert "make app" in done.stderr and done.stderr.count("\n") == 1


def test_names_that_differ_only_in_case_are_one_account(tmp_path):
    ana_run = create_run(tmp_path, "ana's run")
    owners.set_owner(ana_run, "ana")
    users.add(tmp_path, "ana", "correct horse")
    users.add(tmp_path, "bo", "correct horse")
    for spelling, admin in (("ANA", False), ("Ana", True)):
        with pytest.raises(users.AccountError, match="already an account called ana"):
            users.add(tmp_path, spelling, "another one", admin=admin)
    assert [a.name for a in users.accounts(tmp_path)] == ["ana", "bo"], "kept as first typed"
    signed = users.verify(tmp_path, "ANA", "correct horse", sleep=lambda s: None)
    assert signed is not None and signed.name == "ana" and not signed.admin, "one person, her own name"
    users.set_password(tmp_path, "Ana", "a new secret")
    assert users.verify(tmp_path, "ana", "a new secret", sleep=lambda s: None).name == "ana"
    owners.share(ana_run, ["Bo", "bo", "BO"])
    assert owners.access_of(ana_run).shared == ["Bo"], "one entry per person"
    users.remove(tmp_path, "ANA")
    assert [a.name for a in users.accounts(tmp_path)] == ["bo"] and users.account(tmp_path, "ana") is None


def _hash(password: str) -> str:
    from argon2 import PasswordHasher

    return PasswordHasher().hash(password)


def test_an_old_accounts_file_with_names_differing_in_case_is_reported_and_refused_until_fixed(tmp_path):
    users.users_file(tmp_path).parent.mkdir(parents=True)
    users.users_file(tmp_path).write_text(json.dumps({
        "ana": {"hash": _hash("ana-password"), "admin": False, "created": 1.0},
        "ANA": {"hash": _hash("other-password"), "admin": True, "created": 2.0},
        "bo": {"hash": _hash("bo-password"), "admin": False, "created": 3.0}}))  # fmt: skip
    listed = trainer_cli("users", "list", "--runs-dir", tmp_path, in_process=True)
    assert listed.returncode == 1, listed.stderr
    assert listed.stdout.splitlines() == [
        "ANA  admin", "ana", "bo",
        "warning: ANA, ana differ only in case, which makes them one person: none of them can sign in until all "
        "but one are removed (`python -m trainer users remove NAME`)."]  # fmt: skip
    for name, password in (("ana", "ana-password"), ("ANA", "other-password"), ("Ana", "ana-password")):
        with pytest.raises(users.NameCollision, match="cannot sign in until an administrator fixes"):
            users.verify(tmp_path, name, password, sleep=lambda s: None)
    assert users.verify(tmp_path, "ana", "wrong guess", sleep=lambda s: None) is None
    assert users.account(tmp_path, "ana") is None, "a session of either ends too"
    assert users.verify(tmp_path, "bo", "bo-password", sleep=lambda s: None).name == "bo", "others unaffected"
    assert trainer_cli("users", "remove", "ANA", "--runs-dir", tmp_path, in_process=True).returncode == 0, (
        "the exact name is removed"
    )
    assert trainer_cli("users", "list", "--runs-dir", tmp_path, in_process=True).stdout.splitlines() == [
        "ana",
        "bo",
    ]
    assert users.verify(tmp_path, "ANA", "ana-password", sleep=lambda s: None).name == "ana"


def test_once_set_up_a_missing_empty_or_damaged_accounts_file_lets_nobody_in(tmp_path):
    assert users.load(tmp_path) == {} and not users.set_up(tmp_path), "never set up: no accounts, no sign-in"
    users.add(tmp_path, "ana", "correct horse", admin=True)
    assert users.set_up(tmp_path) and users.marker_file(tmp_path).exists()
    for damage in (b"", b'{"ana": {"hash": "$argon2id$v=19$m=65536', b"{}", None):
        if damage is None:
            users.users_file(tmp_path).unlink()
        else:
            users.users_file(tmp_path).write_bytes(damage)
        assert users.set_up(tmp_path), damage
        with pytest.raises(
            users.AccountsUnreadable, match="missing, empty or damaged, so nobody can sign in"
        ):
            users.load(tmp_path)
        assert users.verify(tmp_path, "ana", "correct horse", sleep=lambda s: None) is None
    listed = trainer_cli("users", "list", "--runs-dir", tmp_path, in_process=True)
    assert listed.returncode == 2 and "users add NAME --admin" in listed.stderr, listed
    users.users_file(tmp_path).write_bytes(b'{"ana": {"hash": "$argon2id$v=19$m=65536')
    assert (
        trainer_cli(
            "users", "add", "bo", "--admin", "--runs-dir", tmp_path, stdin="correct horse\n"
        ).returncode
        == 0
    )
    assert [a.name for a in users.accounts(tmp_path)] == ["bo"], "the first account again opens the way"
    kept = list(users.users_file(tmp_path).parent.glob("users.json.damaged-*"))
    assert len(kept) == 1 and kept[0].read_bytes().startswith(b'{"ana"'), "the damaged file is kept aside"


def test_a_record_is_on_disk_before_its_new_name_points_at_it(tmp_path, monkeypatch):
    import stat

    from trainer.files import atomic as store

    done: list[str] = []
    fsync, replace = os.fsync, os.replace

    def fsynced(fd):
        done.append("fsync folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        fsync(fd)

    def replaced(a, b):
        done.append(f"rename to {Path(b).name}")
        replace(a, b)

    monkeypatch.setattr(os, "fsync", fsynced)
    monkeypatch.setattr(os, "replace", replaced)
    store.write_json(tmp_path / "status.json", {"status": "running"})
    assert done == ["fsync file", "rename to status.json", "fsync folder"]
    assert json.loads((tmp_path / "status.json").read_text()) == {"status": "running"}
    done.clear()
    users.add(tmp_path, "ana", "correct horse")
    assert done[:3] == ["fsync file", "rename to users.json", "fsync folder"], done


class SlowHasher:
    """argon2's place in a test: every check takes `seconds`; counts how many run at once."""

    def __init__(self, seconds: float) -> None:
        import threading

        self.seconds, self.now, self.most, self.hashed, self.checked = seconds, 0, 0, 0, 0
        self.lock = threading.Lock()

    def verify(self, hashed: str, password: str) -> bool:
        from argon2.exceptions import VerifyMismatchError

        with self.lock:
            self.now += 1
            self.checked += 1
            self.most = max(self.most, self.now)
        time.sleep(self.seconds)
        with self.lock:
            self.now -= 1
        if hashed != f"hash of {password}":
            raise VerifyMismatchError()
        return True

    def hash(self, password: str) -> str:
        self.hashed += 1
        return f"hash of {password}"


def in_parallel(calls) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(calls)) as pool:
        for future in [pool.submit(call) for call in calls]:
            future.result()


@pytest.fixture
def fresh_tables(monkeypatch):
    """Failure tables of their own for one test."""
    monkeypatch.setattr(users, "_failures", users.FailureTable())
    monkeypatch.setattr(users, "_guesses", users.FailureTable())


def test_parallel_wrong_guesses_at_one_account_wait_out_each_others_delays(
    tmp_path, monkeypatch, fresh_tables
):
    users.add(tmp_path, "ana", "correct horse")
    monkeypatch.setattr(users, "FIRST_DELAY", 0.05)  # 0.05 s, 0.1 s, 0.2 s... instead of 1 s, 2 s, 4 s...
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    started = time.monotonic()
    in_parallel([lambda: users.verify(tmp_path, "ana", "wrong guess", sleep=sleep)] * 6)
    took = time.monotonic() - started
    assert sorted(waits) == [0.0, 0.05, 0.1, 0.2, 0.4, 0.8], "each guess saw the failures before it"
    assert took >= sum(waits) == pytest.approx(1.55), took
    assert users.delay_for("ANA") == pytest.approx(1.6) and users._name_locks == {}


def test_at_most_two_password_checks_at_once_and_unknown_names_cost_a_check_not_a_hash(
    tmp_path, monkeypatch, fresh_tables
):
    users.add(tmp_path, "ana", "correct horse")
    users._dummy_hash()  # made once, before the slow stand-in
    slow = SlowHasher(0.2)
    monkeypatch.setattr(users, "_hasher", slow)
    names = ["ana", "ANA", "nobody", "eve", "mallory", "root", "admin", "x"]
    in_parallel([lambda n=n: users.verify(tmp_path, n, "wrong guess", sleep=lambda s: None) for n in names])
    assert slow.most == users.CONCURRENT_CHECKS == 2, slow.most
    assert slow.checked == len(names) and slow.hashed == 0, "one check for each name, known or not, no hash"


def test_the_failure_tables_stay_bounded_and_forget_after_a_while(tmp_path, monkeypatch):
    clock = [1000.0]
    table = users.FailureTable(limit=5, ttl=60.0, clock=lambda: clock[0])
    for i in range(100):
        table.failed(f"name-{i}")
        clock[0] += 1
    assert len(table) == 5 and table.count("name-99") == 1 and table.count("name-0") == 0
    table.failed("name-99")
    assert table.count("name-99") == 2
    clock[0] += 61
    assert table.count("name-99") == 0 and len(table) == 0, "forgotten a minute after the last failure"
    # through sign-in: a flood of unknown names stays bounded and never pushes out a real account's count
    monkeypatch.setattr(users, "_failures", users.FailureTable(limit=20))
    monkeypatch.setattr(users, "_guesses", users.FailureTable(limit=20))
    users.add(tmp_path, "ana", "correct horse")
    monkeypatch.setattr(users, "_hasher", SlowHasher(0.0))
    users.verify(tmp_path, "ana", "wrong guess", sleep=lambda s: None)
    for i in range(500):
        users.verify(tmp_path, f"guess-{i}", "wrong guess", sleep=lambda s: None)
    assert len(users._guesses) == 20 and len(users._failures) == 1 and users.delay_for("ana") == 1.0


def test_an_openid_identity_is_an_e_mail_only_when_verified_and_of_an_allowed_domain(monkeypatch):
    from trainer.access.people import IdentityRefused, oidc_identity

    assert (
        oidc_identity({"email": "ana@team.example", "email_verified": True, "sub": "1"}) == "ana@team.example"
    )
    assert oidc_identity({"email": "ana@team.example", "sub": "1"}) == "1", "unverified: the subject"
    assert oidc_identity({"email": "ana@team.example", "email_verified": False, "sub": "1"}) == "1"
    with pytest.raises(IdentityRefused, match="neither a verified e-mail"):
        oidc_identity({"email": "ana@team.example"})
    monkeypatch.setenv("INSIGHT_ALLOWED_EMAIL_DOMAINS", "team.example, @other.org")
    assert oidc_identity({"email": "bo@Other.org", "email_verified": True, "sub": "2"}) == "bo@Other.org"
    with pytest.raises(IdentityRefused, match="Accounts of evil.example may not use this Insight"):
        oidc_identity({"email": "eve@evil.example", "email_verified": True, "sub": "3"})
    with pytest.raises(IdentityRefused, match="only verified e-mail addresses"):
        oidc_identity({"email": "eve@team.example", "sub": "3"})


def test_with_sign_in_required_the_launcher_refuses_even_on_this_machine(tmp_path):
    env = {**os.environ, "INSIGHT_RUNS_DIR": str(tmp_path / "runs"), "HOME": str(tmp_path),
           "INSIGHT_REQUIRE_SIGN_IN": "1"}  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "insight_ui.launch", "--address", "127.0.0.1"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, env=env)  # fmt: skip
    assert done.returncode == 2 and done.stdout == "", done.stdout
    assert done.stderr.startswith(
        "error: Sign-in is required here (INSIGHT_REQUIRE_SIGN_IN=1) but none is set up"
    )
    assert "python -m trainer users add NAME --admin" in done.stderr and done.stderr.count("\n") == 1
