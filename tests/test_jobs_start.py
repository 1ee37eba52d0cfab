"""trainer.jobs.start.start_run: the one way a fine-tune is queued (Train page, retrain, `trainer fit`):
the model allowed, the quotas, the job submitted for its owner, the audit line."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from helpers import fake_run

from trainer import runs
from trainer.access import audit, owners
from trainer.access.people import Person, local_person
from trainer.config import TrainConfig
from trainer.jobs.start import StartRefused, start_run
from trainer.runs import RunFolder

GOLD = ["positive", "negative", "neutral"] * 4


class FakeManager:
    """Records what would be queued; queues nothing."""

    def __init__(self, runs_dir: Path):
        self.runs_dir = runs_dir
        self.submitted: list[tuple] = []

    def submit(self, config, data, name=None, owner=None) -> str:
        self.submitted.append((config, data, name, owner))
        return f"job-{len(self.submitted)}"


@pytest.fixture
def place(tmp_path, monkeypatch):
    """A runs folder, a model root with one model folder, and a manager that only records."""
    runs_dir, root = tmp_path / "runs", tmp_path / "models"
    (root / "tiny-bert").mkdir(parents=True)
    runs_dir.mkdir()
    monkeypatch.setenv("INSIGHT_MODEL_ROOTS", str(root))
    return runs_dir, root, FakeManager(runs_dir)


def starts(runs_dir: Path) -> list[dict]:
    return [e for e in audit.events(runs_dir) if e["action"] == "start"]


def test_a_model_outside_the_model_roots_is_refused_and_nothing_is_queued(place):
    runs_dir, root, manager = place
    config = TrainConfig(model="/somewhere/else/bert")
    with pytest.raises(StartRefused, match="only opens the bundled model") as refused:
        start_run(Person("ana"), config, object(), "try", manager=manager)
    assert isinstance(refused.value, ValueError)
    assert str(root) in str(refused.value)
    assert manager.submitted == [] and starts(runs_dir) == []


def test_a_reached_job_quota_is_refused_with_its_message_and_nothing_is_queued(place, monkeypatch):
    runs_dir, _, manager = place
    waiting = fake_run(runs_dir, "bo's queued run", GOLD, GOLD)
    owners.set_owner(waiting, "bo")
    RunFolder(waiting).write_status(runs.QUEUED, queued_at=time.time())
    monkeypatch.setenv("INSIGHT_MAX_JOBS_PER_PERSON", "1")
    with pytest.raises(StartRefused, match="already have 1 job queued or running"):
        start_run(Person("bo"), TrainConfig(), object(), "second", manager=manager)
    assert manager.submitted == [] and starts(runs_dir) == []
    # Another person, and an admin, are not held by bo's quota.
    assert start_run(Person("ana"), TrainConfig(), object(), "hers", manager=manager) == "job-1"
    assert start_run(Person("bo", admin=True), TrainConfig(), object(), "x", manager=manager) == "job-2"


def test_an_accepted_start_is_queued_for_its_owner_and_audited(place):
    runs_dir, root, manager = place
    data = object()
    job = start_run(
        Person("ana"),
        TrainConfig(model="tiny-bert"),
        data,
        lambda allowed: f"{Path(allowed.model).name} on reviews",
        manager=manager,
    )
    assert job == "job-1"
    [(config, queued_data, name, owner)] = manager.submitted
    resolved = str((root / "tiny-bert").resolve())
    assert config.model == resolved, "the model as the loader takes it"
    assert queued_data is data and name == "tiny-bert on reviews" and owner == "ana"
    [event] = starts(runs_dir)
    assert {k: event[k] for k in ("who", "action", "target", "name", "model")} == {
        "who": "ana",
        "action": "start",
        "target": "job-1",
        "name": "tiny-bert on reviews",
        "model": resolved,
    }


def test_without_the_model_check_any_model_starts_and_the_audit_details_are_the_callers(place):
    runs_dir, _, manager = place
    person = local_person()  # the command line: the machine's own user, an admin
    job = start_run(
        person,
        TrainConfig(model="bert-base-uncased"),
        object(),
        "reviews",
        manager=manager,
        check_model=False,
        details={"via": "command line"},
    )
    [(config, _, name, owner)] = manager.submitted
    assert config.model == "bert-base-uncased" and name == "reviews" and owner == person.id
    [event] = starts(runs_dir)
    assert (event["who"], event["target"], event["via"], event["model"]) == (
        person.id,
        job,
        "command line",
        "bert-base-uncased",
    )
    assert "name" not in event


def test_the_quota_and_audit_use_the_runs_folder_given(place, tmp_path):
    _, _, manager = place
    other = tmp_path / "other-runs"
    other.mkdir()
    start_run(Person("ana"), TrainConfig(), object(), "try", manager=manager, runs_dir=other)
    assert [e["target"] for e in starts(other)] == ["job-1"]
