"""Per-person quotas, checked before a job is queued: jobs waiting or running, and disk.

INSIGHT_MAX_JOBS_PER_PERSON (default 3) queued or running fine-tunes at once; INSIGHT_MAX_DISK_MB_PER_PERSON
(default 20,000) megabytes of runs. Admins have no quota.
"""

from __future__ import annotations

from pathlib import Path

from trainer import i18n
from trainer.access.owners import owned_by
from trainer.access.people import Person
from trainer.data.limits import Limit
from trainer.i18n import N_, tr, trn
from trainer.runs import ACTIVE, list_runs
from trainer.runs.space import human_size, size_of

JOBS = Limit("INSIGHT_MAX_JOBS_PER_PERSON", 3, N_("jobs"))
DISK_MB = Limit("INSIGHT_MAX_DISK_MB_PER_PERSON", 20_000, N_("megabytes"))


class QuotaError(ValueError):
    """A person has reached a quota; the message says which and what to do."""


def usage(person: Person, runs_dir: Path) -> tuple[int, int]:
    """(jobs queued or running, bytes of runs) that `person` owns."""
    mine = [r for r in list_runs(runs_dir) if owned_by(person, r.path)]
    return sum(r.status in ACTIVE for r in mine), sum(size_of(r.path) for r in mine)


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
