"""Who sees a scoring or a monitor is decided in trainer.access (owners.may_see / mine / mine_on_run), and the
monitor quota counts a person's own (quotas.monitors_of); the adapters say what a labelling file holds."""

from __future__ import annotations

from dataclasses import dataclass

from trainer.access import owners, quotas
from trainer.access.people import Person
from trainer.runs import create_run
from trainer.tasks import TEXT_TASK, TOKEN_TASK, get_task

ANA, BO, ROOT = Person("ana"), Person("bo"), Person("root", admin=True)


@dataclass
class Thing:
    name: str
    owner: str | None


THINGS = [Thing("a", "ana"), Thing("A", "ANA"), Thing("b", "bo"), Thing("cli", None), Thing("blank", "")]


def names(items: list[Thing]) -> list[str]:
    return [t.name for t in items]


def test_an_owner_and_an_admin_see_a_thing_and_nobody_else_does():
    assert owners.may_see(ANA, "ana") and owners.may_see(ANA, "Ana")
    assert not owners.may_see(BO, "ana")
    assert owners.may_see(ROOT, "ana") and owners.may_see(ROOT, None)
    assert not owners.may_see(ANA, None) and not owners.may_see(ANA, "")


def test_mine_keeps_the_order_and_an_admin_sees_every_thing():
    assert names(owners.mine(ANA, THINGS, lambda t: t.owner)) == ["a", "A"]
    assert names(owners.mine(BO, THINGS, lambda t: t.owner)) == ["b"]
    assert names(owners.mine(ROOT, THINGS, lambda t: t.owner)) == ["a", "A", "b", "cli", "blank"]


def test_the_run_owner_sees_every_scoring_of_the_run_and_another_person_their_own(tmp_path):
    run = create_run(tmp_path, "bo's run")
    owners.set_owner(run, "bo")
    assert names(owners.mine_on_run(BO, run, THINGS, lambda t: t.owner)) == names(THINGS)
    assert names(owners.mine_on_run(ANA, run, THINGS, lambda t: t.owner)) == ["a", "A"]
    assert names(owners.mine_on_run(ROOT, run, THINGS, lambda t: t.owner)) == names(THINGS)
    assert owners.mine_on_run(Person("cy"), run, THINGS, lambda t: t.owner) == []


def test_the_monitor_quota_counts_only_a_persons_own_even_an_admins():
    assert names(quotas.monitors_of(ANA, THINGS, lambda t: t.owner)) == ["a", "A"]
    assert quotas.monitors_of(ROOT, THINGS, lambda t: t.owner) == []
    assert names(quotas.monitors_of(Person("root", admin=True), [Thing("r", "root")], lambda t: t.owner)) == [
        "r"
    ]


def test_the_adapters_say_what_a_labelling_file_holds_and_what_a_sample_input_is():
    text, token = get_task(TEXT_TASK), get_task(TOKEN_TASK)
    assert text.labels_each_word() is False and token.labels_each_word() is True
    assert text.example_input == "Your text here"
    assert token.example_input == "Anna Schmidt flew to Paris"
