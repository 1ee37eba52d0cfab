"""One chunk of a scoring, scored: its part file's rows and its tallies (what the job keeps while it streams).

`score_chunk` is the one place a chunk of new text becomes scored rows, whether the chunk is scored in the
job's own process (`trainer.apply.score`) or by a copy of the model on a Ray cluster
(`trainer.apply.cluster_scoring`): both write the same rows and keep the same tallies.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from trainer.runs.scoring import Spec
from trainer.runs.trust import Trust, unknown_counts

if TYPE_CHECKING:  # types only
    from trainer.runs.predictor import RunModel
    from trainer.tasks import Task

EXAMPLES_PER_DAY = 5  # example texts kept per day, group and label (for the alerts)
TO_LABEL = 500  # least certain rows kept for labelling
HISTOGRAM = np.linspace(0, 1, 51)


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


def score_chunk(model: RunModel, task: Task, chunk: pd.DataFrame, column: str, start: int, spec: Spec, trust: Trust,
                tallies: Tallies) -> pd.DataFrame:  # fmt: skip
    """The chunk's rows with predicted, confidence, trusted and the task's own columns (blank texts stay
    unscored), its counts added to `tallies`."""
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
