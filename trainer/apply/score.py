"""Scoring new text with a finished run: a streamed, resumable job, and what people read from it.

`score(...)` reads the file in chunks (trainer.data.stream: memory stays flat for a file of a million
rows), runs the fine-tuned model on each chunk (bf16 on the CPU where checked safe), writes each chunk's
rows (the input's columns, then predicted, confidence, trusted, one p_<label> per label) as a part file,
and keeps small running tallies: per day, group and label counts for the trends, a few example texts per
day and label for the alerts, the confidence histogram for drift, and the least certain rows for
labelling. After every chunk its progress is saved, so an interrupted job resumes where it stopped.
At the end the parts are joined into scored.csv and the alerts and the drift verdict are written.

Trust: a text is untrusted when the model's confidence is below the 5th percentile of its confidence
on its own validation split, or when its embedding is farther from everything it was trained on (the
nearest of up to 256 k-means centres of the training split's embeddings) than 99% of the validation
texts are. Under torchrun each process scores every n-th chunk; the first one joins the results.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd

from trainer.apply.chunk import Tallies, score_chunk
from trainer.data import stream
from trainer.i18n import N_, tr
from trainer.runs.records import Phase
from trainer.runs.scoring import Scoring, ScoringState, Spec
from trainer.runs.trust import Trust, calibrate
from trainer.runs.trust import read as read_trust
from trainer.runs.variants import variant_view

if TYPE_CHECKING:  # types only
    from trainer.runs import Run
    from trainer.runs.predictor import RunModel
    from trainer.tasks import Task

Progress = Callable[[int, int], None] | None
# Told when the job moves on to another phase; the progress calls after it count that phase's own steps.
OnPhase = Callable[[Phase], None] | None
CALIBRATING = Phase(N_("Measuring how sure the model is on its own validation texts (for the trust check)"))
SCORING = Phase(N_("Scoring the texts"))
# A time or group column the scoring was told to read and the file lacks.
NO_SUCH_COLUMN = {
    "time": N_('There is no time column "{column}". Columns found: {found}.'),
    "group": N_('There is no group column "{column}". Columns found: {found}.'),
}


def text_column_of(frame: pd.DataFrame, task: Task, given: str | None) -> str:
    """The column to read: the user's, else the one proposed as on the Data page."""
    from trainer.data import DataError, Message
    from trainer.data.columns import columns_found

    if given and given not in frame.columns:
        raise DataError(tr('There is no text column "{column}". Columns found: {found}.', column=given,
                           found=columns_found(frame)))  # fmt: skip
    column = given or task.propose_columns(frame)[0]
    if column not in frame.columns:
        raise DataError(Message(N_("No column looks like text. Columns found: {found}. Name one with {text_column}."),
                                found=columns_found(frame)))  # fmt: skip
    return column


def _checked_column(first: pd.DataFrame, task: Task, spec: Spec) -> str:
    """The text column to read, from the file's first chunk; the time and group columns asked for are there."""
    from trainer.data import DataError
    from trainer.data.columns import columns_found

    column = text_column_of(first, task, spec.text_column)
    for what, name in (("time", spec.time_column), ("group", spec.group_column)):
        if name and name not in first.columns:
            raise DataError(tr(NO_SUCH_COLUMN[what], column=name, found=columns_found(first)))
    return column


def score(
    model: RunModel,
    run: Run,
    scoring: Scoring,
    progress: Progress = None,
    should_stop: Callable[[], bool] | None = None,
    on_phase: OnPhase = None,
    cluster: str | None = None,
) -> dict:
    """Score every chunk of the file not scored yet (resumable). Returns {} when stopped (or in another
    process than the first under torchrun), else the tallies for `trainer.apply.run_scoring.finish`.
    With `on_phase`, the trust check and the scoring are each told as they start and counted apart. With a
    Ray cluster's address (`cluster`, else INSIGHT_RAY_ADDRESS) the chunks are scored there."""
    from trainer.runs.cluster import address

    rank, world = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    spec, task, started = scoring.spec(), model.adapter, time.time()
    view = variant_view(run, model.variant)  # a variant keeps its own thresholds
    trust = read_trust(view.folder)  # saved thresholds are read once; otherwise computed, a phase of its own
    if trust is None:
        if on_phase:
            on_phase(CALIBRATING)
        trust = calibrate(model, view, progress if on_phase else None)
    if (where := address(cluster)) and world == 1:
        outcome = _on_cluster(where, task, run, scoring, trust, (progress, should_stop, on_phase))
        return outcome | {"started": started} if outcome else {}
    if on_phase:
        on_phase(SCORING)
    scoring.parts_dir.mkdir(parents=True, exist_ok=True)
    state = scoring.state(rank)
    done, written = set(state.chunks), dict(state.written)
    tallies = Tallies.from_json(state.tallies) if state.tallies is not None else Tallies()
    total = stream.count_rows(spec.source)
    seen = 0
    for index, chunk in enumerate(stream.chunks(spec.source, spec.chunk_rows)):
        if index == 0:
            column = _checked_column(chunk, task, spec)
        start, seen = seen, seen + len(chunk)
        if index in done or index % world != rank:
            continue
        if should_stop and should_stop():
            break
        part = score_chunk(model, task, chunk, column, start, spec, trust, tallies)
        scoring.write_part(index, part.to_csv(index=False))
        done.add(index)
        written[str(index)] = time.time()
        scoring.write_state(ScoringState(sorted(done), tallies.to_json(), seen, written), rank)
        if progress:
            progress(min(seen, max(total, seen)), max(total, seen))
    if should_stop and should_stop():
        return {}
    if world > 1:
        import torch.distributed as dist

        if not dist.is_initialized():
            dist.init_process_group("gloo")
        dist.barrier()
        if rank:
            return {}
        for other in range(1, world):
            tallies.merge(Tallies.from_json(scoring.state(other).tallies or {}))
    return {"tallies": tallies, "trust": trust, "started": started}


def _on_cluster(where: str, task: Task, run: Run, scoring: Scoring, trust: Trust, told: tuple) -> dict:
    """The chunks scored on the Ray cluster at `where` (trainer.apply.cluster_scoring); {} when stopped.
    `told` is (progress, should_stop, on_phase), as `score` takes them."""
    from trainer.apply.cluster_scoring import score_on_cluster

    spec = scoring.spec()
    first = next(stream.chunks(spec.source, spec.chunk_rows), pd.DataFrame())
    column = _checked_column(first, task, spec)
    scoring.parts_dir.mkdir(parents=True, exist_ok=True)
    tallies = score_on_cluster(where, run.path, scoring, column, trust, *told)
    return {} if tallies is None else {"tallies": tallies, "trust": trust}
