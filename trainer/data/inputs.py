"""New text to predict, explain or score: every row of a file kept in order, gold labels when it has them.

Unlike `prepare`, nothing is dropped or deduplicated (except rows without text) and no label is needed.
"""

from __future__ import annotations

from collections.abc import Sequence

from trainer.data.columns import columns_found, propose_text_columns, propose_token_columns
from trainer.data.errors import DataError, Message
from trainer.data.readers import CONLL_EXTENSIONS, Source, read_conll_words, read_table
from trainer.data.word_rule import sentence_words
from trainer.i18n import N_, tr


def _column(frame, given: str | None, proposed: str | None, what: str) -> str:
    """The column to read; `what` ("text", "words": one of trainer.data.columns.THINGS) is what it holds."""
    column = given or proposed
    if column not in frame.columns:
        raise DataError(
            Message(
                N_("No column looks like {what}. Columns found: {found}. Name one with {text_column}."),
                what=tr(what),
                found=columns_found(frame),
            )
        )
    return column


def read_texts(source: Source, column: str | None, labels: Sequence[str]) -> tuple[list[str], list | None]:
    """The non-empty texts of a table, in order, and their gold labels when a label column fits `labels`."""
    frame = read_table(source)
    proposed_text, proposed_label = propose_text_columns(frame)
    column = _column(frame, column, proposed_text, "text")
    keep = frame[column].astype(str).str.strip() != ""
    texts = frame.loc[keep, column].astype(str).tolist()
    if not texts:
        raise DataError(tr("The column {column} has no text in it.", column=column))
    gold = None
    if proposed_label in frame.columns and proposed_label != column:
        values = frame.loc[keep, proposed_label].astype(str).str.strip().tolist()
        if set(values) <= set(labels):
            gold = values
    return texts, gold


def read_sentences(
    source: Source, column: str | None, labels: Sequence[str]
) -> tuple[list[list[str]], list | None]:
    """Every non-empty sentence of a CoNLL/CSV/JSONL file, in order, and its tags when they fit `labels`.

    A CoNLL file without tags (one word per line) is new text to tag.
    """
    try:
        frame = read_table(source)
    except DataError:
        name = source[0] if isinstance(source, tuple) else str(source)
        if not name.lower().endswith(CONLL_EXTENSIONS):
            raise
        return read_conll_words(source), None
    tokens_column, tags_column, _ = propose_token_columns(frame)
    column = _column(frame, column, tokens_column, "words")
    rows = [(i, sentence_words(str(cell))) for i, cell in enumerate(frame[column])]
    rows = [(i, words) for i, words in rows if words]
    if not rows:
        raise DataError(tr("The column {column} has no words in it.", column=column))
    sentences = [words for _, words in rows]
    gold = None
    if tags_column in frame.columns and tags_column != column:
        tags = [sentence_words(str(frame[tags_column].iloc[i])) for i, _ in rows]
        fits = all(len(t) == len(w) for t, w in zip(tags, sentences, strict=True))
        if fits and {t for sentence in tags for t in sentence} <= set(labels):
            gold = tags
    return sentences, gold
