"""Chinese changes that should not change what a text means (issue 31's `script` and `homophones`):
- script: simplified characters written traditional, or traditional ones simplified, by OpenCC (the
  conversion tables Chinese input methods and Wikipedia use), phrase by phrase, not character by character;
- homophones: one character in ten (at least one) replaced by the most used other character with the same
  pinyin and tone (pypinyin's readings; how much a character is used: the counts of jieba's dictionary
  words that hold it): the slip a pinyin input method makes when the wrong candidate is picked. Only the
  3,500 most used characters with one reading are changed or chosen.
"""

from __future__ import annotations

import functools
import random
from typing import Any

from trainer.data.word_rule import is_cjk

COMMON = 3_500  # the most used characters kept (China's list of common characters has 3,500)


@functools.cache
def _converter(config: str) -> Any:
    import opencc

    return opencc.OpenCC(config)


def script(text: str, rng: random.Random) -> str | None:
    """Simplified -> traditional; a text that is already traditional (nothing to convert) -> simplified."""
    if not any(is_cjk(ch) for ch in text):
        return None
    traditional = _converter("s2t").convert(text)
    if traditional != text:
        return traditional
    simplified = _converter("t2s").convert(text)
    return simplified if simplified != text else None


@functools.cache
def _homophones() -> dict[str, str]:
    """Character -> the most used other character with the same single reading (pinyin with tone)."""
    from pypinyin.pinyin_dict import pinyin_dict

    from trainer.data.word_rule import _segmenter

    frequency: dict[str, int] = {}
    for word, count in _segmenter().FREQ.items():
        for ch in set(word):
            frequency[ch] = frequency.get(ch, 0) + count
    common = set(sorted(frequency, key=frequency.__getitem__, reverse=True)[:COMMON])
    by_sound: dict[str, list[tuple[int, str]]] = {}
    for point, readings in pinyin_dict.items():
        ch = chr(point)
        if "," in readings or ch not in common:
            continue
        by_sound.setdefault(readings, []).append((frequency[ch], ch))
    out = {}
    for chars in by_sound.values():
        chars.sort(reverse=True)
        for _, ch in chars:
            other = next((c for _, c in chars if c != ch), None)
            if other is not None:
                out[ch] = other
    return out


def homophones(text: str, rng: random.Random) -> str | None:
    """One character in ten (at least one) typed as another that sounds the same."""
    table = _homophones()
    at = [i for i, ch in enumerate(text) if ch in table]
    if not at:
        return None
    chinese = sum(1 for ch in text if is_cjk(ch))
    chosen = rng.sample(at, min(len(at), max(1, round(chinese / 10))))
    chars = list(text)
    for i in chosen:
        chars[i] = table[chars[i]]
    return "".join(chars)
