"""A batch's rows before they are stored: a file read a chunk at a time under the app's file limits
(trainer.data.limits), each row's key, and which rows have a date the monitor can take."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from trainer.data import limits, stream
from trainer.data.errors import DataError
from trainer.i18n import tr

FUTURE = pd.Timedelta(days=1)  # a row dated later than now plus this is refused (a clock's slack, time zones)


def fingerprint(path: Path) -> str:
    """A file as a batch remembers it (name, size, modification time): a folder adds the files it has not."""
    stat = Path(path).stat()
    return f"{Path(path).name}|{stat.st_size}|{stat.st_mtime_ns}"


def row_keys(frame: pd.DataFrame, settings) -> pd.Series:
    """A row's identity: its id column, else a hash of its time, group and text."""
    if settings.id_column:
        return frame[settings.id_column].astype(str)
    parts = frame[settings.time_column].astype(str) + "\x1f"
    if settings.group_column:
        parts = parts + frame[settings.group_column].astype(str)
    parts = parts + "\x1f" + frame[settings.text_column].astype(str)
    return parts.map(lambda s: hashlib.sha1(s.encode("utf-8")).hexdigest())


def file_chunks(path: Path, settings, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """The file's rows, `chunk_rows` at a time, only the columns the monitor reads: refused (DataError) past
    a file limit (size before reading; rows, columns and a cell's characters as the chunks come) or when a
    column the monitor reads is missing."""
    path = Path(path)
    name = tr('"{name}"', name=path.name)
    limits.check_size(path.name, path.stat().st_size)
    wanted = [
        c
        for c in (settings.text_column, settings.time_column, settings.group_column, settings.id_column)
        if c
    ]
    most_rows, longest, rows = limits.ROWS.value, limits.CELL_CHARS.value, 0
    for chunk in stream.chunks(path, chunk_rows):
        limits.COLUMNS.check(len(chunk.columns), name)
        missing = [c for c in wanted if c not in chunk.columns]
        if missing:
            raise DataError(tr('"{file}" has no column "{column}" (this monitor reads {text_column}, {time_column}). '
                               "Columns found: {found}.", file=path.name, column=missing[0], text_column=settings.text_column,
                               time_column=settings.time_column, found=", ".join(map(str, chunk.columns))))  # fmt: skip
        rows += len(chunk)
        if rows > most_rows:
            raise limits.ROWS.refuse(name)
        chunk = chunk[list(dict.fromkeys(wanted))]
        widest = int(chunk.astype(str).apply(lambda c: c.str.len()).max().max()) if len(chunk) else 0
        if widest > longest:
            raise limits.CELL_CHARS.refuse(name, widest)
        yield chunk


def date_verdicts(times: pd.Series, now: pd.Timestamp) -> tuple[pd.Series, pd.Series]:
    """(no readable date, dated after now + FUTURE) for each of `times` (parsed, NaT where unreadable)."""
    undated = times.isna()
    return undated, ~undated & (times > now + FUTURE)
