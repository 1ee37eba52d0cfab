"""The run folder and the runs folder.

A run folder is self-describing (see README, "Run folder"); nothing about a run lives elsewhere, so
runs survive restarts and can be copied between machines. `folder.RunFolder` is the one owner of every
path and file under a run: other modules never build a path under a run themselves, they ask it.
`listing` creates, lists, finds and reloads runs and tells which are still alive.
"""

from trainer.files.atomic import read_json, write_json
from trainer.runs.folder import (
    ACTIVE,
    CANCELLED,
    DEFAULT_RUNS_DIR,
    FAILED,
    FINISHED,
    INTERRUPTED,
    QUEUED,
    RUNNING,
    SPLITS,
    RunFolder,
)
from trainer.runs.listing import (
    Run,
    RunInfo,
    create_run,
    effective_status,
    find_run,
    inside,
    list_runs,
    load_run,
    mark_live,
    run_info,
    slugify,
    write_status,
)
from trainer.runs.records import ComputationState, RunStatus

__all__ = [
    "ACTIVE",
    "CANCELLED",
    "DEFAULT_RUNS_DIR",
    "FAILED",
    "FINISHED",
    "INTERRUPTED",
    "QUEUED",
    "RUNNING",
    "SPLITS",
    "ComputationState",
    "Run",
    "RunFolder",
    "RunStatus",
    "RunInfo",
    "create_run",
    "effective_status",
    "find_run",
    "inside",
    "list_runs",
    "load_run",
    "mark_live",
    "read_json",
    "run_info",
    "slugify",
    "write_json",
    "write_status",
]
