"""Behavioural tests of a text run (issue 31, first part): invariance families, each a small change to a text
that should not change the model's answer, and how often it does, with a Wilson 95% interval.

Each family changes what it names and nothing else (tests/test_inspect_behaviour.py holds them to it):
- typos: one in ten words (at least one) of four or more letters gets one typing slip: a neighbouring key
  on a QWERTY keyboard, two letters swapped, a letter dropped or doubled;
- case: a text with capitals in lower case; one without, its first letter capitalised;
- punctuation: the final full stop, question or exclamation mark removed, or a full stop added;
- whitespace: one space between words doubled;
- numbers: every number replaced by another of as many digits;
- width (Chinese): full-width punctuation (，。！？) written half-width, or the other way.

A family applies only to the texts it can change (a text without numbers is not a test of numbers); the
fail rate is over those. Random choices follow `seed`, so a rerun gives the same texts.

Our own few lines rather than nlpaug: nlpaug's keyboard augmenter splits and rejoins a text on spaces
(changing more than the slip) and pulls in gdown and requests; a slip inside one word's span is four lines.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
WORST = 5  # examples kept per family: the largest drops of the original label's probability


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
        return None

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


FAMILIES: dict[str, Callable[[str, random.Random], str | None]] = {
    "typos": typos,
    "case": case,
    "punctuation": punctuation,
    "whitespace": whitespace,
    "numbers": numbers,
    "width": width,
}
LANGUAGES = {"typos": "en", "case": "en", "width": "zh"}  # the others: any language


@dataclass
class FamilyResult:
    name: str
    kind: str  # "invariance"
    language: str  # "en" | "zh" | "any"
    changed: int
    failed: int
    fail_rate: float
    ci_low: float
    ci_high: float
    mean_probability_change: float
    examples: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def perturb(family: str, texts: Sequence[str], seed: int = 0) -> list[str | None]:
    """Each text as the family changes it, or None where it does not apply (or changes nothing)."""
    rng = random.Random(f"{family}:{seed}")
    out = []
    for text in texts:
        changed = FAMILIES[family](str(text), rng)
        out.append(changed if changed is not None and changed != text else None)
    return out


def run_family(model, family: str, texts: Sequence[str], before=None, seed: int = 0) -> FamilyResult:
    """How often `family` changes the run's answer on `texts` (`before`: their Scored, if already scored)."""
    from trainer.inspect.slices import wilson

    before = before if before is not None else model.score(list(texts))
    changed = perturb(family, texts, seed)
    rows = [i for i, t in enumerate(changed) if t is not None]
    language = LANGUAGES.get(family, "any")
    if not rows:
        return FamilyResult(family, "invariance", language, 0, 0, 0.0, 0.0, 1.0, 0.0)
    after = model.score([changed[i] for i in rows])
    was = [before.labels[i] for i in rows]
    failed = [a != b for a, b in zip(after.labels, was, strict=True)]
    index = {label: j for j, label in enumerate(model.labels)}
    drop = np.array([after.probabilities[k, index[label]] - before.probabilities[i, index[label]]
                     for k, (i, label) in enumerate(zip(rows, was, strict=True))])  # fmt: skip
    low, high = wilson(sum(failed), len(rows))
    worst = np.argsort(drop)[:WORST]
    examples = [{"original": str(texts[rows[k]]), "perturbed": changed[rows[k]], "before": was[k],
                 "after": after.labels[k], "probability_change": float(drop[k])} for k in worst]  # fmt: skip
    return FamilyResult(family, "invariance", language, len(rows), int(sum(failed)), sum(failed) / len(rows),
                        low, high, float(drop.mean()), examples)  # fmt: skip


def test_run(model, run, progress=None, should_stop=None, families: Sequence[str] | None = None,
             seed: int = 0) -> list[FamilyResult] | None:  # fmt: skip
    """Every family (or `families`) on the run's test split, saved beside the run (robustness.json) when
    all of them were tried; None when stopped."""
    families = list(families or FAMILIES)
    test = run.split("test")
    texts = [] if test is None else test["text"].astype(str).tolist()
    before = model.score(texts) if texts else None
    results = []
    for i, family in enumerate(families):
        if should_stop is not None and should_stop():
            return None
        if progress is not None:
            progress(i, len(families))
        results.append(run_family(model, family, texts, before, seed) if texts else
                       FamilyResult(family, "invariance", "en", 0, 0, 0.0, 0.0, 1.0, 0.0))  # fmt: skip
    if progress is not None:
        progress(len(families), len(families))
    if set(families) == set(FAMILIES):
        run.folder.write_robustness({"seed": seed, "split": "test", "tests": [r.to_dict() for r in results]})
    return results


def saved(run_path) -> dict | None:
    """The behavioural tests last saved for a run, or None."""
    from trainer.runs import RunFolder

    return RunFolder(run_path).robustness()
