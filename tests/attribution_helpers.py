"""Labels and tricky texts shared by the attribution tests (importable as `attribution_helpers`)."""

from __future__ import annotations

from trainer.data.word_rule import word_spans

LABELS = ["neg", "neu", "pos"]
TAGS = ["O", "B-PER", "I-PER"]
TRICKY = [
    "Hello, world!",
    "good good GOOD good",
    "café naïve  Zürich",
    "这个手机很好",
    "love it 😍 great😍",
    "antidisestablishmentarianism",
    "  leading and trailing spaces\tand\ttabs\n",
]


def words_of(text: str) -> list[str]:
    return [text[a:b] for a, b in word_spans(text)]
