"""What a ranking of words leaves out: lone punctuation and symbols, pieces of words, and each language's
common words (English: scikit-learn's list; Chinese: a short list of particles and pronouns).

Negations ("not", "no", "never", 不, 没有) are kept: they often decide a label, so a ranking shows them.
"""

from __future__ import annotations

import functools
import unicodedata

from trainer.data.word_rule import is_cjk

PUNCTUATION, PIECE, COMMON = "punctuation", "piece", "common"
NEGATIONS = frozenset(
    {"not", "no", "nor", "never", "nothing", "none", "nobody", "noone", "neither", "cannot"}
)
_CHINESE = (
    "的 了 是 在 和 与 及 或 也 就 都 而 着 过 地 得 之 其 这 那 这个 那个 这些 那些 一个 我 你 您 他 她 它 我们 你们 "
    "他们 她们 它们 有 被 把 给 从 对 向 于 以 为 吗 呢 吧 啊 呀 哦 嗯 啦 么 又 还 再 等 个 此 该 所 则"
)
CHINESE = frozenset(_CHINESE.split())
EXAMPLES = {"en": ("the", "a", "is"), "zh": ("的", "了", "是")}  # shown where a page says what it leaves out


@functools.cache
def common_words() -> frozenset[str]:
    """Every language's common words, lower-cased (scikit-learn's English list without its negations)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS - NEGATIONS) | CHINESE


def _meaningful(ch: str) -> bool:
    """A letter, a digit or a pictograph (emoji and other symbols of category So, which carry meaning)."""
    return ch.isalnum() or unicodedata.category(ch) == "So"


def left_out(word: str) -> str | None:
    """Why a ranking leaves `word` out (PUNCTUATION, PIECE or COMMON), or None when it is ranked.

    A piece is a lone Latin letter (what is left of a word cut at an apostrophe or a dot: "t", "s")."""
    if not any(_meaningful(ch) for ch in word):
        return PUNCTUATION
    if len(word) == 1 and word.isalpha() and not is_cjk(word):
        return PIECE
    if word.lower() in common_words():
        return COMMON
    return None
