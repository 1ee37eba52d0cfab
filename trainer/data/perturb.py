"""Small changes to a text that should not change what it means (issue 31): the invariance families that
behavioural tests try (trainer.inspect.behaviour) and that augmentation adds to a training split
(trainer.train.fit). Each family changes what it names and nothing else:
- typos: one in ten words (at least one) of four or more letters gets one typing slip: a neighbouring key
  on a QWERTY keyboard, two letters swapped, a letter dropped or doubled;
- case: a text with capitals in lower case; one without, its first letter capitalised;
- punctuation: the final full stop, question or exclamation mark removed, or a full stop added;
- whitespace: one space between words doubled;
- numbers: every number replaced by another of as many digits (Chinese numerals: another number, cn2an);
- contractions (English): every contraction written out ("don't" -> "do not"), or, in a text without
  one, every phrase that has one shortened;
- fillers: a neutral opening ("Re: ", "Update: ") or ending ("Sent from my phone.", a link; in Chinese,
  回复：, 发自手机) that says nothing of the text: what people's messages carry around what they mean;
- names, places: real people's first names and real countries and big cities swapped for others of their
  kind; Chinese names and places as jieba tags them (trainer.data.swaps);
- width (Chinese): full-width punctuation (，。！？) written half-width, or the other way;
- script, homophones (Chinese): simplified and traditional characters, a character typed as another that
  sounds the same (trainer.data.chinese_changes).

A family applies only to the texts it can change. Random choices follow the seed, so a rerun gives the same
texts. Our own few lines rather than nlpaug: nlpaug's keyboard augmenter splits and rejoins a text on spaces
(changing more than the slip) and pulls in gdown and requests; a slip inside one word's span is four lines.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from typing import Any

from trainer.data.chinese_changes import homophones, script
from trainer.data.swaps import chinese_numbers, names, places

ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _neighbours() -> dict[str, str]:
    out: dict[str, str] = {}
    for r, row in enumerate(ROWS):
        for c, ch in enumerate(row):
            near = [row[c + d] for d in (-1, 1) if 0 <= c + d < len(row)]
            near += [ROWS[r + d][c] for d in (-1, 1) if 0 <= r + d < len(ROWS) and c < len(ROWS[r + d])]
            out[ch] = "".join(near)
    return out


NEIGHBOURS = _neighbours()
LETTERS = re.compile(r"[A-Za-z]{4,}")
NUMBER = re.compile(r"\d+")
FINAL = re.compile(r"[.!?]\s*$")


def slip(word: str, rng: random.Random) -> str:
    """One typing slip inside `word` (letters only, four or more)."""
    i = rng.randrange(1, len(word) - 1)  # never the first letter: people rarely miss it
    kind = rng.choice(("neighbour", "swap", "drop", "double"))
    if kind == "neighbour" and word[i].lower() in NEIGHBOURS:
        key = rng.choice(NEIGHBOURS[word[i].lower()])
        return word[:i] + (key.upper() if word[i].isupper() else key) + word[i + 1 :]
    if kind == "swap" and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]


def typos(text: str, rng: random.Random) -> str | None:
    spans = [m.span() for m in LETTERS.finditer(text)]
    if not spans:
        return None
    words = len(text.split())
    chosen = sorted(rng.sample(spans, min(len(spans), max(1, round(words / 10)))), reverse=True)
    for a, b in chosen:  # from the end, so the spans before stay right
        text = text[:a] + slip(text[a:b], rng) + text[b:]
    return text


def case(text: str, rng: random.Random) -> str | None:
    if text != text.lower():
        return text.lower()
    first = next((i for i, ch in enumerate(text) if ch.isalpha()), None)
    return None if first is None else text[:first] + text[first].upper() + text[first + 1 :]


def punctuation(text: str, rng: random.Random) -> str | None:
    stripped = text.rstrip()
    if not stripped:
        return None
    if FINAL.search(stripped):
        return stripped[:-1] + text[len(stripped) :]
    return stripped + "." + text[len(stripped) :]


def whitespace(text: str, rng: random.Random) -> str | None:
    gaps = [m.start() for m in re.finditer(r"(?<=\S) (?=\S)", text)]
    if not gaps:
        return None
    at = rng.choice(gaps)
    return text[:at] + " " + text[at:]


def numbers(text: str, rng: random.Random) -> str | None:
    if not NUMBER.search(text):
        from trainer.data.word_rule import is_cjk

        return chinese_numbers(text, rng) if any(is_cjk(ch) for ch in text) else None

    def other(match: re.Match) -> str:
        digits = match.group()
        while True:
            new = "".join(rng.choice("0123456789") for _ in digits)
            if len(digits) > 1 and new[0] == "0":
                new = str(rng.randrange(1, 10)) + new[1:]
            if new != digits:
                return new

    return NUMBER.sub(other, text)


FULL_WIDTH = dict(zip("，。！？：；（）", ",.!?:;()", strict=True))
HALF_WIDTH = {half: full for full, half in FULL_WIDTH.items()}


def width(text: str, rng: random.Random) -> str | None:
    """Chinese text: its full-width punctuation (，。！？) written half-width (,.!?), or the other way."""
    from trainer.data.word_rule import is_cjk

    if not any(is_cjk(ch) for ch in text):
        return None
    table = FULL_WIDTH if any(ch in FULL_WIDTH for ch in text) else HALF_WIDTH
    changed = "".join(table.get(ch, ch) for ch in text)
    return changed if changed != text else None


SHORT = {
    "do not": "don't", "does not": "doesn't", "did not": "didn't", "is not": "isn't", "are not": "aren't",
    "was not": "wasn't", "were not": "weren't", "cannot": "can't", "will not": "won't", "would not": "wouldn't",
    "should not": "shouldn't", "could not": "couldn't", "have not": "haven't", "has not": "hasn't",
    "had not": "hadn't", "i am": "i'm", "it is": "it's", "that is": "that's", "they are": "they're",
    "we are": "we're", "you are": "you're", "i have": "i've", "i will": "i'll", "there is": "there's",
}  # fmt: skip
LONG = {short: long for long, short in SHORT.items()}


def _phrases(table: dict[str, str]) -> re.Pattern:
    return re.compile(r"\b(" + "|".join(re.escape(k) for k in table).replace("'", "['’]") + r")\b", re.I)


SHORTENED, WRITTEN_OUT = _phrases(LONG), _phrases(SHORT)


def contractions(text: str, rng: random.Random) -> str | None:
    """Every contraction written out; a text without one: every phrase that has one shortened."""
    pattern, table = (SHORTENED, LONG) if SHORTENED.search(text) else (WRITTEN_OUT, SHORT)

    def other(match: re.Match) -> str:
        old = match.group()
        new = table[old.lower().replace("’", "'")]
        return new[0].upper() + new[1:] if old[0].isupper() else new.replace("i'", "I'").replace("i ", "I ")

    changed = pattern.sub(other, text)
    return changed if changed != text else None


ENDINGS = ("Sent from my phone.", "See https://example.com/p/48213", "Ref: 20931-B", "(posted via the app)")
ENDINGS_ZH = ("（发自手机）", "详见 https://example.com/p/48213", "编号：20931-B")
OPENINGS = ("Re: ", "Update: ", "Ticket 20931: ")
OPENINGS_ZH = ("回复：", "更新：", "工单 20931：")


def fillers(text: str, rng: random.Random) -> str | None:
    """A neutral opening before the text or a neutral ending after it (one of the two, at random; an ending
    follows a space, directly in Chinese)."""
    from trainer.data.word_rule import is_cjk

    stripped = text.strip()
    if not stripped:
        return None
    chinese = any(is_cjk(ch) for ch in stripped)
    if rng.random() < 0.5:
        return rng.choice(OPENINGS_ZH if chinese else OPENINGS) + stripped
    return stripped + (rng.choice(ENDINGS_ZH) if chinese else " " + rng.choice(ENDINGS))


FAMILIES: dict[str, Callable[[str, random.Random], str | None]] = {
    "typos": typos,
    "case": case,
    "punctuation": punctuation,
    "whitespace": whitespace,
    "numbers": numbers,
    "contractions": contractions,
    "fillers": fillers,
    "names": names,
    "places": places,
    "width": width,
    "script": script,
    "homophones": homophones,
}
# the others: any language (names, places and numbers find Chinese ones in Chinese texts)
LANGUAGES = {
    "typos": "en",
    "case": "en",
    "contractions": "en",
    "width": "zh",
    "script": "zh",
    "homophones": "zh",
}


def perturb(family: str, texts: Sequence[str], seed: int = 0) -> list[str | None]:
    """Each text as the family changes it, or None where it does not apply (or changes nothing)."""
    rng = random.Random(f"{family}:{seed}")
    out = []
    for text in texts:
        changed = FAMILIES[family](str(text), rng)
        out.append(changed if changed is not None and changed != text else None)
    return out


def augmented(texts: Sequence[str], labels: Sequence, families: Sequence[str], seed: int = 0,
              rows: Sequence[int] | None = None) -> tuple[list[str], list, list[int] | None]:  # fmt: skip
    """A training split grown by each family's changed copies of its texts, each with its text's label (and
    row): the originals first, then family by family."""
    out_texts, out_labels = list(texts), list(labels)
    out_rows = None if rows is None else list(rows)
    for family in families:
        for i, changed in enumerate(perturb(family, texts, seed)):
            if changed is not None:
                out_texts.append(changed)
                out_labels.append(labels[i])
                if out_rows is not None:
                    out_rows.append(rows[i])
    return out_texts, out_labels, out_rows


def augment_data(data: Any, families: Sequence[str], seed: int = 0) -> Any:
    """Prepared data (trainer.prepare.PreparedData) whose training split is grown by `families`' changed
    copies; the validation and test splits stay as they were. No families: the data itself."""
    if not families:
        return data
    from dataclasses import replace

    from trainer.data.splits import Split

    train = data.train
    texts, labels, rows = augmented(train.texts, train.labels, families, seed, train.rows)
    return replace(data, train=Split(texts, labels, rows=rows))
