"""trainer.data.word_rule: the one word rule (text: spans; sentences: cells and typed text) and its inverse."""

from __future__ import annotations

import pytest
from attribution_helpers import TRICKY, words_of

from trainer.attribution import (
    word_spans,
)


def test_word_rule_splits_punctuation_and_cjk_and_keeps_the_rest() -> None:
    assert words_of("Hello, world!") == ["Hello", ",", "world", "!"]
    assert words_of("don't stop") == ["don't", "stop"]  # an apostrophe inside a word keeps it whole
    assert words_of("It doesn’t, rock'n'roll") == ["It", "doesn’t", ",", "rock'n'roll"]
    assert words_of("'quoted' students' 'tis") == ["'", "quoted", "'", "students", "'", "'", "tis"]
    assert words_of("这个手机很好") == ["这个", "手机", "很", "好"]
    assert words_of("手机 ok!") == ["手机", "ok", "!"]
    assert words_of("质量很好，我很满意。") == ["质量", "很", "好", "，", "我", "很", "满意", "。"]
    assert words_of("iPhone的屏幕很好 great!") == ["iPhone", "的", "屏幕", "很", "好", "great", "!"]
    assert words_of("love it 😍 great😍") == ["love", "it", "😍", "great😍"]
    assert words_of("café naïve") == ["café", "naïve"]
    assert words_of("  a\tb\n") == ["a", "b"]
    assert words_of("") == [] and words_of("   ") == []


@pytest.mark.parametrize("text", TRICKY)
def test_word_spans_reconstruct_the_text(text: str) -> None:
    spans = word_spans(text)
    rebuilt, pos = "", 0
    for a, b in spans:
        assert a >= pos and text[pos:a].strip() == ""  # only whitespace between words
        rebuilt += text[pos:b]
        pos = b
    assert rebuilt + text[pos:] == text and text[pos:].strip() == ""
