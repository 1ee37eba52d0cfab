"""Label corrections: what the user decided for each likely label issue, applied to the run's data.

A decision is a `Correction`: keep the row, drop it, or relabel it (for an entity run: one word's tag).
`corrected_dataset` returns every split of the run (text, label) with the decisions applied, ready to
train on again.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from trainer.i18n import tr
from trainer.runs import SPLITS, Run, RunFolder

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
            raise ValueError(tr("relabel needs the new label"))

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


Key = tuple[str, int, int | None]  # (split, position in the split, word of a sentence or None)


def load(run_dir: Path) -> dict[Key, Correction]:
    """The decisions saved in the run folder (corrections.json), so a refresh or another visit keeps them."""
    found: dict[Key, Correction] = {}
    for record in RunFolder(run_dir).corrections():
        try:
            key = (
                str(record["split"]),
                int(record["row"]),
                None if record.get("word") is None else int(record["word"]),
            )
            found[key] = Correction(str(record["action"]), record.get("label"))
        except (KeyError, TypeError, ValueError):
            continue  # a damaged record is skipped, the others kept
    return found


def save(run_dir: Path, decisions: Mapping[Key, Correction]) -> None:
    """Write the decisions that change the data into the run folder (keep is the default, not stored)."""
    records = [{"split": split, "row": row, "word": word, "action": fix.action, "label": fix.label}
               for (split, row, word), fix in sorted(decisions.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or -1))
               if fix.changes]  # fmt: skip
    RunFolder(run_dir).write_corrections(records)


def split_frames(run: Run) -> Iterator[tuple[str, pd.DataFrame]]:
    """Each non-empty split of a run as a (text, label) frame; entity runs keep word and tag lists."""
    for split in SPLITS:
        part = run.split(split)
        if part is not None and not part.empty:
            yield split, part.rename(columns={"tokens": "text", "tags": "label"})[["text", "label"]].copy()


def corrected_dataset(run: Run, corrections: Mapping[Key | int, Correction]) -> pd.DataFrame:
    """Every split of the run (text, label), with the decided rows dropped or relabelled.

    Keys say which row: (split, position in that split, None), or for an entity run (split, sentence,
    word) to relabel one word's tag (a drop drops the whole sentence). A bare int means a row of the
    test split (predictions.csv).
    """
    decided: dict[tuple[str, int], list[tuple[int | None, Correction]]] = {}
    for key, fix in corrections.items():
        split, index, word = ("test", key, None) if isinstance(key, int) else key
        decided.setdefault((split, int(index)), []).append((word, fix))
    parts = []
    for split, part in split_frames(run):
        drop = []
        for (where, index), fixes in decided.items():
            if where != split or index >= len(part):
                continue
            for word, fix in fixes:
                if fix.action == "drop":
                    drop.append(index)
                elif fix.action == "relabel":
                    column = part.columns.get_loc("label")
                    if word is None:
                        part.iloc[index, column] = fix.label
                    else:
                        tags = str(part.iloc[index, column]).split()
                        if word < len(tags):
                            tags[word] = str(fix.label)
                        part.iloc[index, column] = " ".join(tags)
        part = part.drop(index=part.index[sorted(set(drop))])
        parts.append(part)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["text", "label"])
