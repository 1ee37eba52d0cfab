"""CSV that cannot attack its reader: cells that a spreadsheet would run as a formula are neutralised.

OWASP's rule for CSV injection: a text cell beginning with `=`, `+`, `-`, `@`, a tab or a carriage
return gets a leading single quote, so Excel, LibreOffice and Google Sheets show it as text. Numbers
stay numbers. Every CSV a person downloads from the app or the CLI writes with `--out` goes through here.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pandas as pd

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")  # "-3.5" read as text stays a number


def neutralise_cell(value: Any) -> Any:
    """A text cell as it is safe to open in a spreadsheet; anything else (and plain numbers) unchanged."""
    if isinstance(value, str) and value.startswith(TRIGGERS) and not NUMBER.fullmatch(value):
        return "'" + value
    return value


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells (and column names) cannot be read as formulas."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralise_cell)
    out.columns = [neutralise_cell(str(c)) if isinstance(c, str) else c for c in out.columns]
    return out


def to_csv(frame: pd.DataFrame, target: Any = None) -> str | None:
    """Write `frame` as safe CSV to a path or a text stream; with no target, return the text."""
    return neutralise(frame).to_csv(target, index=False)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """Safe CSV as UTF-8 bytes (for a download button)."""
    buffer = io.StringIO()
    to_csv(frame, buffer)
    return buffer.getvalue().encode("utf-8")


def copy_safely(source: str | Path, target: Any, rows: int = 20_000) -> None:
    """Copy a CSV file to a text stream as safe CSV, a chunk of rows at a time (any size)."""
    chunks = pd.read_csv(source, dtype=str, keep_default_na=False, chunksize=rows)
    for i, chunk in enumerate(chunks):
        neutralise(chunk).to_csv(target, index=False, header=i == 0)


def read_header(stream: Any) -> str:
    """The header record of an open CSV text stream, line breaks inside quoted names included.

    A record ends at the first line break outside quotes: where the double quotes read so far are even
    (an escaped quote is two of them). Reading a line at a time would split a quoted header with a line
    break in it, and its second half would be copied as a row.
    """
    record = stream.readline()
    while record.count('"') % 2 and (more := stream.readline()):
        record += more
    return record


def file_bytes(source: str | Path) -> bytes:
    """A CSV file as safe CSV bytes (for a download button)."""
    buffer = io.StringIO()
    copy_safely(source, buffer)
    return buffer.getvalue().encode("utf-8")
