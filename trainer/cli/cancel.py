"""`python -m trainer cancel RUN`: stop a queued or running job."""

from __future__ import annotations

import argparse

from trainer.cli.common import EXIT_OK, CliError, runs_dir


def add_parser(sub: argparse._SubParsersAction) -> None:
    cancel = sub.add_parser("cancel", help="stop a queued or running job")
    cancel.add_argument("run", help="run folder (or run id under --runs-dir)")
    cancel.add_argument("--wait", type=float, default=0, help="wait up to this many seconds for it to stop")
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
            raise CliError(f"{job} is {snap.status if snap else 'unknown'}: there is nothing to cancel.")
        from trainer.access import audit
        from trainer.access.people import local_owner

        audit.record(manager.runs_dir, local_owner(), "cancel", job, via="command line")
        snap = manager.wait(job, args.wait) if args.wait else manager.snapshot(job)
    finally:
        manager.shutdown()
    print(f"{job}: {'cancelled' if snap.status == runs.CANCELLED else 'cancel requested'}")
    return EXIT_OK
