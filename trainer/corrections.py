"""Label corrections: what the user decided for each likely label issue, applied to the run's data.

A decision is a `Correction`: keep the row, drop it, or relabel it. `corrected_dataset` returns every
split of the run (text, label) with the test split's decisions applied, ready to train on again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from trainer.runs import SPLITS, Run

ACTIONS = ("keep", "drop", "relabel")


@dataclass(frozen=True)
class Correction:
    """One decision about one row: keep, drop, or relabel (to `label`)."""

    action: str = "keep"
    label: str | None = None

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)}, not {self.action!r}")
        if self.action == "relabel" and not self.label:
            raise ValueError("relabel needs the new label")

    @classmethod
    def drop(cls) -> Correction:
        return cls("drop")

    @classmethod
    def relabel(cls, label: str) -> Correction:
        return cls("relabel", str(label))

    @property
    def changes(self) -> bool:
        """Whether applying it changes the data."""
        return self.action != "keep"


def corrected_dataset(run: Run, corrections: Mapping[int, Correction]) -> pd.DataFrame:
    """All splits of the run (text, label), the test split's rows dropped or relabelled as decided.

    Keys are row positions in the test split (as in predictions.csv).
    """
    parts = []
    for split in SPLITS:
        part = run.split(split)
        if part is None or part.empty:
            continue
        part = part.rename(columns={"tokens": "text", "tags": "label"})[["text", "label"]].copy()
        if split == "test":
            drop = []
            for row, fix in corrections.items():
                if row >= len(part):
                    continue
                if fix.action == "drop":
                    drop.append(row)
                elif fix.action == "relabel":
                    part.iloc[row, part.columns.get_loc("label")] = fix.label
            part = part.drop(index=part.index[drop])
        parts.append(part)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["text", "label"])
