"""Files -> validated examples + a validation report.

Reads CSV, TSV, JSON Lines, JSON and CoNLL files (the encoding is detected), proposes the text and
label columns, cleans the rows, splits them into train/validation/test and reports what it found in
plain English. Every unusable input raises `DataError`, whose message tells a non-engineer what is
wrong and what to do. Imports stay cheap: pandas and numpy only (scikit-learn inside `prepare`).

Decisions a caller relies on:
- Labels that differ only by case or surrounding spaces are merged into the most frequent spelling.
- Exact duplicate rows (same text and label) of the main file are dropped after the first, so a copy
  cannot sit in both training and test; duplicates with different labels are kept and warned about.
- Validation/test rows whose label (token task: entity type) is not in training are dropped, because
  the model cannot predict it; `report.unseen_labels` names them.
- A label with fewer than 3 rows stays in training; every label keeps at least 2 training rows.
- Token task: "every tag is O" is an error, but only a warning when nothing is held out
  (val_fraction == test_fraction == 0 and no eval/test file or split column: the file is only read).
- Token task: tags are normalised to BIO or IOBES (IO and bare tags -> BIO, BMES -> IOBES with M=I,
  BILOU -> IOBES with L=E, U=S); an I-X (or E-X) that does not continue an X entity becomes B-X (or
  S-X), as conlleval reads it. `labels` lists every prefix of every entity type seen in training.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

TEXT_TASK = "text-classification"
TOKEN_TASK = "token-classification"
TASKS = (TEXT_TASK, TOKEN_TASK)

Source = str | Path | tuple[str, bytes]

CONLL_EXTENSIONS = (".conll", ".bio", ".iob")
TABLE_EXTENSIONS = (".csv", ".tsv", ".tab", ".txt", ".jsonl", ".ndjson", ".json")
MIN_TRAIN_EXAMPLES = 2  # fewer in training: error
FEW_EXAMPLES = 10  # fewer in training: warning
IMBALANCE_WARNING = 10.0  # largest / smallest class
TRUNCATION_WARNING = 0.01  # share of texts longer than max_length
UNK_WARNING = 0.05  # share of [UNK] among non-special tokens
MIN_ROWS_TO_SPLIT = 10

TEXT_NAMES = (
    "text", "texts", "sentence", "sentences", "review", "reviews", "review_text", "review_body",
    "content", "message", "comment", "comments", "body", "utterance", "tweet", "document", "doc",
    "query", "question", "input", "prompt", "description", "headline", "title",
    "文本", "评论", "内容", "句子", "正文", "评价", "留言", "问题", "标题",
)  # fmt: skip
LABEL_NAMES = (
    "label_text", "label_name", "label", "labels", "sentiment", "category", "class", "intent",
    "target", "topic", "tag", "y", "emotion", "polarity", "stance", "genre", "gold", "rating",
    "标签", "类别", "分类", "情感", "类型", "标注",
)  # fmt: skip
TOKEN_NAMES = ("tokens", "words", "token", "word", "chars", "characters", "词", "字", "分词")
TAG_NAMES = ("ner_tags", "tags", "ner", "bio", "bio_tags", "labels", "tag", "label", "标签")
SPLIT_NAMES = ("split",)
SPLIT_VALUES = {
    "train": "train", "training": "train", "trn": "train",
    "validation": "validation", "valid": "validation", "val": "validation", "dev": "validation",
    "development": "validation", "eval": "validation",
    "test": "test", "testing": "test", "tst": "test",
}  # fmt: skip

_TAG_RE = re.compile(r"^(?:O|[BIESMLU][-_]\S+)$")
_PREFIX_RE = re.compile(r"^([BIESMLU])[-_](.+)$")
_MAGIC = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive or an Excel/Word file"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\xd0\xcf\x11\xe0", "an old Excel or Word file"),
    (b"PAR1", "a Parquet file"),
    (b"SQLite format 3", "a SQLite database"),
)
_COLUMN_HINT = "(in the app: pick it in Columns)"


class DataError(ValueError):
    """Unusable input; the message says what is wrong and what to do. `.report`: what was found so far."""

    def __init__(self, message: str, report: ValidationReport | None = None) -> None:
        super().__init__(message)
        self.report = report


# ---------------------------------------------------------------- results


@dataclass
class Split:
    """One split. Text task: texts + labels. Token task: tokens + one tag list per sentence."""

    texts: list[str]  # text task: the text; token task: " ".join(tokens)
    labels: list  # text task: list[str]; token task: list[list[str]]
    tokens: list[list[str]] | None = None

    def __len__(self) -> int:
        return len(self.texts)

    def to_frame(self) -> pd.DataFrame:
        """Columns text,label (token task: tokens,tags, space-joined)."""
        if self.tokens is not None:
            return pd.DataFrame(
                {"tokens": [" ".join(t) for t in self.tokens], "tags": [" ".join(t) for t in self.labels]}
            )
        return pd.DataFrame({"text": list(self.texts), "label": list(self.labels)})


@dataclass
class ValidationReport:
    """What `prepare` found. Token task: label_counts are tag counts, split_counts entity counts."""

    task: str = TEXT_TASK
    rows_read: int = 0
    rows_used: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    duplicate_texts: int = 0
    conflicting_duplicates: int = 0
    label_counts: dict[str, int] = field(default_factory=dict)
    split_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    split_sizes: dict[str, int] = field(default_factory=dict)
    merged_labels: dict[str, list[str]] = field(default_factory=dict)
    imbalance_ratio: float | None = None
    max_length: int | None = None
    truncated_share: float | None = None
    unk_share: float | None = None
    unseen_labels: dict[str, list[str]] = field(default_factory=dict)
    tag_scheme: str | None = None
    repaired_tags: int = 0
    entity_counts: dict[str, int] = field(default_factory=dict)
    rare_labels: list[str] = field(default_factory=list)  # too few to train on (the error names them)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe copy (plain ints, floats, strings), with `ok`."""
        return {**asdict(self), "ok": self.ok}

    def to_text(self) -> str:
        """A readable multi-line report (what the CLI prints)."""
        token = self.task == TOKEN_TASK
        unit = "sentences" if token else "rows"
        lines = [f"Task: {'token classification (entities)' if token else 'text classification'}"]
        dropped = ", ".join(f"{k}: {v}" for k, v in self.dropped.items())
        lines.append(
            f"{unit.capitalize()}: {self.rows_read} read, {sum(self.dropped.values())} dropped"
            + (f" ({dropped})" if dropped else "")
            + f", {self.rows_used} used"
        )
        if self.split_sizes:
            lines.append("Splits: " + ", ".join(f"{k} {v}" for k, v in self.split_sizes.items()))
        if self.tag_scheme:
            lines.append(f"Tag scheme: {self.tag_scheme} ({self.repaired_tags} tags repaired)")
        counts = self.entity_counts if token else self.label_counts
        if counts:
            title = "Entities" if token else "Labels"
            lines.append(f"{title} ({len(counts)}): " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        if self.imbalance_ratio is not None:
            lines.append(f"Imbalance: {self.imbalance_ratio:.1f} to 1 (largest / smallest)")
        lines.append(
            f"Duplicates: {self.duplicate_texts} repeated, {self.conflicting_duplicates} with conflicting labels"
        )
        if self.max_length is not None:
            cut = f" ({_pct(self.truncated_share)} longer)" if self.truncated_share is not None else ""
            lines.append(f"Max length: {self.max_length} tokens{cut}")
        if self.unk_share is not None:
            lines.append(f"Unknown tokens: {_pct(self.unk_share)}")
        for title, items in (("Errors", self.errors), ("Warnings", self.warnings), ("Notes", self.notes)):
            if items:
                lines.append(f"{title}:")
                lines.extend(f"  - {item}" for item in items)
        lines.append("OK" if self.ok else "NOT OK: fix the errors above")
        return "\n".join(lines)


@dataclass
class PreparedData:
    """Validated splits ready for training, with the report and the columns used."""

    task: str
    labels: list[str]
    train: Split
    validation: Split
    test: Split
    report: ValidationReport
    text_column: str | None
    label_column: str | None


@dataclass
class _Loaded:
    """One file as read: a table, or CoNLL sentences."""

    name: str
    frame: pd.DataFrame | None = None
    tokens: list[list[str]] | None = None
    tags: list[list[str]] | None = None


@dataclass
class _Example:
    x: Any  # text (str) or words (tuple[str, ...])
    y: Any  # label (str) or tags (tuple[str, ...])
    split: str | None = None


# ---------------------------------------------------------------- reading


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
        return Path(str(name)).name or "upload", bytes(raw)
    path = Path(source).expanduser()
    if path.is_dir():
        raise DataError(
            f'"{path}" is a folder, not a file. Give the path of a CSV, TSV, JSON Lines or CoNLL file.'
        )
    if not path.exists():
        raise DataError(f'File not found: "{path}". Check the path and the file name.')
    return path.name, path.read_bytes()


def _extension(name: str) -> str:
    return Path(name).suffix.lower()


def _check_extension(name: str, ext: str) -> None:
    if ext in CONLL_EXTENSIONS + TABLE_EXTENSIONS or ext == "":
        return
    hint = " In Excel: File > Save As > CSV UTF-8." if ext in (".xlsx", ".xls", ".xlsm", ".ods") else ""
    raise DataError(
        f'Insight cannot read "{name}": files ending in {ext} are not supported. Save it as CSV (.csv), '
        f"TSV (.tsv), JSON Lines (.jsonl) or CoNLL (.conll) and try again.{hint}"
    )


def _binary_kind(raw: bytes) -> str | None:
    for magic, kind in _MAGIC:
        if raw.startswith(magic):
            return kind
    if not raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and b"\x00" in raw[:8192]:
        return "binary data"
    return None


def _decode(name: str, raw: bytes) -> str:
    empty = f'The file "{name}" is empty. Choose a file with a header row and some labeled rows.'
    if not raw.strip():
        raise DataError(empty)
    kind = _binary_kind(raw)
    if kind:
        raise DataError(
            f'"{name}" is not a text file (it looks like {kind}). Save your data as CSV (UTF-8) and try again.'
        )
    text = raw.decode(detect_encoding(raw)).lstrip("\ufeff")
    if not text.strip():
        raise DataError(empty)
    return text


def _read(source: Source) -> _Loaded:
    name, raw = _load(source)
    ext = _extension(name)
    _check_extension(name, ext)
    text = _decode(name, raw)
    if ext in CONLL_EXTENSIONS or (ext in (".txt", "") and _looks_like_conll(text)):
        tokens, tags = _parse_conll(text, name)
        return _Loaded(name, tokens=tokens, tags=tags)
    if ext in (".jsonl", ".ndjson"):
        return _Loaded(name, frame=_read_jsonl(text, name))
    if ext == ".json" or (ext == "" and text.lstrip().startswith(("[", "{"))):
        return _Loaded(name, frame=_read_json(text, name))
    return _Loaded(name, frame=_read_csv(text, name, ext))


def read_table(source: Source) -> pd.DataFrame:
    """Read CSV/TSV/JSONL/JSON (CoNLL: columns tokens,tags, space-joined); every cell a string."""
    loaded = _read(source)
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
    good = sum(1 for ln in lines if 2 <= len(f := _conll_fields(ln)) <= 6 and _TAG_RE.match(f[-1]))
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
    for block in _conll_blocks(text):
        rows = []
        for number, line in block:
            fields = _conll_fields(line)
            if len(fields) < 2 or not fields[-1] or not fields[0]:
                raise DataError(
                    f'Line {number} of "{name}" (sentence {len(sentences) + 1}) has a word but no tag: '
                    f'"{line}". Each line must hold one word and its tag, like "Paris B-LOC", '
                    "with a blank line between sentences."
                )
            rows.append(fields)
        sentences.append([fields[0] for fields in rows])
        tags.append([fields[-1] for fields in rows])
    if not sentences:
        raise DataError(
            f'"{name}" holds no sentences. Write one word and its tag per line, like "Paris B-LOC".'
        )
    return sentences, tags


def read_conll_words(source: Source) -> list[list[str]]:
    """Sentences of a CoNLL-style file whose tags may be missing (new text to tag): the first field
    of each line is the word."""
    name, raw = _load(source)
    sentences = [[_conll_fields(line)[0] for _, line in block] for block in _conll_blocks(_decode(name, raw))]
    if not sentences:
        raise DataError(f'"{name}" holds no words. Write one word per line, a blank line between sentences.')
    return sentences


def _cell(value: Any) -> str:
    """A JSON value as a string cell: lists and objects as JSON, null as empty."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _records_frame(records: list[dict]) -> pd.DataFrame:
    columns: dict[str, None] = {}
    for record in records:
        columns.update(dict.fromkeys(str(k).strip() for k in record))
    rows = [[_cell(_get(r, c)) for c in columns] for r in records]
    return pd.DataFrame(rows, columns=list(columns), dtype=str)


def _get(record: dict, column: str) -> Any:
    if column in record:
        return record[column]
    return next((v for k, v in record.items() if str(k).strip() == column), None)


def _read_jsonl(text: str, name: str) -> pd.DataFrame:
    example = '{"text": "I love it", "label": "positive"}'
    records = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(
                f'Line {number} of "{name}" is not valid JSON ({exc.msg}). '
                f"Each line must be one JSON object, like {example}."
            ) from None
        if not isinstance(record, dict):
            raise DataError(
                f'Line {number} of "{name}" is a JSON {type(record).__name__}, not an object. '
                f"Each line must be one JSON object, like {example}."
            )
        records.append(record)
    return _records_frame(records)


def _read_json(text: str, name: str) -> pd.DataFrame:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if text.lstrip().startswith("{"):  # JSON Lines saved as .json
            return _read_jsonl(text, name)
        raise DataError(
            f'"{name}" is not valid JSON (line {exc.lineno}: {exc.msg}). Fix it or save it as CSV.'
        ) from None
    if isinstance(data, dict):  # {"data": [...]}: the one list of objects inside
        lists = [v for v in data.values() if isinstance(v, list)]
        data = lists[0] if len(lists) == 1 else data
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise DataError(
            f'"{name}" must hold a list of objects, like [{{"text": "I love it", "label": "positive"}}, ...]. '
            "For one object per line, name the file .jsonl."
        )
    return _records_frame(data)


def _sniff_delimiter(text: str) -> str:
    """The delimiter that occurs most often (outside quotes) in the header line."""
    header = next((ln for ln in text.splitlines() if ln.strip()), "")
    unquoted = re.sub(r'"[^"]*"', "", header)
    counts = {d: unquoted.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _unique_names(header: list[str]) -> list[str]:
    names: list[str] = []
    for i, raw in enumerate(header):
        name = raw.strip().lstrip("\ufeff").strip() or f"column {i + 1}"
        base, k = name, 1
        while name in names:
            name, k = f"{base}.{k}", k + 1
        names.append(name)
    return names


def _read_csv(text: str, name: str, ext: str) -> pd.DataFrame:
    sep = "\t" if ext in (".tsv", ".tab") else _sniff_delimiter(text)
    kind = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "vertical bar"}[sep]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    header: list[str] | None = None
    rows: list[list[str]] = []
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = _unique_names(row)
                continue
            while len(row) > len(header) and not row[-1].strip():
                row.pop()
            if len(row) > len(header):
                raise DataError(
                    f'Line {reader.line_num} of "{name}" has {len(row)} fields, but the header has {len(header)}. '
                    f'A text that contains a {kind} must be enclosed in double quotes, like "good{sep} but slow". '
                    "Fix that line, or export the file again from your spreadsheet."
                )
            rows.append(row + [""] * (len(header) - len(row)))
    except csv.Error as exc:
        raise DataError(
            f'"{name}" could not be read near line {reader.line_num} ({exc}). '
            'Check for a double quote (") that is opened but never closed.'
        ) from None
    return pd.DataFrame(rows, columns=header, dtype=str)


# ---------------------------------------------------------------- columns and task


def _norm(column: Any) -> str:
    return str(column).strip().lower().replace(" ", "_").replace("-", "_")


def _by_name(columns: Sequence[str], names: Sequence[str]) -> str | None:
    normalised = {_norm(c): c for c in reversed(list(columns))}
    return next((normalised[n] for n in names if n in normalised), None)


def _values(df: pd.DataFrame, column: str, limit: int | None = None) -> list[str]:
    cells = df[column].tolist()[:limit] if limit else df[column].tolist()
    return [s for c in cells if (s := _cell(c).strip())]


def _is_number(value: str) -> bool:
    try:
        float(value)
        return True
    except ValueError:
        return False


def _longest_text_column(df: pd.DataFrame, columns: Sequence[str]) -> str | None:
    best, best_len = None, 0.0
    for column in columns:
        values = _values(df, column, 1000)
        if not values or sum(map(_is_number, values)) >= 0.9 * len(values):
            continue
        mean = sum(map(len, values)) / len(values)
        if mean > best_len:
            best, best_len = column, mean
    return best


def _label_like_column(df: pd.DataFrame, columns: Sequence[str]) -> str | None:
    """The column with the fewest distinct values (two or more preferred), if few relative to rows."""
    candidates = []
    for i, column in enumerate(columns):
        values = _values(df, column)
        distinct = len(set(values))
        if values and distinct <= max(2, 0.5 * len(df)):
            candidates.append((distinct < 2, distinct, i, column))
    return min(candidates)[3] if candidates else None


def split_words(cell: str) -> list[str] | None:
    """A cell as a word list (JSON list or space-separated); None if it is not valid."""
    cell = cell.strip()
    if cell.startswith("["):
        try:
            value = json.loads(cell)
        except json.JSONDecodeError:
            return None
        return [_cell(v) for v in value] if isinstance(value, list) else None
    return cell.split()


def _tag_like(df: pd.DataFrame, column: str) -> bool:
    cells = _values(df, column, 200)
    good = sum(1 for c in cells if (words := split_words(c)) and all(_TAG_RE.match(w) for w in words))
    return bool(cells) and good >= 0.9 * len(cells)


def _counts_match(df: pd.DataFrame, tokens: str, tags: str) -> bool:
    pairs = [
        (_cell(a).strip(), _cell(b).strip()) for a, b in zip(df[tokens][:200], df[tags][:200], strict=True)
    ]
    pairs = [(a, b) for a, b in pairs if a and b]
    good = 0
    for a, b in pairs:
        words, labels = split_words(a), split_words(b)
        if words is not None and labels is not None and len(labels) in (len(words), len(a)):
            good += 1
    multiword = any(len(split_words(b) or []) > 1 for _, b in pairs)  # not a word -> label lexicon
    return bool(pairs) and multiword and good >= 0.9 * len(pairs)


def _propose_token_columns(df: pd.DataFrame) -> tuple[str | None, str | None, bool]:
    """(tokens column, tags column, sure): sure when tag-like content or names with matching counts."""
    columns = [c for c in df.columns if _norm(c) not in SPLIT_NAMES]
    tags = _by_name(columns, TAG_NAMES)
    tokens = _by_name([c for c in columns if c != tags], TOKEN_NAMES)
    sure = bool(tags and tokens and (_tag_like(df, tags) or _counts_match(df, tokens, tags)))
    if not sure:
        by_content = [c for c in columns if _tag_like(df, c)]
        for candidate in by_content:
            others = [c for c in columns if c != candidate]
            named = _by_name(others, TOKEN_NAMES + TEXT_NAMES)
            matching = [c for c in others if _counts_match(df, c, candidate)]
            pick = named if named in matching else (matching[0] if matching else None)
            if pick:
                return pick, candidate, True
    tags = tags or _by_name(columns, LABEL_NAMES)
    tokens = tokens or _by_name([c for c in columns if c != tags], TEXT_NAMES)
    return tokens, tags, sure


def _propose_text_columns(df: pd.DataFrame) -> tuple[str | None, str | None]:
    columns = [c for c in df.columns if _norm(c) not in SPLIT_NAMES]
    text = _by_name(columns, TEXT_NAMES)
    label = _by_name([c for c in columns if c != text], LABEL_NAMES)
    if text is None:
        text = _longest_text_column(df, [c for c in columns if c != label])
    if label is None:
        label = _label_like_column(df, [c for c in columns if c != text])
    return text, label


def propose_columns(df: pd.DataFrame, task: str | None = None) -> tuple[str | None, str | None]:
    """(text column, label column); for the token task (tokens column, tags column). None: no guess."""
    task = _task_name(task) or propose_task(df)
    if task == TOKEN_TASK:
        tokens, tags, _ = _propose_token_columns(df)
        return tokens, tags
    return _propose_text_columns(df)


def propose_task(data: pd.DataFrame | Source) -> str:
    """Token task for CoNLL files and tables with a tokens column and a matching tags column."""
    if not isinstance(data, pd.DataFrame):
        loaded = _read(data)
        if loaded.frame is None:
            return TOKEN_TASK
        data = loaded.frame
    return TOKEN_TASK if _propose_token_columns(data)[2] else TEXT_TASK


def _task_name(task: str | None) -> str | None:
    if task is None or task == "":
        return None
    name = {"text": TEXT_TASK, "token": TOKEN_TASK, "ner": TOKEN_TASK}.get(task, task)
    if name not in TASKS:
        raise DataError(f'Unknown task "{task}". Use text-classification or token-classification.')
    return name


# ---------------------------------------------------------------- tag schemes


def detect_tag_scheme(tags: Iterable[str]) -> str:
    """BIO, IOBES, BILOU, BMES, IO (I- only, or bare types like PER), or unknown (numbers)."""
    kinds = set(tags) - {"O"}
    if kinds and all(t.isdigit() for t in kinds):
        return "unknown"
    matches = [_PREFIX_RE.match(t) for t in kinds]
    if any(m is None for m in matches):
        return "IO"
    prefixes = {m.group(1) for m in matches}
    if "M" in prefixes:
        return "BMES"
    if prefixes & {"L", "U"}:
        return "BILOU"
    if prefixes & {"E", "S"}:
        return "IOBES"
    return "BIO" if "B" in prefixes or not prefixes else "IO"


def _canonical_tag(tag: str, scheme: str) -> str:
    """The tag written as BIO/IOBES with a "-" separator (bare types become I-TYPE)."""
    if tag == "O" or scheme == "unknown":
        return tag
    match = _PREFIX_RE.match(tag)
    if match is None:
        return f"I-{tag}"
    prefix, kind = match.groups()
    if scheme in ("BMES", "BILOU"):
        prefix = {"M": "I", "L": "E", "U": "S"}.get(prefix, prefix)
    return f"{prefix}-{kind}"


def repair_tags(tags: Sequence[str]) -> tuple[list[str], int]:
    """I-X (E-X) that does not continue an X entity becomes B-X (S-X), as conlleval reads it."""
    out: list[str] = []
    fixed = 0
    previous = "O"
    for tag in tags:
        match = _PREFIX_RE.match(tag)
        if match and match.group(1) in ("I", "E"):
            prev = _PREFIX_RE.match(previous)
            if not (prev and prev.group(1) in ("B", "I") and prev.group(2) == match.group(2)):
                tag = ("B-" if match.group(1) == "I" else "S-") + match.group(2)
                fixed += 1
        out.append(tag)
        previous = tag
    return out, fixed


def entity_counts(tag_lists: Iterable[Sequence[str]]) -> dict[str, int]:
    """Entities per type (each starts with B- or S- once tags are repaired)."""
    counts: Counter[str] = Counter()
    for tags in tag_lists:
        for tag in tags:
            match = _PREFIX_RE.match(tag)
            if match and match.group(1) in ("B", "S"):
                counts[match.group(2)] += 1
    return dict(sorted(counts.items()))


# ---------------------------------------------------------------- lengths


def choose_max_length(token_lengths: Sequence[int], model_max: int) -> int:
    """99th percentile of the lengths, rounded up to a multiple of 8, at least 16, at most model_max."""
    if len(token_lengths) == 0:
        return min(16, model_max)
    p99 = math.ceil(float(np.percentile(np.asarray(token_lengths), 99)))
    return int(min(model_max, max(16, 8 * math.ceil(p99 / 8))))


def _token_stats(tokenizer: Any, inputs: list, split_words: bool) -> tuple[list[int], float | None]:
    """Token count of each input (special tokens included) and the share of [UNK] among the others."""
    unk = getattr(tokenizer, "unk_token_id", None)
    special_ids = set(getattr(tokenizer, "all_special_ids", None) or []) - {unk}  # [UNK] is "special" too
    special = np.asarray(sorted(special_ids), dtype=np.int64)
    lengths: list[int] = []
    n_unk = n_plain = 0
    for start in range(0, len(inputs), 512):
        batch = inputs[start : start + 512]
        extra = {"is_split_into_words": True} if split_words else {}
        ids = tokenizer(
            batch,
            add_special_tokens=True,
            truncation=False,
            verbose=False,  # no "longer than the maximum" warning: measuring that is the point
            return_attention_mask=False,
            return_token_type_ids=False,
            **extra,
        )["input_ids"]
        lengths.extend(len(seq) for seq in ids)
        flat = np.fromiter((i for seq in ids for i in seq), dtype=np.int64)
        plain = flat[~np.isin(flat, special)]
        n_plain += plain.size
        if unk is not None:
            n_unk += int((plain == unk).sum())
    return lengths, (n_unk / n_plain if unk is not None and n_plain else None)


def _pct(share: float | None) -> str:
    if share is None:
        return "-"
    return f"{share:.0%}" if share >= 0.1 or share == 0 else f"{share:.1%}"


# ---------------------------------------------------------------- prepare: rows


def _fail(report: ValidationReport, message: str) -> DataError:
    if message not in report.errors:
        report.errors.append(message)
    return DataError(message, report)


def _columns_found(frame: pd.DataFrame) -> str:
    return ", ".join(map(str, frame.columns)) or "(none)"


def _choose_columns(
    loaded: _Loaded, task: str, text_column: str | None, label_column: str | None, report: ValidationReport
) -> tuple[str | None, str | None]:
    frame = loaded.frame
    if frame is None:
        if task == TEXT_TASK:
            raise _fail(
                report,
                f'"{loaded.name}" is a CoNLL file (one word and its tag per line), which is for tagging words, '
                "not for classifying texts. Choose the token task (--task token).",
            )
        return None, None
    proposed = propose_columns(frame, task)
    what = ("the words of each sentence", "the tags") if task == TOKEN_TASK else ("text", "the labels")
    chosen = []
    for given, guess, flag, thing in zip(
        (text_column, label_column), proposed, ("--text-column", "--label-column"), what, strict=True
    ):
        if given is not None and given not in frame.columns:
            raise _fail(
                report,
                f'There is no column "{given}" in "{loaded.name}". Columns found: {_columns_found(frame)}. '
                f"Name one of them with {flag} {_COLUMN_HINT}.",
            )
        column = given if given is not None else guess
        if column is None:
            raise _fail(
                report,
                f"No column looks like {thing}. Columns found: {_columns_found(frame)}. "
                f"Name one with {flag} {_COLUMN_HINT}. The first line of the file must name the columns.",
            )
        chosen.append(column)
    if chosen[0] == chosen[1]:
        raise _fail(
            report,
            f'The text and the labels are both the column "{chosen[0]}". Choose two different columns.',
        )
    return chosen[0], chosen[1]


def _find_split_column(
    frame: pd.DataFrame | None, given: str | None, used: tuple, report: ValidationReport
) -> str | None:
    if frame is None:
        return None
    if given is not None:
        if given not in frame.columns:
            raise _fail(
                report, f'There is no split column "{given}". Columns found: {_columns_found(frame)}.'
            )
        candidates = [given]
    else:
        candidates = [c for c in frame.columns if _norm(c) in SPLIT_NAMES and c not in used]
    for column in candidates:
        unknown = sorted({v for v in _values(frame, column) if v.lower() not in SPLIT_VALUES})
        if not unknown:
            return column
        message = (
            f'The split column "{column}" has values Insight does not know: {", ".join(unknown[:5])}. '
            "Use train, validation (or dev) and test."
        )
        if given is not None:
            raise _fail(report, message)
        report.notes.append(message + " The column was ignored and the rows split at random.")
    return None


def _parse_words(cell: str, name: str, row: int, what: str) -> list[str]:
    words = split_words(cell)
    if words is None:
        raise DataError(
            f'Row {row} of "{name}": the {what} cell starts with "[" but is not a valid JSON list. '
            'Write it like ["John", "lives", "here"], or as words separated by spaces.'
        )
    return words


def _sentence(tok_cell: str, tag_cell: str, name: str, row: int) -> tuple[list[str], list[str], bool]:
    """Words and tags of one table row; Chinese written without spaces is split into characters."""
    tags = _parse_words(tag_cell, name, row, "tags")
    words = _parse_words(tok_cell, name, row, "tokens")
    chars = False
    if len(words) == 1 and len(tags) == len(tok_cell) > 1 and not tok_cell.startswith("["):
        words, chars = list(tok_cell), True
    if len(words) != len(tags):
        raise DataError(
            f'Row {row} of "{name}" has {len(words)} words but {len(tags)} tags (row {row} counts data rows, '
            "not the header). Every word needs exactly one tag: fix that row."
        )
    return words, tags, chars


def _extract(
    loaded: _Loaded, task: str, columns: tuple, split_column: str | None, report: ValidationReport
) -> list[_Example]:
    """The usable examples of one file; empty ones are counted in report.dropped."""
    dropped: Counter[str] = Counter()
    examples: list[_Example] = []
    if loaded.frame is None:  # CoNLL
        report.rows_read += len(loaded.tokens)
        examples = [_Example(tuple(w), tuple(t)) for w, t in zip(loaded.tokens, loaded.tags, strict=True)]
        return examples
    frame = loaded.frame
    report.rows_read += len(frame)
    xs, ys = frame[columns[0]].tolist(), frame[columns[1]].tolist()
    splits = frame[split_column].tolist() if split_column else [None] * len(frame)
    chars = 0
    for row, (x, y, s) in enumerate(zip(xs, ys, splits, strict=True), 1):
        x, y = _cell(x), _cell(y)
        split = SPLIT_VALUES.get(_cell(s).strip().lower()) if split_column else None
        if not x.strip():
            dropped["empty text"] += 1
        elif not y.strip():
            dropped["missing label"] += 1
        elif split_column and split is None:
            dropped["missing split"] += 1
        elif task == TOKEN_TASK:
            words, tags, split_chars = _sentence(x.strip(), y.strip(), loaded.name, row)
            chars += split_chars
            examples.append(_Example(tuple(words), tuple(tags), split))
        else:
            examples.append(_Example(x.strip(), y, split))
    if chars:
        report.notes.append(
            f'{chars} rows of "{loaded.name}" have no spaces between words but one tag per character; '
            "they were split into characters."
        )
    for reason, n in dropped.items():
        report.dropped[reason] = report.dropped.get(reason, 0) + n
    return examples


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _quote(items: Iterable[str]) -> str:
    return ", ".join(f'"{i}"' for i in items)


def _merge_labels(parts: list[list[_Example]], report: ValidationReport) -> None:
    """Labels that differ only by case or surrounding spaces become the most frequent spelling."""
    raw = Counter(ex.y for part in parts for ex in part)
    groups: dict[str, Counter[str]] = {}
    for label, n in raw.items():  # insertion order = first seen, which breaks ties
        groups.setdefault(label.strip().casefold(), Counter())[label.strip()] += n
    mapping = {}
    for label in raw:
        spellings = groups[label.strip().casefold()]
        mapping[label] = max(spellings, key=lambda s, c=spellings: c[s])
    for ex in (ex for part in parts for ex in part):
        ex.y = mapping[ex.y]
    for canonical in dict.fromkeys(mapping.values()):
        variants = sorted(r for r, c in mapping.items() if c == canonical and r != canonical)
        if variants:
            report.merged_labels[canonical] = variants
            report.notes.append(f'Merged {_quote(variants)} into "{canonical}".')


def _normalise_tags(parts: list[list[_Example]], report: ValidationReport) -> None:
    """Detect the tag scheme, rewrite tags as BIO/IOBES and repair invalid I- tags."""
    scheme = detect_tag_scheme(t for part in parts for ex in part for t in ex.y)
    report.tag_scheme = scheme
    if scheme == "unknown":
        report.warnings.append(
            "The tags are numbers, so Insight cannot tell which entity each one means. Replace them with "
            "names like B-PER, I-PER and O to get entity scores."
        )
        return
    for ex in (ex for part in parts for ex in part):
        ex.y, fixed = repair_tags([_canonical_tag(t, scheme) for t in ex.y])
        ex.y = tuple(ex.y)
        report.repaired_tags += fixed
    if scheme == "IO":
        report.notes.append(
            "The tags have no B- prefixes (IO scheme); the first word of each entity was tagged B- (BIO)."
        )
    elif scheme in ("BMES", "BILOU"):
        how = "M- as I-" if scheme == "BMES" else "L- as E- and U- as S-"
        report.notes.append(f"The tags use the {scheme} scheme; they were read as IOBES ({how}).")
    elif report.repaired_tags:
        report.notes.append(
            f"Repaired {_plural(report.repaired_tags, 'tag')}: an I- tag that does not continue an entity of the same "
            "type starts one (it became B-), as the standard scorer reads it."
        )


def _dedupe(examples: list[_Example], report: ValidationReport, token: bool) -> list[_Example]:
    """Drop exact duplicates after the first; count repeated texts and those with conflicting labels."""
    seen: dict[Any, set] = {}
    kept = []
    exact = 0
    for ex in examples:
        labels = seen.setdefault(ex.x, set())
        if labels:
            report.duplicate_texts += 1
        if ex.y in labels:
            exact += 1
            continue
        labels.add(ex.y)
        kept.append(ex)
    conflicts = [x for x, labels in seen.items() if len(labels) > 1]
    report.conflicting_duplicates = len(conflicts)
    unit = "sentences" if token else "texts"
    if exact:
        report.dropped["duplicate row"] = exact
        report.notes.append(
            f"Removed {_plural(exact, 'exact duplicate row')} (same {unit[:-1]} and label) so that no copy ends up "
            "in both training and test."
        )
    if conflicts:
        sample = " ".join(conflicts[0]) if token else conflicts[0]
        example = f'"{sample[:60]}"' if token else f'"{sample[:60]}" ({", ".join(sorted(seen[sample]))})'
        verb = "appears" if len(conflicts) == 1 else "appear"
        report.warnings.append(
            f"{_plural(len(conflicts), unit[:-1])} {verb} more than once with different labels, e.g. {example}. "
            "The model cannot get both right: check their labels."
        )
    return kept


# ---------------------------------------------------------------- prepare: splits


def _holdout_size(n: int, fraction: float) -> int:
    return 0 if fraction <= 0 else max(1, round(n * fraction))


def _strata(labels: np.ndarray) -> np.ndarray:
    """Labels to stratify on: a label with a single row joins the most common label's stratum."""
    counts = Counter(labels.tolist())
    common = counts.most_common(1)[0][0]
    return np.asarray([lab if counts[lab] >= 2 else common for lab in labels.tolist()], dtype=object)


def _split_two(indices: np.ndarray, size: int, strata: np.ndarray | None, seed: int) -> tuple[Any, Any, bool]:
    """(kept, held out, stratified?) with sklearn; unstratified when the classes are too small."""
    from sklearn.model_selection import train_test_split

    if strata is not None:
        try:
            kept, held = train_test_split(
                indices, test_size=size, random_state=seed, stratify=_strata(strata)
            )
            return kept, held, True
        except ValueError:
            pass
    kept, held = train_test_split(indices, test_size=size, random_state=seed)
    return kept, held, strata is None


def _random_split(
    labels: list | None, val_fraction: float, test_fraction: float, seed: int, report: ValidationReport
) -> tuple[list[int], list[int], list[int]]:
    """Stratified (text task) 3-way split of row indices; each class keeps 2+ rows in training."""
    n = len(labels)
    n_val, n_test = _holdout_size(n, val_fraction), _holdout_size(n, test_fraction)
    if n_val + n_test == 0:
        return list(range(n)), [], []
    if n < MIN_ROWS_TO_SPLIT or n - n_val - n_test < MIN_TRAIN_EXAMPLES:
        raise _fail(
            report,
            f"Only {n} usable rows: too few to set some aside for validation and testing (at least "
            f"{MIN_ROWS_TO_SPLIT} are needed). Add more rows, or give a separate evaluation file with --eval-file.",
        )
    y = np.asarray(labels, dtype=object) if report.task == TEXT_TASK else None
    counts = Counter(labels) if y is not None else Counter()
    forced = np.asarray([counts[lab] < 3 for lab in labels]) if y is not None else np.zeros(n, bool)
    if (~forced).sum() <= n_val + n_test:  # nearly every label is tiny: split everything at random
        forced[:] = False
    pool = np.flatnonzero(~forced)
    strata = None if y is None else y[pool]
    train, held, stratified = _split_two(pool, n_val + n_test, strata, seed)
    if n_val and n_test:
        val, test, second = _split_two(held, n_test, None if y is None else y[held], seed)
        stratified = stratified and second
    else:
        val, test = (held, np.asarray([], int)) if n_val else (np.asarray([], int), held)
    train = np.concatenate([np.flatnonzero(forced), train]).astype(int)
    if forced.any():
        tiny = sorted({labels[i] for i in np.flatnonzero(forced)})
        report.notes.append(f"Labels with fewer than 3 rows are kept in training only: {_quote(tiny[:10])}.")
    if y is not None and not stratified:
        report.notes.append("Too few rows per label to keep the label shares equal in every split.")
    if y is not None:
        train, val, test = _keep_two_in_train(list(train), list(val), list(test), labels)
    return sorted(map(int, train)), sorted(map(int, val)), sorted(map(int, test))


def _keep_two_in_train(train: list, val: list, test: list, labels: list) -> tuple[list, list, list]:
    """Move rows of a class back from test (then validation) until it has 2 training rows."""
    in_train = Counter(labels[i] for i in train)
    for donor in (test, val):
        for i in list(donor):
            if in_train[labels[i]] < MIN_TRAIN_EXAMPLES:
                donor.remove(i)
                train.append(i)
                in_train[labels[i]] += 1
    return train, val, test


def _check_fractions(val_fraction: float, test_fraction: float) -> None:
    if not (0 <= val_fraction < 1 and 0 <= test_fraction < 1 and val_fraction + test_fraction < 1):
        raise DataError(
            f"The validation and test shares must be between 0 and 1 and add up to less than 1 "
            f"(got {val_fraction} and {test_fraction})."
        )


def _make_splits(
    examples: list[_Example],
    others: dict[str, list[_Example]],
    split_column: str | None,
    fractions: tuple[float, float],
    seed: int,
    report: ValidationReport,
) -> tuple[list[_Example], list[_Example], list[_Example]]:
    def pick(idx: list[int]) -> list[_Example]:
        return [examples[i] for i in idx]

    def random(val_fraction: float, test_fraction: float) -> tuple[list, list, list]:
        labels = [ex.y for ex in examples]
        return tuple(map(pick, _random_split(labels, val_fraction, test_fraction, seed, report)))

    if "validation" in others and "test" in others:
        return examples, others["validation"], others["test"]
    if "validation" in others:
        report.notes.append(
            "The evaluation file is used for both validation and test; all rows of the main file train."
        )
        return examples, others["validation"], others["validation"]
    if "test" in others:
        train, val, _ = random(fractions[0], 0.0)
        return train, val, others["test"]
    if split_column:
        groups = {s: [ex for ex in examples if ex.split == s] for s in ("train", "validation", "test")}
        if not groups["train"]:
            raise _fail(
                report,
                f'The split column "{split_column}" marks no row as train. Mark the training rows "train".',
            )
        if not groups["validation"] and not groups["test"]:
            report.notes.append(
                f'The split column "{split_column}" marks every row as train; they were split at random.'
            )
            examples = groups["train"]
            return random(*fractions)
        val = groups["validation"] or groups["test"]
        test = groups["test"] or groups["validation"]
        if not groups["validation"] or not groups["test"]:
            report.notes.append(
                "The split column has only one evaluation split; it is used for both validation and test."
            )
        report.notes.append(f'Used the split column "{split_column}".')
        return groups["train"], val, test
    return random(*fractions)


# ---------------------------------------------------------------- prepare: checks


def _classes(task: str, examples: list[_Example]) -> Counter[str]:
    if task == TOKEN_TASK:
        return Counter(entity_counts(ex.y for ex in examples))
    return Counter(ex.y for ex in examples)


def _check_training_classes(
    task: str, train: list[_Example], read_only: bool, report: ValidationReport
) -> None:
    counts = _classes(task, train)
    if task == TOKEN_TASK:
        if not counts and report.tag_scheme != "unknown":
            message = (
                "Every word is tagged O, so there are no entities to learn. Tag the entities (like B-PER, I-PER), "
                "or check that --label-column names the tag column."
            )
            if not read_only:
                raise _fail(report, message)
            report.warnings.append(message)
    else:
        if len(counts) == 1:
            raise _fail(
                report,
                f'Every training row has the same label ("{next(iter(counts))}"). A classifier needs at least two '
                "different labels: add examples of another label, or check that --label-column names the label "
                "column.",
            )
        rare = [lab for lab, n in counts.most_common()[::-1] if n < MIN_TRAIN_EXAMPLES]
        if rare:
            listed = ", ".join(f'"{lab}"' for lab in rare[:5]) + (
                f" and {len(rare) - 5} more" if len(rare) > 5 else ""
            )
            report.rare_labels = list(rare)
            raise _fail(
                report,
                f"These labels have fewer than {MIN_TRAIN_EXAMPLES} examples in the training data: {listed}. "
                "Every label needs at least 2 (10 or more works better): add examples, or remove those rows. "
                "If that column is not the label, name the right one with --label-column.",
            )
    few = [f'"{lab}" ({n})' for lab, n in sorted(counts.items()) if n < FEW_EXAMPLES]
    if few:
        unit = "entities" if task == TOKEN_TASK else "examples"
        report.warnings.append(
            f"Few training {unit} for: {', '.join(few[:10])}. The model will be unreliable on these; "
            f"aim for at least {FEW_EXAMPLES} each."
        )
    if len(counts) >= 2:
        (big, n_big), (small, n_small) = counts.most_common()[0], counts.most_common()[-1]
        report.imbalance_ratio = round(n_big / n_small, 2)
        if report.imbalance_ratio > IMBALANCE_WARNING:
            report.warnings.append(
                f'The labels are unbalanced: "{big}" has {n_big} training examples and "{small}" only {n_small} '
                f"({report.imbalance_ratio:.0f} to 1). Add examples of the rare labels, or turn on class weights "
                "(--class-weights)."
            )


def _label_names(task: str, train: list[_Example], scheme: str | None) -> list[str]:
    if task == TEXT_TASK:
        names = {ex.y for ex in train}
        return sorted(names, key=int) if all(re.fullmatch(r"-?\d+", n) for n in names) else sorted(names)
    tags = {t for ex in train for t in ex.y}
    if scheme == "unknown":
        return sorted(tags, key=lambda t: (t != "O", int(t) if t.isdigit() else 0, t))
    prefixes = ("B", "I", "E", "S") if scheme in ("IOBES", "BMES", "BILOU") else ("B", "I")
    kinds = sorted({m.group(2) for t in tags if (m := _PREFIX_RE.match(t))})
    return ["O"] + [f"{p}-{k}" for k in kinds for p in prefixes]


def _drop_unseen(
    task: str, labels: list[str], part: list[_Example], report: ValidationReport
) -> tuple[list[_Example], list[str]]:
    known = set(labels)
    kept, unseen = [], set()
    for ex in part:
        missing = set(ex.y) - known if task == TOKEN_TASK else ({ex.y} - known)
        if missing:
            unseen |= missing
        else:
            kept.append(ex)
    if len(part) > len(kept):
        report.dropped["label not in training data"] = (
            report.dropped.get("label not in training data", 0) + len(part) - len(kept)
        )
    return kept, sorted(unseen)


def _unseen(
    task: str, labels: list[str], val: list, test: list, report: ValidationReport
) -> tuple[list, list]:
    """Drop validation/test rows whose label the model cannot predict (not in training)."""
    same = val is test
    val, unseen_val = _drop_unseen(task, labels, val, report)
    test, unseen_test = (val, unseen_val) if same else _drop_unseen(task, labels, test, report)
    for name, unseen in (("validation", unseen_val), ("test", unseen_test)):
        if unseen:
            report.unseen_labels[name] = unseen
    if report.unseen_labels:
        names = sorted({u for v in report.unseen_labels.values() for u in v})
        report.warnings.append(
            f"Some validation or test rows have labels that are not in the training data ({_quote(names[:10])}); "
            f"they were left out ({_plural(report.dropped['label not in training data'], 'row')}), because the model "
            "cannot predict a label it never saw."
        )
    return val, test


def _overlap_warning(train: list[_Example], val: list, test: list, report: ValidationReport) -> None:
    seen = {ex.x for ex in train}
    held = {id(ex): ex for ex in val + test}.values()
    overlap = sum(1 for ex in held if ex.x in seen)
    if overlap:
        report.warnings.append(
            f"{overlap} validation/test rows also appear in the training data; scores on them overstate how "
            "well the model does on new text."
        )


def _measure(
    report: ValidationReport,
    tokenizer: Any,
    examples: list[_Example],
    task: str,
    max_length: int | None,
    model_max_length: int,
) -> None:
    """Token lengths, the max length, the share cut, and the share of unknown tokens."""
    cap = model_max_length
    tok_max = getattr(tokenizer, "model_max_length", None)
    if isinstance(tok_max, int) and 0 < tok_max < 100_000:
        cap = min(cap, tok_max)
    token = task == TOKEN_TASK
    inputs = [list(ex.x) for ex in examples] if token else [ex.x for ex in examples]
    lengths, report.unk_share = _token_stats(tokenizer, inputs, token)
    report.max_length = min(max_length, cap) if max_length else choose_max_length(lengths, cap)
    longer = sum(1 for n in lengths if n > report.max_length)
    report.truncated_share = longer / len(lengths) if lengths else 0.0
    if report.truncated_share > TRUNCATION_WARNING:
        verb = "is" if longer == 1 else "are"
        if token:
            report.notes.append(
                f"{_plural(longer, 'sentence')} ({_pct(report.truncated_share)}) {verb} longer than "
                f"{report.max_length} tokens; they are read in overlapping windows."
            )
        else:
            report.warnings.append(
                f"{_plural(longer, 'text')} ({_pct(report.truncated_share)}) {verb} longer than "
                f"{report.max_length} tokens and will be cut. Raise the max length if the end of a text matters."
            )
    if report.unk_share is not None and report.unk_share > UNK_WARNING:
        report.warnings.append(
            f"{_pct(report.unk_share)} of the words are unknown to this model's vocabulary (is the text in a "
            "language the model does not read? The default model is English-only; choose a multilingual or "
            "Chinese backbone)."
        )


def _to_split(task: str, part: list[_Example]) -> Split:
    if task == TOKEN_TASK:
        tokens = [list(ex.x) for ex in part]
        return Split([" ".join(t) for t in tokens], [list(ex.y) for ex in part], tokens)
    return Split([ex.x for ex in part], [ex.y for ex in part])


def _count_report(report: ValidationReport, task: str, splits: dict[str, list[_Example]]) -> None:
    unique = list({id(ex): ex for part in splits.values() for ex in part}.values())
    report.rows_used = len(unique)
    report.split_sizes = {name: len(part) for name, part in splits.items()}
    if task == TOKEN_TASK:
        report.label_counts = dict(Counter(t for ex in unique for t in ex.y).most_common())
        report.entity_counts = entity_counts(ex.y for ex in unique)
        report.split_counts = {name: entity_counts(ex.y for ex in part) for name, part in splits.items()}
    else:
        report.label_counts = dict(Counter(ex.y for ex in unique).most_common())
        report.split_counts = {
            name: dict(Counter(ex.y for ex in part).most_common()) for name, part in splits.items()
        }


# ---------------------------------------------------------------- prepare


def _read_other(source: Source, task: str, columns: tuple, report: ValidationReport) -> list[_Example]:
    """An evaluation or test file, read with the main file's columns (or its own proposal)."""
    loaded = _read(source)
    if loaded.frame is not None and not all(c in loaded.frame.columns for c in columns):
        guess = propose_columns(loaded.frame, task)
        missing = next(c for c in columns if c not in loaded.frame.columns)
        if None in guess or guess[0] == guess[1]:
            raise _fail(
                report,
                f'"{loaded.name}" has no column "{missing}". Columns found: {_columns_found(loaded.frame)}. '
                "Use the same column names as in the training file.",
            )
        columns = guess
    if loaded.frame is None and task == TEXT_TASK:
        _choose_columns(loaded, task, None, None, report)
    return _extract(loaded, task, columns, None, report)


def prepare(
    data: Source,
    *,
    eval_data: Source | None = None,
    test_data: Source | None = None,
    text_column: str | None = None,
    label_column: str | None = None,
    split_column: str | None = None,
    task: str | None = None,
    tokenizer: Any = None,
    max_length: int | None = None,
    model_max_length: int = 512,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
    seed: int = 42,
) -> PreparedData:
    """Read, clean, check and split the data; raises DataError (with `.report`) when it is unusable."""
    _check_fractions(val_fraction, test_fraction)
    main = _read(data)
    task = _task_name(task) or (TOKEN_TASK if main.frame is None else propose_task(main.frame))
    report = ValidationReport(task=task)
    columns = _choose_columns(main, task, text_column, label_column, report)
    has_files = eval_data is not None or test_data is not None
    split_col = None if has_files else _find_split_column(main.frame, split_column, columns, report)
    if has_files and split_column:
        report.notes.append(f'The split column "{split_column}" was ignored: evaluation files were given.')
    try:
        examples = _extract(main, task, columns, split_col, report)
        others = {}
        if eval_data is not None:
            others["validation"] = _read_other(eval_data, task, columns, report)
        if test_data is not None:
            others["test"] = _read_other(test_data, task, columns, report)
    except DataError as exc:
        raise _fail(report, str(exc)) from None
    token = task == TOKEN_TASK
    parts = [examples, *others.values()]
    if token:
        _normalise_tags(parts, report)
    else:
        _merge_labels(parts, report)
    examples = _dedupe(examples, report, token)
    if not examples:
        reasons = ", ".join(f"{k}: {v}" for k, v in report.dropped.items()) or "the file has no data rows"
        raise _fail(
            report,
            f'No usable rows in "{main.name}" ({reasons}). Check that --text-column and --label-column '
            f"name the right columns {_COLUMN_HINT}.",
        )
    if not token and len({ex.y for ex in examples}) == 1:
        _check_training_classes(task, examples, False, report)
    train, val, test = _make_splits(examples, others, split_col, (val_fraction, test_fraction), seed, report)
    read_only = not has_files and split_col is None and val_fraction == 0 and test_fraction == 0
    _check_training_classes(task, train, read_only, report)
    labels = _label_names(task, train, report.tag_scheme)
    val, test = _unseen(task, labels, val, test, report)
    if has_files or split_col:
        _overlap_warning(train, val, test, report)
    _count_report(report, task, {"train": train, "validation": val, "test": test})
    if tokenizer is not None:
        used = list({id(ex): ex for ex in train + val + test}.values())
        _measure(report, tokenizer, used, task, max_length, model_max_length)
    else:
        report.max_length = max_length
    validation = _to_split(task, val)
    return PreparedData(
        task=task,
        labels=labels,
        train=_to_split(task, train),
        validation=validation,
        test=validation if test is val else _to_split(task, test),
        report=report,
        text_column=columns[0],
        label_column=columns[1],
    )
