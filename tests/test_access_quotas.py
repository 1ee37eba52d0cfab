"""trainer.access.quotas for scorings and monitors: running scorings and kept monitors count per person, their
files count against the disk quota, admins have none, and each refusal is one sentence naming its setting."""

from __future__ import annotations

import pytest

from trainer import runs
from trainer.access import owners, quotas
from trainer.access.people import Person
from trainer.files import locks
from trainer.monitor.database import Store
from trainer.runs import RunFolder, create_run
from trainer.runs.scoring import Scoring, Spec

ANA, BO, ROOT = Person("ana"), Person("bo"), Person("root", admin=True)


def scoring(run_dir, name: str, owner: str | None, status: str | None, alive: bool = True) -> Scoring:
    made = Scoring(run_dir, name)
    made.write_spec(Spec(f"{name}.csv", "text", owner=owner))
    if status is not None:
        stamp = (
            locks.stamp() if alive else {"pid": 2**22 + 12345, "pid_started": 1, "host": locks.this_host()}
        )
        RunFolder(run_dir).write_computation(f"score-{name}", kind="score", params={"name": name}, status=status,
                                             **stamp)  # fmt: skip
    return made


@pytest.fixture
def shared_run(tmp_path):
    """bo's run, on which ana scores files too."""
    run = create_run(tmp_path, "bo's run")
    owners.set_owner(run, "bo")
    RunFolder(run).write_status(runs.FINISHED)
    return run


def test_scorings_queued_or_running_count_against_the_person_who_started_them(
    tmp_path, shared_run, monkeypatch
):
    scoring(shared_run, "a1", "ana", runs.RUNNING)
    scoring(shared_run, "a2", "ANA", runs.QUEUED)  # the same person, in another case
    scoring(shared_run, "a3", "ana", runs.FINISHED)
    scoring(shared_run, "a4", "ana", runs.RUNNING, alive=False)  # its process died: not running
    scoring(shared_run, "b1", "bo", runs.RUNNING)
    scoring(shared_run, "old", None, runs.RUNNING)  # the command line's: the run owner's (bo)
    assert quotas.scoring_usage(ANA, tmp_path)[0] == 2
    assert quotas.scoring_usage(BO, tmp_path)[0] == 2
    monkeypatch.setenv("INSIGHT_MAX_SCORINGS_PER_PERSON", "3")
    quotas.check_scoring(ANA, tmp_path)
    monkeypatch.setenv("INSIGHT_MAX_SCORINGS_PER_PERSON", "2")
    with pytest.raises(quotas.QuotaError) as refused:
        quotas.check_scoring(ANA, tmp_path)
    assert str(refused.value) == (
        "You already have 2 scorings queued or running, the most one person may have at once "
        "(INSIGHT_MAX_SCORINGS_PER_PERSON). Wait for one to finish, or stop one on the Apply page."
    )
    quotas.check_scoring(Person("cy"), tmp_path)
    quotas.check_scoring(ROOT, tmp_path)


def test_the_files_of_a_scoring_on_someone_elses_run_count_against_its_starter(
    tmp_path, shared_run, monkeypatch
):
    made = scoring(shared_run, "big", "ana", runs.FINISHED)
    (made.path / "scored.csv").write_bytes(bytes(2_000_000))
    assert quotas.scoring_usage(ANA, tmp_path)[1] >= 2_000_000
    monkeypatch.setenv("INSIGHT_MAX_DISK_MB_PER_PERSON", "2")
    with pytest.raises(
        quotas.QuotaError, match=r"Your runs, scorings and monitors take 2.0 MB, and the most one"
    ):
        quotas.check_scoring(ANA, tmp_path)
    quotas.check_scoring(Person("cy"), tmp_path)  # cy started none
    monkeypatch.setenv("INSIGHT_MAX_DISK_MB_PER_PERSON", "3")
    quotas.check_scoring(ANA, tmp_path)


def test_monitors_count_and_their_files_count_against_the_disk_quota(tmp_path, monkeypatch):
    paths = [tmp_path / "monitors" / f"m{i}.duckdb" for i in range(2)]
    paths[0].parent.mkdir()
    for path in paths:
        path.write_bytes(bytes(1_000_000))
    files = [Store(p).size_bytes() for p in paths]  # what each monitor takes, as the app asks it
    monkeypatch.setenv("INSIGHT_MAX_MONITORS_PER_PERSON", "3")
    quotas.check_monitor(ANA, tmp_path, files)
    monkeypatch.setenv("INSIGHT_MAX_MONITORS_PER_PERSON", "2")
    with pytest.raises(quotas.QuotaError) as refused:
        quotas.check_monitor(ANA, tmp_path, files)
    assert str(refused.value) == (
        "You already have 2 monitors, the most one person may keep (INSIGHT_MAX_MONITORS_PER_PERSON). Delete one "
        "you no longer need (its Settings, export and delete), or ask an admin."
    )
    quotas.check_monitor(ROOT, tmp_path, files)
    monkeypatch.setenv("INSIGHT_MAX_MONITORS_PER_PERSON", "9")
    monkeypatch.setenv("INSIGHT_MAX_DISK_MB_PER_PERSON", "2")
    with pytest.raises(quotas.QuotaError, match=r"Your runs, scorings and monitors take 2.0 MB"):
        quotas.check_monitor(ANA, tmp_path, files)
    quotas.check_monitor(ANA, tmp_path, files[:1])


def test_a_quota_setting_that_is_not_a_number_says_so(tmp_path, monkeypatch):
    from trainer.data import DataError

    monkeypatch.setenv("INSIGHT_MAX_MONITORS_PER_PERSON", "lots")
    with pytest.raises(
        DataError, match="INSIGHT_MAX_MONITORS_PER_PERSON is set to 'lots'; it must be a whole"
    ):
        quotas.check_monitor(ANA, tmp_path, [])
