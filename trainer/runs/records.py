"""The run folder's state records, as dataclasses that read and write themselves (as transformers'
`TrainerState` does): status.json of a run, and the state file of each background computation.

Fields this version does not know (written by a newer one) are kept in `extra` and written back, so
an older process never drops them. A missing or damaged file reads as the defaults.
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainer.files import locks
from trainer.files.atomic import read_json, write_json
from trainer.i18n import N_, tr, trn

QUEUED, RUNNING, FINISHED, FAILED, CANCELLED, INTERRUPTED = (
    "queued",
    "running",
    "finished",
    "failed",
    "cancelled",
    "interrupted",
)
ACTIVE = (QUEUED, RUNNING)
# A status as a person reads it (the statuses themselves stay as written): one table for the app and the CLI.
STATUS_NAMES = {
    QUEUED: N_("queued"),
    RUNNING: N_("running"),
    FINISHED: N_("finished"),
    FAILED: N_("failed"),
    CANCELLED: N_("cancelled"),
    INTERRUPTED: N_("interrupted"),
}


def status_name(status: str | None) -> str:
    """A run's status in the current language ("finished" -> "已完成"); an unknown one as it is."""
    if not status:
        return tr("unknown")
    return tr(STATUS_NAMES[status]) if status in STATUS_NAMES else status


class Record:
    """Reading and writing a dataclass as one JSON object, keeping unknown fields."""

    extra: dict[str, Any]

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Any:
        data = dict(data or {})
        known = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        values = {k: data.pop(k) for k in list(data) if k in known}
        return cls(**values, extra=data)

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        return {**self.extra, **out}

    @classmethod
    def read(cls, path: Path) -> Any:
        return cls.from_dict(read_json(path, {}) or {})

    def write(self, path: Path) -> None:
        write_json(path, self.to_dict())

    def with_fields(self, **fields: Any) -> Any:
        """A copy with `fields` changed (unknown ones go to `extra`)."""
        return type(self).from_dict({**self.to_dict(), **fields})


@dataclass
class RunStatus(Record):
    """status.json: where a run stands, and which process moves it on."""

    status: str = INTERRUPTED  # QUEUED ... INTERRUPTED; a folder with no status reads as interrupted
    name: str | None = None
    pid: int | None = None  # the process running it (or the one that queued it)
    pid_started: float | None = None  # that process's start time, so a reused pid is not taken for it
    host: str | None = None  # the machine it runs on (locks.this_host), for a runs folder shared by several
    created: float | None = None
    queued_at: float | None = None  # set while a submitted job waits its turn on disk
    started: float | None = None
    launched: float | None = None
    finished: float | None = None
    updated: float | None = None
    error: str | None = None  # one plain sentence (trainer.errors.friendly_error)
    device: str | None = None
    resume: bool = False  # the next start continues from the last checkpoint
    resumable: bool | None = None
    processes: int | None = None  # torchrun world size
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def moved_on(self, status: str, **fields: Any) -> RunStatus:
        """This status, now `status` with `fields`, stamped with the process that wrote it (default: this one)."""
        pid = fields.pop("pid", os.getpid())
        return self.with_fields(**fields, status=status, **locks.stamp(pid), updated=time.time())


def computation_name(kind: str, params: dict) -> str:
    """The state file name of a background computation (`computations/<name>.json`): its kind and
    parameters, e.g. "rank-sample", "embed-test", "score-<scoring>"."""
    return "-".join([kind, *(str(params[k]) for k in sorted(params))])


@dataclass
class ComputationState(Record):
    """<run>/computations/<name>.json: a background computation's kind, owner, progress and outcome."""

    status: str = FAILED  # a state file nobody can read is a failed computation
    kind: str | None = None  # trainer.jobs.worker.COMPUTATIONS
    params: dict[str, Any] = field(default_factory=dict)
    pid: int | None = None
    pid_started: float | None = None
    host: str | None = None
    started: float | None = None
    finished: float | None = None
    updated: float | None = None
    done: int = 0
    total: int = 0
    eta_seconds: float | None = None
    error: str | None = None
    waiting: str | None = None  # why a queued computation has not started (the GPU is taken)
    phase: dict[str, Any] | None = None  # what it does now (Phase.to_dict); done/total/eta are that phase's
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


@dataclass(frozen=True)
class Phase:
    """One named step of a long computation ("Checking drift"), kept as its message id and values so that
    the page words it in the reader's language; `plural` and `n` make it a plural sentence."""

    message: str  # the message id (marked with N_ where it is defined)
    plural: str | None = None
    n: int | None = None
    values: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        """The phase in the current language."""
        if self.plural is not None:
            return trn(self.message, self.plural, int(self.n or 0), **self.values)
        return tr(self.message, **self.values)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Phase | None:
        """The phase written by `to_dict`, or None (no phase, or one this version cannot read)."""
        if not isinstance(data, dict) or not isinstance(data.get("message"), str):
            return None
        values = data.get("values") if isinstance(data.get("values"), dict) else {}
        plural = data.get("plural") if isinstance(data.get("plural"), str) else None
        n = data.get("n") if isinstance(data.get("n"), int) else None
        return cls(data["message"], plural, n, values)
