"""Columns: which column holds the text (or words) and which the label (or tags), and the split column.

Proposals come from the column names first (English and Chinese), then from the contents: the
longest non-numeric column is the text, the one with few distinct values the label; a column whose
cells are tag sequences matching another column's word counts makes a token table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from trainer.data.errors import Message, fail
from trainer.data.readers import TAG_RE
from trainer.data.word_rule import cell_text, split_words
from trainer.i18n import N_, tr

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
# What a column holds, as messages say it (the task adapters' `column_things`, and trainer.data.inputs').
THINGS = (N_("text"), N_("the labels"), N_("the words of each sentence"), N_("the tags"), N_("words"))
# The messages for a missing column, by the setting that names it.
NO_SUCH_COLUMN = {
    "text_column": N_(
        'There is no column "{given}" in "{name}". Columns found: {found}. Name one of them with {text_column}.'
    ),
    "label_column": N_(
        'There is no column "{given}" in "{name}". Columns found: {found}. Name one of them with {label_column}.'
    ),
}
NO_COLUMN_LIKE = {
    "text_column": N_(
        "No column looks like {thing}. Columns found: {found}. Name one with {text_column}. "
        "The first line of the file must name the columns."
    ),
    "label_column": N_(
        "No column looks like {thing}. Columns found: {found}. Name one with {label_column}. "
        "The first line of the file must name the columns."
    ),
}


def _norm(column: Any) -> str:
    return str(column).strip().lower().replace(" ", "_").replace("-", "_")


def _by_name(columns: Sequence[str], names: Sequence[str]) -> str | None:
    normalised = {_norm(c): c for c in reversed(list(columns))}
    return next((normalised[n] for n in names if n in normalised), None)


def cell_values(df: pd.DataFrame, column: str, limit: int | None = None) -> list[str]:
    cells = df[column].tolist()[:limit] if limit else df[column].tolist()
    return [s for c in cells if (s := cell_text(c).strip())]


def _is_number(value: str) -> bool:
    try:
        float(value)
        return True
    except ValueError:
        return False


def _longest_text_column(df: pd.DataFrame, columns: Sequence[str]) -> str | None:
    best, best_len = None, 0.0
    for column in columns:
        values = cell_values(df, column, 1000)
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
        values = cell_values(df, column)
        distinct = len(set(values))
        if values and distinct <= max(2, 0.5 * len(df)):
            candidates.append((distinct < 2, distinct, i, column))
    return min(candidates)[3] if candidates else None


def likely_label_column(df: pd.DataFrame, used: Sequence[str]) -> tuple[str, int] | None:
    """The column other than the label column of `used` (text, label) that looks like a label (few distinct
    values; the text column too, when the two look swapped), and its number of distinct values."""
    others = [c for c in df.columns if c != used[1] and _norm(c) not in SPLIT_NAMES]
    column = _label_like_column(df, others)
    return None if column is None else (column, len(set(cell_values(df, column))))


def _tag_like(df: pd.DataFrame, column: str) -> bool:
    cells = cell_values(df, column, 200)
    good = sum(1 for c in cells if (words := split_words(c)) and all(TAG_RE.match(w) for w in words))
    return bool(cells) and good >= 0.9 * len(cells)


def _counts_match(df: pd.DataFrame, tokens: str, tags: str) -> bool:
    pairs = [
        (cell_text(a).strip(), cell_text(b).strip())
        for a, b in zip(df[tokens][:200], df[tags][:200], strict=True)
    ]
    pairs = [(a, b) for a, b in pairs if a and b]
    good = 0
    for a, b in pairs:
        words, labels = split_words(a), split_words(b)
        if words is not None and labels is not None and len(labels) in (len(words), len(a)):
            good += 1
    multiword = any(len(split_words(b) or []) > 1 for _, b in pairs)  # not a word -> label lexicon
    return bool(pairs) and multiword and good >= 0.9 * len(pairs)


def propose_token_columns(df: pd.DataFrame) -> tuple[str | None, str | None, bool]:
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


def propose_text_columns(df: pd.DataFrame) -> tuple[str | None, str | None]:
    columns = [c for c in df.columns if _norm(c) not in SPLIT_NAMES]
    text = _by_name(columns, TEXT_NAMES)
    label = _by_name([c for c in columns if c != text], LABEL_NAMES)
    if text is None:
        text = _longest_text_column(df, [c for c in columns if c != label])
    if label is None:
        label = _label_like_column(df, [c for c in columns if c != text])
    return text, label


def is_token_table(df: pd.DataFrame) -> bool:
    """Whether the table surely holds words and one tag per word (a token classification table)."""
    return propose_token_columns(df)[2]


def columns_found(frame: pd.DataFrame) -> str:
    return ", ".join(map(str, frame.columns)) or tr("(none)")


def choose_columns(
    frame: pd.DataFrame,
    name: str,
    given: tuple[str | None, str | None],
    proposed: tuple[str | None, str | None],
    what: tuple[str, str],
    report: Any,
) -> tuple[str, str]:
    """The (text, label) columns: the user's when they exist, else the proposal; DataError otherwise.

    `what` says what each column holds, for the messages ("text", "the labels": one of THINGS, translated).
    """
    chosen = []
    for choice, guess, setting, thing in zip(
        given, proposed, ("text_column", "label_column"), what, strict=True
    ):
        if choice is not None and choice not in frame.columns:
            raise fail(
                report,
                Message(
                    NO_SUCH_COLUMN[setting],
                    given=choice,
                    name=name,
                    found=columns_found(frame),
                ),
            )
        column = choice if choice is not None else guess
        if column is None:
            raise fail(
                report,
                Message(
                    NO_COLUMN_LIKE[setting],
                    thing=tr(thing),
                    found=columns_found(frame),
                ),
            )
        chosen.append(column)
    if chosen[0] == chosen[1]:
        raise fail(
            report,
            tr(
                'The text and the labels are both the column "{column}". Choose two different columns.',
                column=chosen[0],
            ),
        )
    return chosen[0], chosen[1]


def find_split_column(frame: pd.DataFrame | None, given: str | None, used: tuple, report: Any) -> str | None:
    """The column that assigns rows to train/validation/test, if there is a usable one."""
    if frame is None:
        return None
    if given is not None:
        if given not in frame.columns:
            raise fail(
                report,
                tr(
                    'There is no split column "{given}". Columns found: {found}.',
                    given=given,
                    found=columns_found(frame),
                ),
            )
        candidates = [given]
    else:
        candidates = [c for c in frame.columns if _norm(c) in SPLIT_NAMES and c not in used]
    for column in candidates:
        unknown = sorted({v for v in cell_values(frame, column) if v.lower() not in SPLIT_VALUES})
        if not unknown:
            return column
        values = ", ".join(unknown[:5])
        if given is not None:
            raise fail(
                report,
                tr(
                    'The split column "{column}" has values Insight does not know: {values}. '
                    "Use train, validation (or dev) and test.",
                    column=column,
                    values=values,
                ),
            )
        report.notes.append(
            tr(
                'The split column "{column}" has values Insight does not know: {values}. '
                "Use train, validation (or dev) and test. The column was ignored and the rows split at random.",
                column=column,
                values=values,
            )
        )
    return None
