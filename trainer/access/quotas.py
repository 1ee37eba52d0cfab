"""Per-person quotas, checked before a job is queued: jobs waiting or running, and disk.

INSIGHT_MAX_JOBS_PER_PERSON (default 3) queued or running fine-tunes at once; INSIGHT_MAX_DISK_MB_PER_PERSON
(default 20,000) megabytes of runs. Admins have no quota.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

from trainer import i18n
from trainer.access.owners import access_of, owns
from trainer.access.people import Person
from trainer.data.limits import Limit
from trainer.i18n import N_, tr, trn
from trainer.runs import ACTIVE, RunFolder, list_runs
from trainer.runs.listing import settled, stat_key
from trainer.runs.space import human_size, run_size

JOBS = Limit("INSIGHT_MAX_JOBS_PER_PERSON", 3, N_("jobs"))
DISK_MB = Limit("INSIGHT_MAX_DISK_MB_PER_PERSON", 20_000, N_("megabytes"))
T = TypeVar("T")


class QuotaError(ValueError):
    """A person has reached a quota; the message says which and what to do."""


# Each run's owner as its access.json said, keyed on that file's stamp (mtime, size, inode: every writer
# renames, so a changed file is a new inode); a lock, as the app checks quotas from several threads.
_owners: dict[str, tuple[tuple | None, str]] = {}
_owners_lock = threading.Lock()


def _owner(run_dir: Path) -> str:
    stamp = stat_key(RunFolder(run_dir).access_file)
    key = str(run_dir)
    with _owners_lock:
        cached = _owners.get(key)
    if cached is not None and cached[0] == stamp and stamp is not None:
        return cached[1]
    owner = access_of(run_dir).owner
    if settled((stamp,)):  # not a file written within the file system's clock tick (see list_runs)
        with _owners_lock:
            _owners[key] = (stamp, owner)
    return owner


def usage(person: Person, runs_dir: Path) -> tuple[int, int]:
    """(jobs queued or running, bytes of runs) that `person` owns (cheap when asked again: list_runs,
    owners and sizes are read again only where a run's files changed)."""
    mine = _owned(person, list_runs(runs_dir), lambda r: _owner(r.path))
    return sum(r.status in ACTIVE for r in mine), sum(run_size(r.path) for r in mine)


def _owned(person: Person, items: Iterable[T], owner_of: Callable[[T], str | None]) -> list[T]:
    """The items `person` owns (an admin's own only: quotas count what a person keeps), in their order."""
    return [item for item in items if owns(person, owner_of(item))]


def check(person: Person, runs_dir: Path) -> None:
    if person.admin:
        return
    jobs, used = usage(person, runs_dir)
    if jobs >= JOBS.value:
        raise QuotaError(
            trn(
                "You already have {n} job queued or running, the most one person may have at once ({setting}). "
                "Wait for one to finish, or cancel one on the Train page.",
                "You already have {n} jobs queued or running, the most one person may have at once ({setting}). "
                "Wait for one to finish, or cancel one on the Train page.",
                jobs,
                setting=JOBS.setting,
            )
        )
    if used >= DISK_MB.value * 1e6:
        raise QuotaError(
            tr(
                "Your runs take {used}, and the most one person may keep is {limit} MB ({setting}). Delete runs "
                "or scorings you no longer need (Train page, a run's Space).",
                used=human_size(used),
                limit=i18n.number(DISK_MB.value),
                setting=DISK_MB.setting,
            )
        )


# Scorings (Apply) and monitors count too: INSIGHT_MAX_SCORINGS_PER_PERSON (default 3) scorings queued or
# running at once, INSIGHT_MAX_MONITORS_PER_PERSON (default 10) monitors kept; the disk quota counts a
# person's runs, the scorings they started on other people's runs, and (for a new monitor) their monitors.
SCORINGS = Limit("INSIGHT_MAX_SCORINGS_PER_PERSON", 3, N_("scorings"))
MONITORS = Limit("INSIGHT_MAX_MONITORS_PER_PERSON", 10, N_("monitors"))


def scoring_usage(person: Person, runs_dir: Path) -> tuple[int, int]:
    """(scorings queued or running, bytes of scorings on other people's runs) that `person` started."""
    from trainer.files import locks
    from trainer.runs.scoring import scorings
    from trainer.runs.space import size_of

    running = elsewhere = 0
    for run in list_runs(runs_dir):
        folder, run_owner = RunFolder(run.path), _owner(run.path)
        # a scoring started on the command line has no owner: it is the run owner's
        for scoring in _owned(
            person, scorings(run.path), lambda s, fallback=run_owner: s.spec().owner or fallback
        ):
            state = folder.read_computation(f"score-{scoring.name}")  # trainer.runs.records.computation_name
            running += bool(state and state.active and locks.alive(state.pid, state.pid_started, state.host))
            if not owns(person, run_owner):
                elsewhere += size_of(scoring.path)
    return running, elsewhere


def monitors_of(person: Person, monitors: Iterable[T], owner_of: Callable[[T], str | None]) -> list[T]:
    """The monitors `person` owns, what the monitor quota counts (`owner_of`: a monitor's owner; trainer.monitor
    sits above access, so the caller opens the monitors)."""
    return _owned(person, monitors, owner_of)


def check_scoring(person: Person, runs_dir: Path) -> None:
    """Before `person` starts a scoring: their scorings at once, and their disk."""
    if person.admin:
        return
    running, elsewhere = scoring_usage(person, runs_dir)
    if running >= SCORINGS.value:
        raise QuotaError(
            trn(
                "You already have {n} scoring queued or running, the most one person may have at once "
                "({setting}). Wait for it to finish, or stop it on the Apply page.",
                "You already have {n} scorings queued or running, the most one person may have at once "
                "({setting}). Wait for one to finish, or stop one on the Apply page.",
                running,
                setting=SCORINGS.setting,
            )
        )
    _check_disk(person, runs_dir, elsewhere)


def check_monitor(person: Person, runs_dir: Path, mine: list[int]) -> None:
    """Before `person` creates a monitor; `mine`: the bytes each monitor they own takes (trainer.monitor
    reads owners and sizes)."""
    if person.admin:
        return
    if len(mine) >= MONITORS.value:
        raise QuotaError(
            trn(
                "You already have {n} monitor, the most one person may keep ({setting}). Delete one you no "
                "longer need (its Settings, export and delete), or ask an admin.",
                "You already have {n} monitors, the most one person may keep ({setting}). Delete one you no "
                "longer need (its Settings, export and delete), or ask an admin.",
                len(mine),
                setting=MONITORS.setting,
            )
        )
    _check_disk(person, runs_dir, scoring_usage(person, runs_dir)[1] + sum(mine))


def _check_disk(person: Person, runs_dir: Path, more: int) -> None:
    """The disk quota over the person's runs plus `more` bytes (their scorings and monitors elsewhere)."""
    used = usage(person, runs_dir)[1] + more
    if used >= DISK_MB.value * 1e6:
        raise QuotaError(
            tr(
                "Your runs, scorings and monitors take {used}, and the most one person may keep is {limit} MB "
                "({setting}). Delete runs, scorings or monitors you no longer need.",
                used=human_size(used),
                limit=i18n.number(DISK_MB.value),
                setting=DISK_MB.setting,
            )
        )
