"""A run's owner and who else may see it (`access.json` in the run folder).

Rules: a person sees the runs they own and the runs shared with them (with everyone, or with them by
name, compared case-insensitively as account names are); an admin sees every run. Changing a run (cancel,
resume, delete, relabel, share) is its owner's and an admin's. A run without `access.json` (made by the
command line, or before sign-in existed) belongs to the local owner.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from trainer.access.people import Person, local_owner, same_person
from trainer.files.atomic import read_json, write_json
from trainer.runs import RunFolder

EVERYONE = "*"
T = TypeVar("T")


@dataclass
class Access:
    owner: str
    shared: list[str] = field(default_factory=list)  # person ids, or EVERYONE

    @property
    def with_everyone(self) -> bool:
        return EVERYONE in self.shared


def access_of(run_dir: Path) -> Access:
    data = read_json(RunFolder(run_dir).access_file, {}) or {}
    owner = str(data.get("owner") or local_owner()) if isinstance(data, dict) else local_owner()
    shared = data.get("shared") if isinstance(data, dict) else []
    return Access(owner, [str(s) for s in shared] if isinstance(shared, list) else [])


def set_owner(run_dir: Path, owner: str) -> None:
    write_json(RunFolder(run_dir).access_file, {"owner": owner, "shared": []})


def share(run_dir: Path, with_: list[str]) -> Access:
    """Share the run with these people (EVERYONE for all; [] for nobody but the owner)."""
    access = access_of(run_dir)
    names = {}  # one entry per person, however each was spelled (names are case-insensitive)
    for name in (s.strip() for s in with_):
        if name:
            names.setdefault(name.casefold(), name)
    access.shared = sorted(names.values())
    write_json(RunFolder(run_dir).access_file, {"owner": access.owner, "shared": access.shared})
    return access


_same = same_person  # a run's owner and the people it is shared with, compared case-insensitively


def can_see(person: Person, run_dir: Path) -> bool:
    if person.admin:
        return True
    access = access_of(run_dir)
    return (
        _same(access.owner, person.id)
        or access.with_everyone
        or any(_same(s, person.id) for s in access.shared)
    )


def can_change(person: Person, run_dir: Path) -> bool:
    return person.admin or _same(access_of(run_dir).owner, person.id)


def owned_by(person: Person, run_dir: Path) -> bool:
    return _same(access_of(run_dir).owner, person.id)


# Things a person starts that are not runs (a scoring, a monitor) name their owner themselves: the owner and
# an admin see one; None (made on the command line, before owners were kept) is nobody's but an admin's.


def owns(person: Person, owner: str | None) -> bool:
    """Whether `owner` (a scoring's or a monitor's, None where none was kept) is `person`."""
    return owner is not None and _same(owner, person.id)


def may_see(person: Person, owner: str | None) -> bool:
    """Whether `person` may see (and change) a thing `owner` owns: its owner, and an admin."""
    return person.admin or owns(person, owner)


def mine(person: Person, items: Iterable[T], owner_of: Callable[[T], str | None]) -> list[T]:
    """The items `person` may see (`may_see` of each item's owner), in their order."""
    return [item for item in items if may_see(person, owner_of(item))]


def mine_on_run(
    person: Person, run_dir: Path, items: Iterable[T], owner_of: Callable[[T], str | None]
) -> list[T]:
    """The things started on a run (its scorings) `person` may see: every one for whoever may change the
    run (its owner, an admin), else their own (`mine`)."""
    return list(items) if can_change(person, run_dir) else mine(person, items, owner_of)
