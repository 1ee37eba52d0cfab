"""Reading files: CSV, TSV, JSON Lines, JSON and CoNLL, with the encoding detected.

Every file that cannot be read raises DataError with a message for a non-engineer. Cells are strings.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

import trainer.data.limits as limits  # the module, not the package: no cycle through trainer/data/__init__
from trainer import i18n
from trainer.data.errors import DataError
from trainer.data.word_rule import cell_text
from trainer.i18n import N_, tr

Source = str | Path | tuple[str, bytes]  # a path, or (file name, raw bytes) from an upload

CONLL_EXTENSIONS = (".conll", ".bio", ".iob")
TABLE_EXTENSIONS = (".csv", ".tsv", ".tab", ".txt", ".jsonl", ".ndjson", ".json")
TAG_RE = re.compile(r"^(?:O|[BIESMLU][-_]\S+)$")

_MAGIC = (  # what a file that is not text looks like (translated where a message names it)
    (b"\x89PNG", N_("a PNG image")),
    (b"\xff\xd8\xff", N_("a JPEG image")),
    (b"GIF8", N_("a GIF image")),
    (b"PK\x03\x04", N_("a ZIP archive or an Excel/Word file")),
    (b"%PDF", N_("a PDF document")),
    (b"\x1f\x8b", N_("a gzip archive")),
    (b"\xd0\xcf\x11\xe0", N_("an old Excel or Word file")),
    (b"PAR1", N_("a Parquet file")),
    (b"SQLite format 3", N_("a SQLite database")),
)
# A delimiter as a message names it.
DELIMITERS = {"\t": N_("tab"), ",": N_("comma"), ";": N_("semicolon"), "|": N_("vertical bar")}
JSON_EXAMPLE = '{"text": "I love it", "label": "positive"}'  # one record, as messages show it


@dataclass
class Loaded:
    """One file as read: a table, or CoNLL sentences."""

    name: str
    frame: pd.DataFrame | None = None
    tokens: list[list[str]] | None = None
    tags: list[list[str]] | None = None


def detect_encoding(raw: bytes) -> str:
    """utf-8 / utf-8-sig, utf-16 (with BOM), gb18030 (Chinese), else cp1252, else latin-1."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        raw.decode("utf-8")
        return "utf-8-sig" if raw.startswith(codecs.BOM_UTF8) else "utf-8"
    except UnicodeDecodeError:
        pass
    if _looks_like_gb18030(raw):
        return "gb18030"
    try:
        raw.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _looks_like_gb18030(raw: bytes) -> bool:
    """Decodes as GB18030, holds CJK, and its double bytes look like Chinese, not accented Latin."""
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError:
        return False
    wide = [c for c in text[:200_000] if ord(c) > 127]
    if not any("\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf" for c in wide):
        return False
    # Latin-1 "ü" + "l" also decodes to a GB character, but its second byte is ASCII; Chinese's is not
    chinese_like = sum(1 for c in wide if len(b := c.encode("gb18030")) == 2 and b[1] >= 0x80)
    return chinese_like >= 0.8 * len(wide)


def _load(source: Source) -> tuple[str, bytes]:
    if isinstance(source, tuple):
        name, raw = source
        name = Path(str(name)).name or "upload"
        limits.check_size(name, len(raw))
        return name, bytes(raw)
    path = Path(source).expanduser()
    if path.is_dir():
        raise DataError(
            tr(
                '"{path}" is a folder, not a file. Give the path of a CSV, TSV, JSON Lines or CoNLL file.',
                path=str(path),
            )
        )
    if not path.exists():
        raise DataError(tr('File not found: "{path}". Check the path and the file name.', path=str(path)))
    limits.check_size(path.name, path.stat().st_size)  # before reading it
    return path.name, path.read_bytes()


def _extension(name: str) -> str:
    return Path(name).suffix.lower()


def _check_extension(name: str, ext: str) -> None:
    if ext in CONLL_EXTENSIONS + TABLE_EXTENSIONS or ext == "":
        return
    if ext in (".xlsx", ".xls", ".xlsm", ".ods"):
        raise DataError(
            tr(
                'Insight cannot read "{name}": files ending in {ext} are not supported. Save it as CSV (.csv), '
                "TSV (.tsv), JSON Lines (.jsonl) or CoNLL (.conll) and try again. "
                "In Excel: File > Save As > CSV UTF-8.",
                name=name,
                ext=ext,
            )
        )
    raise DataError(
        tr(
            'Insight cannot read "{name}": files ending in {ext} are not supported. Save it as CSV (.csv), '
            "TSV (.tsv), JSON Lines (.jsonl) or CoNLL (.conll) and try again.",
            name=name,
            ext=ext,
        )
    )


def _binary_kind(raw: bytes) -> str | None:
    for magic, kind in _MAGIC:
        if raw.startswith(magic):
            return kind
    if not raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and b"\x00" in raw[:8192]:
        return N_("binary data")
    return None


def _decode(name: str, raw: bytes) -> str:
    empty = tr(
        'The file "{name}" is empty. Choose a file with a header row and some labeled rows.', name=name
    )
    if not raw.strip():
        raise DataError(empty)
    kind = _binary_kind(raw)
    if kind:
        raise DataError(
            tr(
                '"{name}" is not a text file (it looks like {kind}). Save your data as CSV (UTF-8) and try again.',
                name=name,
                kind=tr(kind),
            )
        )
    text = raw.decode(detect_encoding(raw)).lstrip("\ufeff")
    if not text.strip():
        raise DataError(empty)
    return text


def read(source: Source) -> Loaded:
    name, raw = _load(source)
    ext = _extension(name)
    _check_extension(name, ext)
    text = _decode(name, raw)
    if ext in CONLL_EXTENSIONS or (ext in (".txt", "") and _looks_like_conll(text)):
        tokens, tags = _parse_conll(text, name)
        return Loaded(name, tokens=tokens, tags=tags)
    if ext in (".jsonl", ".ndjson"):
        return Loaded(name, frame=_read_jsonl(text, name))
    if ext == ".json" or (ext == "" and text.lstrip().startswith(("[", "{"))):
        return Loaded(name, frame=_read_json(text, name))
    return Loaded(name, frame=_read_csv(text, name, ext))


def read_table(source: Source) -> pd.DataFrame:
    """Read CSV/TSV/JSONL/JSON (CoNLL: columns tokens,tags, space-joined); every cell a string."""
    loaded = read(source)
    if loaded.frame is not None:
        return loaded.frame
    return pd.DataFrame(
        {"tokens": [" ".join(t) for t in loaded.tokens], "tags": [" ".join(t) for t in loaded.tags]},
        dtype=str,
    )


def read_conll(source: Source) -> tuple[list[list[str]], list[list[str]]]:
    """Sentences of a CoNLL file: one `token ... TAG` per line, blank lines between sentences."""
    name, raw = _load(source)
    return _parse_conll(_decode(name, raw), name)


def _conll_fields(line: str) -> list[str]:
    return [f.strip() for f in line.split("\t")] if "\t" in line else line.split()


def _looks_like_conll(text: str) -> bool:
    lines = [ln.strip() for ln in text.splitlines()[:2000]]
    lines = [ln for ln in lines if ln and not ln.startswith("-DOCSTART-")][:500]
    if not lines:
        return False
    good = sum(1 for ln in lines if 2 <= len(f := _conll_fields(ln)) <= 6 and TAG_RE.match(f[-1]))
    return good >= 0.9 * len(lines)


def _conll_blocks(text: str) -> Iterator[list[tuple[int, str]]]:
    """The sentences of CoNLL text: per sentence, (line number, stripped line) of each line;
    `-DOCSTART-` lines and blank lines separate sentences."""
    block: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("-DOCSTART-"):
            if block:
                yield block
                block = []
            continue
        block.append((number, stripped))
    if block:
        yield block


def _parse_conll(text: str, name: str) -> tuple[list[list[str]], list[list[str]]]:
    sentences: list[list[str]] = []
    tags: list[list[str]] = []
    most_sentences, longest = limits.ROWS.value, limits.CELL_CHARS.value
    for block in _conll_blocks(text):
        if len(sentences) >= most_sentences:
            raise limits.ROWS.refuse(tr('"{name}"', name=name), unit="sentences")
        rows = []
        for number, line in block:
            if len(line) > longest:
                raise limits.CELL_CHARS.refuse(
                    tr('Line {number} of "{name}"', number=number, name=name), len(line)
                )
            fields = _conll_fields(line)
            if len(fields) < 2 or not fields[-1] or not fields[0]:
                raise DataError(
                    tr(
                        'Line {number} of "{name}" (sentence {sentence}) has a word but no tag: "{line}". '
                        'Each line must hold one word and its tag, like "Paris B-LOC", '
                        "with a blank line between sentences.",
                        number=number,
                        name=name,
                        sentence=len(sentences) + 1,
                        line=line,
                    )
                )
            rows.append(fields)
        sentences.append([fields[0] for fields in rows])
        tags.append([fields[-1] for fields in rows])
    if not sentences:
        raise DataError(
            tr(
                '"{name}" holds no sentences. Write one word and its tag per line, like "Paris B-LOC".',
                name=name,
            )
        )
    return sentences, tags


def read_conll_words(source: Source) -> list[list[str]]:
    """Sentences of a CoNLL-style file whose tags may be missing (new text to tag): the first field
    of each line is the word."""
    name, raw = _load(source)
    sentences = [[_conll_fields(line)[0] for _, line in block] for block in _conll_blocks(_decode(name, raw))]
    if not sentences:
        raise DataError(
            tr('"{name}" holds no words. Write one word per line, a blank line between sentences.', name=name)
        )
    return sentences


def _records_frame(records: list[dict], name: str) -> pd.DataFrame:
    columns: dict[str, None] = {}
    most_columns, deepest, longest = limits.COLUMNS.value, limits.DEPTH.value, limits.CELL_CHARS.value
    for number, record in enumerate(records, 1):
        columns.update(dict.fromkeys(str(k).strip() for k in record))
        if len(columns) > most_columns:
            raise limits.COLUMNS.refuse(tr('"{name}"', name=name), unit="distinct keys (columns)")
        if limits.nesting_depth(record, deepest) > deepest + 1:  # the record itself is one level
            raise DataError(_too_deep(name, record=number))
    rows = [[cell_text(_get(r, c)) for c in columns] for r in records]
    for number, row in enumerate(rows, 1):
        for column, cell in zip(columns, row, strict=True):
            if len(cell) > longest:
                subject = tr(
                    'The "{column}" value of record {number} of "{name}"',
                    column=column,
                    number=i18n.number(number),
                    name=name,
                )
                raise limits.CELL_CHARS.refuse(subject, len(cell))
    return pd.DataFrame(rows, columns=list(columns), dtype=str)


def _get(record: dict, column: str) -> Any:
    if column in record:
        return record[column]
    return next((v for k, v in record.items() if str(k).strip() == column), None)


def _read_jsonl(text: str, name: str) -> pd.DataFrame:
    records = []
    most_rows = limits.ROWS.value
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if len(records) >= most_rows:
            raise limits.ROWS.refuse(tr('"{name}"', name=name), unit="records")
        try:
            record = json.loads(line)
        except RecursionError:
            raise DataError(_too_deep(name, number)) from None
        except json.JSONDecodeError as exc:
            raise DataError(
                tr(
                    'Line {number} of "{name}" is not valid JSON ({error}). '
                    "Each line must be one JSON object, like {example}.",
                    number=number,
                    name=name,
                    error=exc.msg,
                    example=JSON_EXAMPLE,
                )
            ) from None
        if not isinstance(record, dict):
            raise DataError(
                tr(
                    'Line {number} of "{name}" is a JSON {type}, not an object. '
                    "Each line must be one JSON object, like {example}.",
                    number=number,
                    name=name,
                    type=type(record).__name__,
                    example=JSON_EXAMPLE,
                )
            )
        records.append(record)
    return _records_frame(records, name)


def _too_deep(name: str, line: int | None = None, record: int | None = None) -> str:
    if line:
        where = tr('Line {number} of "{name}"', number=line, name=name)
    elif record:
        where = tr('Record {number} of "{name}"', number=record, name=name)
    else:
        where = tr('"{name}"', name=name)
    return tr(
        "{where} nests lists or objects too deeply to read (the limit is {limit} levels, set by {setting}). "
        "Each record should be a flat object, like {example}.",
        where=where,
        limit=i18n.number(limits.DEPTH.value),
        setting=limits.DEPTH.setting,
        example=JSON_EXAMPLE,
    )


def _read_json(text: str, name: str) -> pd.DataFrame:
    try:
        data = json.loads(text)
    except RecursionError:
        raise DataError(_too_deep(name)) from None
    except json.JSONDecodeError as exc:
        if text.lstrip().startswith("{"):  # JSON Lines saved as .json
            return _read_jsonl(text, name)
        raise DataError(
            tr(
                '"{name}" is not valid JSON (line {line}: {error}). Fix it or save it as CSV.',
                name=name,
                line=exc.lineno,
                error=exc.msg,
            )
        ) from None
    if isinstance(data, dict):  # {"data": [...]}: the one list of objects inside
        lists = [v for v in data.values() if isinstance(v, list)]
        data = lists[0] if len(lists) == 1 else data
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise DataError(
            tr(
                '"{name}" must hold a list of objects, like [{example}, ...]. '
                "For one object per line, name the file .jsonl.",
                name=name,
                example=JSON_EXAMPLE,
            )
        )
    limits.ROWS.check(len(data), tr('"{name}"', name=name), "records")
    return _records_frame(data, name)


def _sniff_delimiter(text: str) -> str:
    """The delimiter that occurs most often (outside quotes) in the header line."""
    header = next((ln for ln in text.splitlines() if ln.strip()), "")
    unquoted = re.sub(r'"[^"]*"', "", header)
    counts = {d: unquoted.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _unique_names(header: list[str]) -> list[str]:
    """Column names made unique as pandas does ("a", "a.1", "a.2"), in time linear in the header."""
    names: list[str] = []
    taken: set[str] = set()
    next_suffix: dict[str, int] = {}
    for i, raw in enumerate(header):
        base = name = raw.strip().lstrip("\ufeff").strip() or f"column {i + 1}"
        k = next_suffix.get(base, 1)
        while name in taken:
            name, k = f"{base}.{k}", k + 1
        next_suffix[base] = k
        taken.add(name)
        names.append(name)
    return names


def _read_csv(text: str, name: str, ext: str) -> pd.DataFrame:
    sep = "\t" if ext in (".tsv", ".tab") else _sniff_delimiter(text)
    kind = tr(DELIMITERS[sep])
    longest, most_rows = limits.CELL_CHARS.value, limits.ROWS.value
    csv.field_size_limit(longest)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    header: list[str] | None = None
    rows: list[list[str]] = []
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                limits.COLUMNS.check(len(row), tr('The header of "{name}"', name=name))
                header = _unique_names(row)
                continue
            if len(rows) >= most_rows:
                raise limits.ROWS.refuse(tr('"{name}"', name=name))
            while len(row) > len(header) and not row[-1].strip():
                row.pop()
            if len(row) > len(header):
                raise DataError(
                    tr(
                        'Line {number} of "{name}" has {fields} fields, but the header has {columns}. '
                        'A text that contains a {kind} must be enclosed in double quotes, like "good{sep} but slow". '
                        "Fix that line, or export the file again from your spreadsheet.",
                        number=reader.line_num,
                        name=name,
                        fields=len(row),
                        columns=len(header),
                        kind=kind,
                        sep=sep,
                    )
                )
            rows.append(row + [""] * (len(header) - len(row)))
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            subject = tr(
                'A cell near line {number} of "{name}"', number=i18n.number(reader.line_num), name=name
            )
            raise limits.CELL_CHARS.refuse(subject) from None
        raise DataError(
            tr(
                '"{name}" could not be read near line {number} ({error}). '
                'Check for a double quote (") that is opened but never closed.',
                name=name,
                number=reader.line_num,
                error=str(exc),
            )
        ) from None
    return pd.DataFrame(rows, columns=header, dtype=str)
