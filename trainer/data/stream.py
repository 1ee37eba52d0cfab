"""Reading a large file of new text in chunks: memory stays the same whatever the file's size.

CSV/TSV go through pandas' chunked reader (the delimiter and the encoding are detected from the file's
head, as `readers` does for whole files), JSON Lines and CoNLL (words only, or words and tags) line by
line. Every chunk is a DataFrame of strings; CoNLL chunks have one row per sentence in a `tokens`
column (words separated by spaces). A JSON array cannot be streamed: it is read whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from trainer.data.errors import DataError
from trainer.data.readers import (
    CONLL_EXTENSIONS,
    _binary_kind,
    _conll_fields,
    _records_frame,
    _sniff_delimiter,
    detect_encoding,
    read_table,
)
from trainer.i18n import tr

HEAD = 1 << 20  # bytes read to detect the encoding and the delimiter


def _head(path: Path) -> bytes:
    with open(path, "rb") as f:
        raw = f.read(HEAD)
    cut = raw.rfind(b"\n")
    return raw[: cut + 1] if cut > 0 and len(raw) == HEAD else raw


def _encoding(path: Path) -> str:
    raw = _head(path)
    if not raw.strip():
        raise DataError(tr('The file "{name}" is empty.', name=path.name))
    kind = _binary_kind(raw)
    if kind:
        raise DataError(
            tr(
                '"{name}" is not a text file (it looks like {kind}). Save it as CSV (UTF-8).',
                name=path.name,
                kind=tr(kind),
            )
        )
    return detect_encoding(raw)


def kind_of(path: Path) -> str:
    """ "conll", "jsonl", "json" or "table", from the name (and a look at the head for .txt)."""
    ext = path.suffix.lower()
    if ext in CONLL_EXTENSIONS:
        return "conll"
    if ext in (".jsonl", ".ndjson"):
        return "jsonl"
    if ext == ".json":
        return "json"
    return "table"


def chunks(path: str | Path, chunk_rows: int = 2000) -> Iterator[pd.DataFrame]:
    """The file's rows, `chunk_rows` at a time (CoNLL: sentences), as DataFrames of strings."""
    path = Path(path)
    kind, encoding = kind_of(path), _encoding(path)
    if kind == "json":
        yield read_table(path)
    elif kind == "jsonl":
        yield from _jsonl(path, encoding, chunk_rows)
    elif kind == "conll":
        yield from _conll(path, encoding, chunk_rows)
    else:
        yield from _table(path, encoding, chunk_rows)


def _table(path: Path, encoding: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
    sep = (
        "\t"
        if path.suffix.lower() in (".tsv", ".tab")
        else _sniff_delimiter(_head(path).decode(encoding, "replace"))
    )
    try:
        reader = pd.read_csv(path, sep=sep, encoding=encoding, dtype=str, keep_default_na=False,
                             chunksize=chunk_rows, skip_blank_lines=True)  # fmt: skip
        for chunk in reader:
            chunk.columns = [str(c).strip().lstrip("\ufeff").strip() for c in chunk.columns]
            yield chunk
    except pd.errors.ParserError as exc:
        raise DataError(
            tr(
                '"{name}" could not be read ({error}). Check its quotes and delimiters.',
                name=path.name,
                error=str(exc).strip(),
            )
        ) from None


def _jsonl(path: Path, encoding: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
    records: list[dict] = []
    with open(path, encoding=encoding) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(
                    tr(
                        'Line {number} of "{name}" is not valid JSON ({error}).',
                        number=number,
                        name=path.name,
                        error=exc.msg,
                    )
                ) from None
            if not isinstance(record, dict):
                raise DataError(
                    tr('Line {number} of "{name}" is not a JSON object.', number=number, name=path.name)
                )
            records.append(record)
            if len(records) >= chunk_rows:
                yield _records_frame(records, path.name)
                records = []
    if records:
        yield _records_frame(records, path.name)


def _conll(path: Path, encoding: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
    sentences: list[str] = []
    words: list[str] = []
    with open(path, encoding=encoding) as f:
        for line in f:
            stripped = line.strip().lstrip("\ufeff")
            if not stripped or stripped.startswith("-DOCSTART-"):
                if words:
                    sentences.append(" ".join(words))
                    words = []
                if len(sentences) >= chunk_rows:
                    yield pd.DataFrame({"tokens": sentences})
                    sentences = []
                continue
            words.append(_conll_fields(stripped)[0])
    if words:
        sentences.append(" ".join(words))
    if sentences:
        yield pd.DataFrame({"tokens": sentences})


def preview(path: str | Path, rows: int = 200) -> pd.DataFrame:
    """The file's first rows (for proposing its columns)."""
    return next(chunks(path, rows), pd.DataFrame())


def count_rows(path: str | Path) -> int:
    """About how many rows (CoNLL: sentences) the file holds, from its line breaks (for progress and ETA)."""
    path = Path(path)
    lines = blank = 0
    with open(path, "rb") as f:
        while block := f.read(1 << 24):
            lines += block.count(b"\n")
            blank += block.count(b"\n\n")
    if kind_of(path) == "conll":
        return max(1, blank + 1)
    return max(0, lines - (kind_of(path) == "table"))
