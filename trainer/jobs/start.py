"""Starting a fine-tuning run: the one way the Train page, a retrain (Apply, a monitor) and `python -m
trainer fit` queue a job.

`start_run` checks the model is one this front end may open (with sign-in on, only the bundled model and
folders under the model roots: trainer.model.roots), then the person's quotas (trainer.access.quotas),
submits the job to the JobManager with the person as its owner, and writes the "start" line of the audit
log. A refusal is a StartRefused (a ValueError) whose message is the plain sentence to show; nothing is
queued then.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from trainer.access import audit, quotas
from trainer.access.people import Person
from trainer.config import TrainConfig
from trainer.model.roots import allowed_model

__all__ = ["StartRefused", "start_run"]


class StartRefused(ValueError):
    """A run that may not start (a model outside the model roots, a quota reached); the message says why."""


def start_run(
    person: Person,
    config: TrainConfig,
    data: Any,
    name: str | Callable[[TrainConfig], str],
    *,
    manager: Any,
    runs_dir: str | Path | None = None,
    check_model: bool = True,
    details: Mapping[str, Any] | None = None,
) -> str:
    """Queue a fine-tune of `config` on `data` (a PreparedData) for `person`; returns the job id.

    Args:
        person: who starts it: the quotas are theirs (admins have none), they own the run, the audit
            line names them.
        name: the run's name, or a function that names it from the config with its model as allowed.
        manager: the JobManager that queues it.
        runs_dir: the runs folder of the quotas and the audit log (default: the manager's).
        check_model: whether the model must be the bundled one or a folder under the model roots (the app
            with sign-in on); the config then carries the model as the loader takes it.
        details: what the audit line says besides the model (default: the run's name).

    Raises:
        StartRefused: the model is not allowed or a quota is reached; nothing was queued.
    """
    runs_dir = Path(runs_dir) if runs_dir is not None else Path(manager.runs_dir)
    try:
        if check_model:
            config = replace(config, model=allowed_model(config.model))
        quotas.check(person, runs_dir)
    except ValueError as exc:  # ModelNotAllowed, QuotaError
        raise StartRefused(str(exc)) from exc
    run_name = name(config) if callable(name) else name
    job_id = manager.submit(config, data, run_name, owner=person.id)
    said = {"name": run_name} if details is None else dict(details)
    audit.record(runs_dir, person.id, "start", job_id, **said, model=config.model)
    return job_id
