"""What every command of the command line shares: its one kind of error and where runs live."""

from __future__ import annotations

from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class CliError(Exception):
    """A problem with what the user asked for; printed as one `error:` line, exit 2."""


def runs_dir(value: str | None) -> Path:
    """The runs folder: --runs-dir, else INSIGHT_RUNS_DIR, else ./runs."""
    from trainer.runs import DEFAULT_RUNS_DIR

    return Path(value) if value else DEFAULT_RUNS_DIR
