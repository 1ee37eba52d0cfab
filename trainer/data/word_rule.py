"""What a word is: the one rule for splitting text into words, and its inverse.

Two shapes of input reach Insight:

* running text (text task): words are maximal runs of non-whitespace, split further so that every
  punctuation character (BERT's rule: ASCII non-alphanumeric symbols and Unicode category P*) is its
  own word, except an apostrophe between two letters or digits ("doesn't", "it’s" stay one word, as a
  reader sees them; the model's pieces doesn / ' / t are summed into it), and every run of CJK ideographs is cut into words by jieba's dictionary (这个 / 产品 / 很 /
  好); letters, digits, accents, emoji and other symbols stay in their run ("great😍" is one word, and
  "iPhone很好" is iPhone / 很 / 好). `word_spans` gives their (start, end) character spans. A model
  reads Chinese a character at a time; the word scores are the sums over the characters of each word.
* a sentence of pre-split words (token task): a cell is a JSON list or words separated by spaces
  (`split_words`); typed text is split the same way, and Chinese written without spaces becomes one
  word per character (`sentence_words`). `join_words` puts words back together for display.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import unicodedata
from collections.abc import Sequence
from typing import Any

_CJK_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)


def is_punctuation(ch: str) -> bool:
    """BERT's punctuation: ASCII non-alphanumeric symbols and Unicode category P*."""
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


APOSTROPHES = frozenset("'\u2019")  # ' and ’: inside a word ("doesn't") they are part of it


def is_cjk(ch: str) -> bool:
    """A Chinese/Japanese/Korean ideograph or syllable: a word on its own."""
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _CJK_RANGES)


@functools.cache
def _segmenter() -> Any:
    """jieba's tokenizer with its shipped dictionary, loaded once (about a second), quietly."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


@functools.lru_cache(maxsize=65536)
def chinese_words(run: str) -> tuple[tuple[int, int], ...]:
    """(start, end) of each word of a run of CJK characters, by jieba (HMM on for words it does not list)."""
    if len(run) == 1:
        return ((0, 1),)
    return tuple((start, end) for _, start, end in _segmenter().tokenize(run, HMM=True))


def _joins(ch: str) -> bool:
    """A letter or digit of a run (not CJK): what an apostrophe must stand between to stay in its word."""
    return ch.isalnum() and not is_cjk(ch)


def inner_apostrophe(text: str, i: int) -> bool:
    """Whether text[i] is an apostrophe inside a word ("doesn't", "rock'n'roll"), not a quote or an ending."""
    return text[i] in APOSTROPHES and 0 < i < len(text) - 1 and _joins(text[i - 1]) and _joins(text[i + 1])


def word_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each word: non-whitespace runs, punctuation on its own (an apostrophe inside a word
    excepted), CJK runs cut into words."""
    spans: list[tuple[int, int]] = []
    start = None
    cjk_start = None
    for i, ch in enumerate(text):
        cjk = is_cjk(ch)
        if cjk_start is not None and not cjk:
            spans.extend((cjk_start + a, cjk_start + b) for a, b in chinese_words(text[cjk_start:i]))
            cjk_start = None
        alone = (is_punctuation(ch) and not inner_apostrophe(text, i)) or cjk
        if (ch.isspace() or alone) and start is not None:
            spans.append((start, i))
            start = None
        if cjk:
            if cjk_start is None:
                cjk_start = i
        elif alone:
            spans.append((i, i + 1))
        elif not ch.isspace() and start is None:
            start = i
    if cjk_start is not None:
        spans.extend((cjk_start + a, cjk_start + b) for a, b in chinese_words(text[cjk_start:]))
    if start is not None:
        spans.append((start, len(text)))
    return spans


def joined_spans(tokens: Sequence[str]) -> list[tuple[int, int]]:
    """Spans of pre-split words in `" ".join(tokens)`."""
    spans, pos = [], 0
    for token in tokens:
        spans.append((pos, pos + len(token)))
        pos += len(token) + 1
    return spans


def cell_text(value: Any) -> str:
    """A table or JSON value as a string cell: lists and objects as JSON, null as empty."""
    if value is None or value is _NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def split_words(cell: str) -> list[str] | None:
    """A cell as a word list (JSON list or space-separated); None if it starts like a list but is not one."""
    cell = cell.strip()
    if cell.startswith("["):
        try:
            value = json.loads(cell)
        except json.JSONDecodeError:
            return None
        return [cell_text(v) for v in value] if isinstance(value, list) else None
    return cell.split()


def sentence_words(text: str) -> list[str]:
    """Typed text or a tokens cell as words; Chinese written without spaces as one word per character."""
    words = split_words(text)
    if words is None:  # starts with "[" but is no JSON list: plain words
        words = text.split()
    if len(words) == 1 and len(words[0]) > 1 and any(is_cjk(ch) for ch in words[0]):
        return list(words[0])
    return words


def word_separator(words: Sequence[str]) -> str:
    """How words join back into a sentence: character-level CJK without spaces, others with one."""
    cjk = sum(len(w) == 1 and is_cjk(w) for w in words)
    return "" if words and cjk >= len(words) / 2 else " "


def join_words(words: Sequence[str]) -> str:
    """Words back into a sentence (see `word_separator`)."""
    return word_separator(words).join(words)


def _pandas_na() -> Any:
    try:
        import pandas as pd

        return pd.NA
    except ImportError:  # pragma: no cover - pandas is a requirement
        return object()


_NA = _pandas_na()
