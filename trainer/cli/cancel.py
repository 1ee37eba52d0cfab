"""`python -m trainer cancel RUN`: stop a queued or running job."""

from __future__ import annotations

import argparse

from trainer.cli.common import EXIT_OK, CliError, runs_dir
from trainer.i18n import tr
from trainer.runs.records import status_name


def add_parser(sub: argparse._SubParsersAction) -> None:
    cancel = sub.add_parser("cancel", help=tr("stop a queued or running job"))
    cancel.add_argument("run", help=tr("run folder (or run id under --runs-dir)"))
    cancel.add_argument(
        "--wait", type=float, default=0, help=tr("wait up to this many seconds for it to stop")
    )
    cancel.add_argument("--runs-dir", default=None)

    cancel.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from trainer import runs
    from trainer.jobs.manager import JobManager

    manager = JobManager(runs_dir(args.runs_dir), schedule=False)  # asks a job to stop; starts nothing
    try:
        job = runs.find_run(args.run, manager.runs_dir).name
        if not manager.cancel(job):
            snap = manager.snapshot(job)
            raise CliError(
                tr(
                    "{job} is {status}: there is nothing to cancel.",
                    job=job,
                    status=status_name(snap.status if snap else None),
                )
            )
        from trainer.access import audit
        from trainer.access.people import local_owner

        audit.record(manager.runs_dir, local_owner(), "cancel", job, via="command line")
        snap = manager.wait(job, args.wait) if args.wait else manager.snapshot(job)
    finally:
        manager.shutdown()
    print(
        tr("{job}: cancelled", job=job)
        if snap.status == runs.CANCELLED
        else tr("{job}: cancel requested", job=job)
    )
    return EXIT_OK
