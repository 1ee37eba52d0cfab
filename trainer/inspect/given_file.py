"""A file a person gives for the weak slices or the behavioural tests (issue 31's `--data FILE`), read the way
`predict` reads one (the adapter's `read_file`): its texts (or sentences) in order, their gold labels when a
column holds labels the run knows, and the file's other columns that can cut it into groups.

A column cuts the rows into groups when it is dates (four bands of time, cut at the quartiles) or numbers
(four bands, likewise) with more than FEW values, or has a few values (a source, a product, a region, stars:
at most MAX_VALUES).
A column holding the texts or the labels again, or a different value on nearly every row (an id), is not one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from trainer.data.errors import DataError
from trainer.i18n import tr

MAX_VALUES = 30  # a column with more distinct values is an id or free text, not a group
FEW = 8  # dates or numbers with more distinct values are cut into bands (fewer: stars 1-5 stay values)


@dataclass
class GivenFile:
    inputs: list  # texts, or sentences as word lists
    gold: list | None  # labels (tag lists) the run knows, or None
    columns: dict[str, list[str]]  # the other columns as groups: column -> each row's group ("" = none)


def _bands(values: pd.Series, dates: bool) -> list[str] | None:
    """Each value's band among four cut at the quartiles ("2026-01-03 – 2026-02-10", "12 – 30")."""
    parsed = (
        pd.to_datetime(values, errors="coerce", format="mixed") if dates else pd.to_numeric(values, "coerce")
    )
    if parsed.notna().mean() < 0.9 or parsed.nunique() < 4:
        return None
    band = pd.qcut(parsed.rank(method="first"), 4, labels=False)
    shown = (lambda v: v.date().isoformat()) if dates else (lambda v: f"{v:g}")
    edges = parsed.groupby(band).agg(["min", "max"])  # each band's first and last value, once
    names = {b: f"{shown(row['min'])} – {shown(row['max'])}" for b, row in edges.iterrows()}
    return ["" if pd.isna(b) else names[b] for b in band]


def groups_of(values: pd.Series, inputs: list, gold: list | None) -> list[str] | None:
    """Each row's group by this column, or None when the column does not cut the rows into groups."""
    shown = values.fillna("").astype(str).str.strip()
    if shown.tolist() == [str(x) if not isinstance(x, list) else " ".join(x) for x in inputs]:
        return None
    if gold is not None and shown.tolist() == [
        str(g) if not isinstance(g, list) else " ".join(g) for g in gold
    ]:
        return None
    distinct = shown[shown != ""].nunique()
    bands = _bands(shown, dates=not _numeric(shown)) if distinct > FEW else None
    if bands is not None:
        return bands
    return shown.tolist() if 2 <= distinct <= MAX_VALUES else None


def _numeric(values: pd.Series) -> bool:
    return pd.to_numeric(values, errors="coerce").notna().mean() >= 0.9


def read(model, path: str | Path, column: str | None = None) -> GivenFile:
    """The file's inputs, gold labels and grouping columns (DataError with what to do when unreadable)."""
    from trainer.data.readers import read_table

    path = Path(path)
    if not path.is_file():
        raise DataError(tr('File not found: "{path}". Check the path and the file name.', path=path))
    inputs, gold = model.adapter.read_file(path, column, model.labels)
    columns: dict[str, list[str]] = {}
    try:
        table = read_table(path)
    except DataError:  # a CoNLL file: no other columns
        return GivenFile(inputs, gold, columns)
    kept = _rows_read(table, inputs)
    if kept is None:
        return GivenFile(inputs, gold, columns)
    for name in table.columns:
        groups = groups_of(table[name].iloc[kept].reset_index(drop=True), inputs, gold)
        if groups is not None:
            columns[str(name)] = groups
    return GivenFile(inputs, gold, columns)


def _rows_read(table: pd.DataFrame, inputs: list) -> np.ndarray | None:
    """The rows of the table the inputs came from (those with text in the inputs' column), or None."""
    first = [" ".join(x) if isinstance(x, list) else str(x) for x in inputs]
    for name in table.columns:
        cells = table[name].fillna("").astype(str)
        kept = np.flatnonzero(cells.str.strip() != "")
        if len(kept) == len(first) and [cells.iloc[i].strip() for i in kept[:50]] == [
            s.strip() for s in first[:50]
        ]:
            return kept
    return None
