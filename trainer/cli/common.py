"""What every command of the command line shares: its one kind of error and where runs live."""

from __future__ import annotations

import argparse
import unicodedata
from pathlib import Path
from typing import Any

from trainer.i18n import tr
from trainer.tasks import TEXT_TASK, TOKEN_TASK

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class CliError(Exception):
    """A problem with what the user asked for; printed as one `error:` line, exit 2."""


def text_width(text: str) -> int:
    """How many terminal columns `text` takes (a Chinese character takes two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def ljust(text: str, width: int) -> str:
    """`text` padded on the right to `width` terminal columns (str.ljust for ASCII)."""
    return text + " " * max(0, width - text_width(text))


def rjust(text: str, width: int) -> str:
    """`text` padded on the left to `width` terminal columns (str.rjust for ASCII)."""
    return " " * max(0, width - text_width(text)) + text


def runs_dir(value: str | None) -> Path:
    """The runs folder: --runs-dir, else INSIGHT_RUNS_DIR, else ./runs."""
    from trainer.runs import DEFAULT_RUNS_DIR

    return Path(value) if value else DEFAULT_RUNS_DIR


def data_args(p: argparse.ArgumentParser, optional: bool = False) -> None:
    """The data file and its columns, as `check` and `fit` take them."""
    p.add_argument("data", nargs="?" if optional else None, help=tr("CSV, TSV, JSON Lines or CoNLL file"))
    p.add_argument("--text-column", help=tr("column holding the text (or tokens, for entities)"))
    p.add_argument("--label-column", help=tr("column holding the label (or tags, for entities)"))
    p.add_argument(
        "--task",
        choices=["text", "token", TEXT_TASK, TOKEN_TASK],
        help=tr("text classification or token classification (named entities); guessed if omitted"),
    )


def load_run_model(ref: str, folder: str | None) -> Any:
    """A run's model, the run given by folder or id (under --runs-dir)."""
    from trainer.runs import find_run
    from trainer.runs.predictor import RunModel

    return RunModel.load(find_run(ref, runs_dir(folder), anywhere=True))


def finished_model(run: Any) -> Any:
    """The model of a finished run (trainer.runs.Run); one error line while it trains or when it has none."""
    from trainer.runs.predictor import RunModel

    if not run.has_model:
        raise CliError(tr("{run} has no finished model yet (it may still be training, or have failed or been "
                          "cancelled): try again when it has finished.", run=run.path.name))  # fmt: skip
    return RunModel.load(run.path)
