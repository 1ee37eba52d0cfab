"""Which writing system a text is in, and which ones a model's vocabulary reads.

A model reads a script when its vocabulary holds enough tokens written in it: bert-base-chinese holds
about 21,000 Chinese characters, the bundled all-MiniLM-L6-v2 only 244, so a Chinese text it reads is
mostly unknown tokens. Scripts are told apart by Unicode character names (CJK, LATIN, CYRILLIC...),
letters only: digits, punctuation and emoji belong to no script.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable

from trainer.i18n import N_, language, tr

# Shown names (translated where shown), by script.
NAMES = {
    "Han": N_("Chinese characters"),
    "Latin": N_("Latin letters"),
    "Cyrillic": N_("Cyrillic letters"),
    "Greek": N_("Greek letters"),
    "Arabic": N_("Arabic script"),
    "Hebrew": N_("Hebrew script"),
    "Devanagari": N_("Devanagari script"),
    "Thai": N_("Thai script"),
    "Hangul": N_("Korean Hangul"),
    "Kana": N_("Japanese kana"),
}
# Languages a vocabulary's scripts suggest, for the model choice.
LANGUAGES = {"Han": N_("Chinese"), "Latin": N_("English and other Latin-script languages")}
# Tokens of a script a vocabulary needs before it counts as reading it (Chinese needs its thousands of
# everyday characters; an alphabet needs far fewer tokens).
ENOUGH = {"Han": 2000, "Hangul": 1000, "Latin": 1000}
ENOUGH_OTHER = 300
# The share of a text's letters in one script above which that script is the text's.
MOSTLY = 0.5
_FIRST_WORD = {"CJK": "Han", "HIRAGANA": "Kana", "KATAKANA": "Kana", "HANGUL": "Hangul"}
_MARKERS = ("##", "▁", "Ġ", "Ċ")


def script_of(ch: str) -> str | None:
    """The script of one character ("Han", "Latin"...), or None for digits, marks, punctuation, emoji."""
    if not unicodedata.category(ch).startswith("L"):
        return None
    first = unicodedata.name(ch, "").split(" ")[0]
    if not first:
        return None
    return _FIRST_WORD.get(first, first.title())


def text_scripts(inputs: Iterable[object], limit: int = 5000) -> Counter[str]:
    """Letters per script in the first `limit` inputs (texts, or word lists)."""
    counts: Counter[str] = Counter()
    for i, item in enumerate(inputs):
        if i >= limit:
            break
        text = " ".join(map(str, item)) if isinstance(item, list | tuple) else str(item)
        counts.update(s for s in map(script_of, text) if s)
    return counts


def mostly(inputs: Iterable[object]) -> tuple[str, float] | None:
    """The script most letters are written in and its share, when it is more than half; else None."""
    counts = text_scripts(inputs)
    total = sum(counts.values())
    if not total:
        return None
    script, n = counts.most_common(1)[0]
    return (script, n / total) if n / total > MOSTLY else None


def vocab_scripts(vocab: Iterable[str]) -> Counter[str]:
    """Tokens per script in a vocabulary: a token counts when all its letters are of that one script."""
    counts: Counter[str] = Counter()
    seen: set[str] = set()
    for token in vocab:
        for marker in _MARKERS:
            token = token.removeprefix(marker)
        if token in seen:  # "##好" and "好" are one character to read
            continue
        seen.add(token)
        found = {script_of(ch) for ch in token}
        found.discard(None)
        if len(found) == 1:
            counts[found.pop()] += 1
    return counts


def reads(counts: Counter[str], script: str) -> bool:
    """Whether a vocabulary with these script counts reads `script`."""
    return counts.get(script, 0) >= ENOUGH.get(script, ENOUGH_OTHER)


def read_scripts(counts: Counter[str]) -> list[str]:
    """The scripts a vocabulary reads, most tokens first."""
    return [script for script, _ in counts.most_common() if reads(counts, script)]


def script_name(script: str) -> str:
    """A script's name in the current language."""
    return tr(NAMES[script]) if script in NAMES else script


def languages(scripts: Iterable[str]) -> str:
    """What a model reads, for the model choice: "Chinese, English and other Latin-script languages"."""
    names = [tr(LANGUAGES[s]) if s in LANGUAGES else script_name(s) for s in scripts]
    return ("、" if language() == "zh" else ", ").join(names)
