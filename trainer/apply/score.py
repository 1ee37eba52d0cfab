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

import heapq
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from trainer.data import stream
from trainer.i18n import N_, tr
from trainer.runs.records import Phase
from trainer.runs.scoring import Scoring, ScoringState, Spec
from trainer.runs.trust import Trust, calibrate, unknown_counts
from trainer.runs.trust import read as read_trust

if TYPE_CHECKING:  # types only
    from trainer.runs import Run
    from trainer.runs.predictor import RunModel
    from trainer.tasks import Task

EXAMPLES_PER_DAY = 5  # example texts kept per day, group and label (for the alerts)
TO_LABEL = 500  # least certain rows kept for labelling
HISTOGRAM = np.linspace(0, 1, 51)
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


@dataclass
class Tallies:
    """What the job keeps while it streams (small whatever the file's size), saved after every chunk."""

    rows: int = 0
    scored: int = 0
    untrusted: int = 0
    unknown_tokens: int = 0
    tokens: int = 0
    histogram: list[int] = field(default_factory=lambda: [0] * (len(HISTOGRAM) - 1))
    daily: Counter = field(default_factory=Counter)  # (day, group, label) -> count
    examples: dict = field(default_factory=dict)  # "day|group|label" -> [text, ...]
    uncertain: list = field(default_factory=list)  # heap of (-confidence, row, record): the least certain
    bad_times: int = 0

    def to_json(self) -> dict:
        out = asdict(self)
        out["daily"] = [[*key, n] for key, n in self.daily.items()]
        return out

    @classmethod
    def from_json(cls, data: dict) -> Tallies:
        data = dict(data)
        data["daily"] = Counter({(d, g, label): n for d, g, label, n in data.get("daily", [])})
        data["uncertain"] = [tuple(x) for x in data.get("uncertain", [])]
        return cls(**data)

    def merge(self, other: Tallies) -> None:
        for name in ("rows", "scored", "untrusted", "unknown_tokens", "tokens", "bad_times"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.histogram = [a + b for a, b in zip(self.histogram, other.histogram, strict=True)]
        self.daily.update(other.daily)
        for key, texts in other.examples.items():
            self.examples[key] = (self.examples.get(key, []) + texts)[:EXAMPLES_PER_DAY]
        for item in other.uncertain:
            _keep(self.uncertain, item)


def _keep(heap: list, item: tuple) -> None:
    """Keep the TO_LABEL least certain rows (items are (-confidence, row, record): the root is the most
    confident of those kept, and makes way for a less confident one)."""
    if len(heap) < TO_LABEL:
        heapq.heappush(heap, item)
    elif item[0] > heap[0][0]:
        heapq.heapreplace(heap, item)


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


def _check_columns(frame: pd.DataFrame, spec: Spec) -> None:
    from trainer.data import DataError
    from trainer.data.columns import columns_found

    for what, column in (("time", spec.time_column), ("group", spec.group_column)):
        if column and column not in frame.columns:
            raise DataError(tr(NO_SUCH_COLUMN[what], column=column, found=columns_found(frame)))


def score(
    model: RunModel,
    run: Run,
    scoring: Scoring,
    progress: Progress = None,
    should_stop: Callable[[], bool] | None = None,
    on_phase: OnPhase = None,
) -> dict:
    """Score every chunk of the file not scored yet (resumable). Returns {} when stopped (or in another
    process than the first under torchrun), else the tallies for `trainer.apply.run_scoring.finish`.
    With `on_phase`, the trust check and the scoring are each told as they start and counted apart."""
    rank, world = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    spec, task, started = scoring.spec(), model.adapter, time.time()
    trust = read_trust(
        run.folder
    )  # saved thresholds are read once; otherwise they are computed, a phase of its own
    if trust is None:
        if on_phase:
            on_phase(CALIBRATING)
        trust = calibrate(model, run, progress if on_phase else None)
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
            column = text_column_of(chunk, task, spec.text_column)
            _check_columns(chunk, spec)
        start, seen = seen, seen + len(chunk)
        if index in done or index % world != rank:
            continue
        if should_stop and should_stop():
            break
        part = _score_chunk(model, task, chunk, column, start, spec, trust, tallies)
        tmp = scoring.part_temp(index)
        part.to_csv(tmp, index=False)
        os.replace(tmp, scoring.part_file(index))
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


def _score_chunk(model: RunModel, task: Task, chunk: pd.DataFrame, column: str, start: int, spec: Spec, trust: Trust,
                 tallies: Tallies) -> pd.DataFrame:  # fmt: skip
    from trainer.evaluate.trends import ALL_GROUPS, parse_times

    texts = chunk[column].astype(str)
    keep = (texts.str.strip() != "").to_numpy()
    out = chunk.copy()
    out["predicted"], out["confidence"], out["trusted"] = "", np.nan, ""
    tallies.rows += len(chunk)
    if not keep.any():
        return out
    scored = model.score(texts[keep].tolist(), trust)
    inputs, preds, conf, untrusted = scored.inputs, scored.predictions, scored.confidence, scored.untrusted
    rows = np.flatnonzero(keep)
    columns = task.scored_columns(inputs, preds)  # "predicted", then the task's own columns
    out.iloc[rows, out.columns.get_loc("predicted")] = columns["predicted"].to_numpy()
    out.iloc[rows, out.columns.get_loc("confidence")] = np.round(conf, 4)
    out.iloc[rows, out.columns.get_loc("trusted")] = np.where(untrusted, "false", "true")
    for column in columns.columns.drop("predicted"):
        out[column] = np.nan if columns[column].dtype.kind == "f" else ""
        out.iloc[rows, out.columns.get_loc(column)] = columns[column].to_numpy()
    tallies.scored += len(inputs)
    tallies.untrusted += int(untrusted.sum())
    tallies.histogram = (np.asarray(tallies.histogram) + np.histogram(conf, HISTOGRAM)[0]).tolist()
    unknown, pieces = unknown_counts(model, inputs)
    tallies.tokens += pieces
    tallies.unknown_tokens += unknown
    labels = scored.labels
    days = parse_times(chunk[spec.time_column].astype(str).to_numpy()[keep]) if spec.time_column else None
    groups = chunk[spec.group_column].astype(str).to_numpy()[keep] if spec.group_column else None
    for i, label in enumerate(labels):
        record = {"row": int(start + rows[i]), "text": str(texts.iloc[rows[i]])[:500], "predicted": label,
                  "confidence": round(float(conf[i]), 4), "trusted": not bool(untrusted[i])}  # fmt: skip
        record.update(task.labelling_fields(inputs, preds, i))
        if groups is not None:
            record["group"] = str(groups[i])
        if days is not None:
            if pd.isna(days.iloc[i]):
                tallies.bad_times += 1
            else:
                day = days.iloc[i].date().isoformat()
                record["time"] = day
                for group in {ALL_GROUPS, str(groups[i]) if groups is not None else ALL_GROUPS}:
                    tallies.daily[(day, group, label)] += 1
                    examples = tallies.examples.setdefault(f"{day}|{group}|{label}", [])
                    if len(examples) < EXAMPLES_PER_DAY:
                        examples.append(record["text"][:300])
        _keep(tallies.uncertain, (-record["confidence"], record["row"], record))
    return out
