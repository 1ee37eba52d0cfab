"""Rows into examples: the cells of each row (or CoNLL sentence) as an example, label spellings merged,
exact duplicates dropped.

Decisions a caller relies on:
- Labels that differ only by case or surrounding spaces are merged into the most frequent spelling.
- Exact duplicate rows (same text and label) of the main file are dropped after the first, so a copy
  cannot sit in both training and test; duplicates with different labels are kept and warned about.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from trainer import i18n
from trainer.data.columns import SPLIT_VALUES
from trainer.data.errors import DataError
from trainer.data.readers import Loaded
from trainer.data.report import ValidationReport, quote
from trainer.data.word_rule import cell_text, split_words
from trainer.i18n import N_, tr, trn

# (text cell, label cell, file name, row number) -> (x, y, split into characters?)
RowParser = Callable[[str, str, str, int], tuple[Any, Any, bool]]

# Why a row was dropped (the keys of report.dropped; shown translated).
EMPTY_TEXT, MISSING_LABEL, MISSING_SPLIT = N_("empty text"), N_("missing label"), N_("missing split")
DUPLICATE_ROW = N_("duplicate row")
# A cell that should hold a list of words (tags) but is broken JSON, by what it holds.
NOT_A_LIST = {
    "tags": N_(
        'Row {row} of "{name}": the tags cell starts with "[" but is not a valid JSON list. '
        "Write it like {example}, or as words separated by spaces."
    ),
    "tokens": N_(
        'Row {row} of "{name}": the tokens cell starts with "[" but is not a valid JSON list. '
        "Write it like {example}, or as words separated by spaces."
    ),
}


@dataclass
class Example:
    x: Any  # text (str) or words (tuple[str, ...])
    y: Any  # label (str) or tags (tuple[str, ...])
    split: str | None = None
    row: int | None = None  # position in its file: 0-based data row (header excluded) or CoNLL sentence


def text_row(x: str, y: str, name: str, row: int) -> tuple[str, str, bool]:
    """A text classification row: the text (trimmed) and its label."""
    return x.strip(), y, False


def _parse_words(cell: str, name: str, row: int, what: str) -> list[str]:
    words = split_words(cell)
    if words is None:
        raise DataError(tr(NOT_A_LIST[what], row=row, name=name, example='["John", "lives", "here"]'))
    return words


def sentence_row(tok_cell: str, tag_cell: str, name: str, row: int) -> tuple[tuple, tuple, bool]:
    """Words and tags of one table row; Chinese written without spaces is split into characters."""
    tok_cell, tag_cell = tok_cell.strip(), tag_cell.strip()
    tags = _parse_words(tag_cell, name, row, "tags")
    words = _parse_words(tok_cell, name, row, "tokens")
    chars = False
    if len(words) == 1 and len(tags) == len(tok_cell) > 1 and not tok_cell.startswith("["):
        words, chars = list(tok_cell), True
    if len(words) != len(tags):
        raise DataError(
            tr(
                'Row {row} of "{name}" has {words} words but {tags} tags (row {row} counts data rows, '
                "not the header). Every word needs exactly one tag: fix that row.",
                row=row,
                name=name,
                words=len(words),
                tags=len(tags),
            )
        )
    return tuple(words), tuple(tags), chars


def extract(
    loaded: Loaded, parse: RowParser, columns: tuple, split_column: str | None, report: ValidationReport
) -> list[Example]:
    """The usable examples of one file; empty ones are counted in report.dropped."""
    dropped: Counter[str] = Counter()
    examples: list[Example] = []
    if loaded.frame is None:  # CoNLL
        report.rows_read += len(loaded.tokens)
        pairs = zip(loaded.tokens, loaded.tags, strict=True)
        return [Example(tuple(w), tuple(t), row=i) for i, (w, t) in enumerate(pairs)]
    frame = loaded.frame
    report.rows_read += len(frame)
    xs, ys = frame[columns[0]].tolist(), frame[columns[1]].tolist()
    splits = frame[split_column].tolist() if split_column else [None] * len(frame)
    chars = 0
    for row, (x, y, s) in enumerate(zip(xs, ys, splits, strict=True), 1):
        x, y = cell_text(x), cell_text(y)
        split = SPLIT_VALUES.get(cell_text(s).strip().lower()) if split_column else None
        if not x.strip():
            dropped[EMPTY_TEXT] += 1
        elif not y.strip():
            dropped[MISSING_LABEL] += 1
        elif split_column and split is None:
            dropped[MISSING_SPLIT] += 1
        else:
            ex, ey, split_chars = parse(x, y, loaded.name, row)
            chars += split_chars
            examples.append(Example(ex, ey, split, row - 1))
    if chars:
        report.notes.append(
            tr(
                '{n} rows of "{name}" have no spaces between words but one tag per character; '
                "they were split into characters.",
                n=chars,
                name=loaded.name,
            )
        )
    for reason, n in dropped.items():
        report.dropped[reason] = report.dropped.get(reason, 0) + n
    return examples


def invisible_free(text: str) -> str:
    """`text` without invisible format characters (zero-width spaces and joiners, bidirectional controls)."""
    return "".join(c for c in text if unicodedata.category(c) != "Cf")


def shown(text: str) -> str:
    """`text` with each invisible format character written out as <U+200B>, so a message can say where it is."""
    return "".join(f"<U+{ord(c):04X}>" if unicodedata.category(c) == "Cf" else c for c in text)


def merge_labels(parts: list[list[Example]], report: ValidationReport) -> None:
    """Labels that differ only by case, surrounding spaces or invisible characters (zero-width, bidi
    controls) become the most frequent visible spelling."""
    raw = Counter(ex.y for part in parts for ex in part)
    groups: dict[str, Counter[str]] = {}
    for label, n in raw.items():  # insertion order = first seen, which breaks ties
        visible = invisible_free(label).strip()
        groups.setdefault(visible.casefold(), Counter())[visible] += n
    mapping = {}
    for label in raw:
        spellings = groups[invisible_free(label).strip().casefold()]
        mapping[label] = max(spellings, key=lambda s, c=spellings: c[s])
    for ex in (ex for part in parts for ex in part):
        ex.y = mapping[ex.y]
    merged: dict[str, list[str]] = {}  # canonical -> the spellings merged into it, in one pass
    for label, canonical in mapping.items():
        if label != canonical:
            merged.setdefault(canonical, []).append(label)
    for canonical in dict.fromkeys(mapping.values()):
        if canonical in merged:
            variants = sorted(merged[canonical])
            report.merged_labels[canonical] = variants
            report.notes.append(
                tr(
                    'Merged {variants} into "{label}".',
                    variants=quote([shown(v) for v in variants]),
                    label=canonical,
                )
            )


def _few(values: list[str], shown: int = 5, width: int = 40) -> str:
    """At most `shown` values, each cut to `width` characters, then how many more: never a wall of text."""
    listed = ", ".join(v if len(v) <= width else v[: width - 1] + "…" for v in values[:shown])
    more = len(values) - shown
    return tr("{listed} and {n} more", listed=listed, n=i18n.number(more)) if more > 0 else listed


def _say_duplicates(report: ValidationReport, exact: int, conflicts: list, seen: dict[Any, set]) -> None:
    """The note on exact duplicates removed and the warning on texts (sentences) with conflicting labels."""
    token = any(isinstance(x, tuple) for x in seen)  # word lists: sentences
    if exact:
        report.dropped[DUPLICATE_ROW] = exact
        if token:
            removed = trn(
                "Removed {n} exact duplicate row (same sentence and label) so that no copy ends up in both "
                "training and test.",
                "Removed {n} exact duplicate rows (same sentence and label) so that no copy ends up in both "
                "training and test.",
                exact,
            )
        else:
            removed = trn(
                "Removed {n} exact duplicate row (same text and label) so that no copy ends up in both "
                "training and test.",
                "Removed {n} exact duplicate rows (same text and label) so that no copy ends up in both "
                "training and test.",
                exact,
            )
        report.notes.append(removed)
    if conflicts:
        if token:
            report.warnings.append(
                trn(
                    '{n} sentence appears more than once with different labels, e.g. "{sample}". '
                    "The model cannot get both right: check their labels.",
                    '{n} sentences appear more than once with different labels, e.g. "{sample}". '
                    "The model cannot get both right: check their labels.",
                    len(conflicts),
                    sample=" ".join(conflicts[0])[:60],
                )
            )
        else:
            report.warnings.append(
                trn(
                    '{n} text appears more than once with different labels, e.g. "{sample}" ({labels}). '
                    "The model cannot get both right: check their labels.",
                    '{n} texts appear more than once with different labels, e.g. "{sample}" ({labels}). '
                    "The model cannot get both right: check their labels.",
                    len(conflicts),
                    sample=conflicts[0][:60],
                    labels=_few(sorted(seen[conflicts[0]])),
                )
            )


def dedupe(examples: list[Example], report: ValidationReport) -> list[Example]:
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
    _say_duplicates(report, exact, conflicts, seen)
    return kept
