"""A person's own behavioural rules (issue 31), checked the same way as the built-in families:
- swap: word pairs ("cheap" and "inexpensive"): each whole word of a pair is replaced by the other one,
  either way, its capital kept; the answer must not change (invariance);
- directional: a phrase added before any of some words, or at the end of the text ("not" before "good",
  "great"): the probability of one label must go down (or up).

Rules come as JSON (the command line's --rules FILE, the Evaluate form), each checked with a message that
says what to write:
    [{"name": "price words", "swap": [["cheap", "inexpensive"], ["price", "cost"]]},
     {"name": "negation", "insert": "not", "before": ["good", "great"], "label": "positive",
      "direction": "down"}]
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from trainer.data.errors import DataError
from trainer.i18n import tr

DIRECTIONS = ("down", "up")
MAX_RULES, MAX_PAIRS = 20, 200


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str  # "invariance" (word pairs) | "directional"
    pairs: tuple[tuple[str, str], ...] = ()
    insert: str = ""
    before: tuple[str, ...] = ()  # none: the phrase goes at the end of the text
    label: str = ""
    direction: str = "down"

    def to_dict(self) -> dict:
        return asdict(self)


def _words(value: object, what: str, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(w, str) and w.strip() for w in value):
        raise DataError(tr("Rule {name}: {what} must be a list of words.", name=repr(name), what=what))
    return tuple(w.strip() for w in value)


def _one(raw: object, index: int, labels: Sequence[str]) -> Rule:
    if not isinstance(raw, dict):
        raise DataError(tr("Rule {n} must be an object with a name and either swap or insert.", n=index + 1))
    name = str(raw.get("name") or f"rule {index + 1}")[:60]
    if "swap" in raw:
        pairs = raw["swap"]
        if not isinstance(pairs, list) or not pairs or len(pairs) > MAX_PAIRS:
            raise DataError(tr("Rule {name}: swap must list word pairs, such as [[\"cheap\", \"inexpensive\"]].",
                               name=repr(name)))  # fmt: skip
        checked = [_words(p, "each pair", name) for p in pairs]
        if any(len(p) != 2 for p in checked):
            raise DataError(tr("Rule {name}: each pair holds two words.", name=repr(name)))
        return Rule(name, "invariance", tuple((a, b) for a, b in checked))
    insert, label = str(raw.get("insert") or "").strip(), str(raw.get("label") or "")
    direction = str(raw.get("direction") or "down")
    if not insert or label not in labels or direction not in DIRECTIONS:
        raise DataError(tr("Rule {name}: a directional rule needs insert (a phrase), label (one of {labels}) and "
                           "direction (down or up).", name=repr(name), labels=", ".join(map(str, labels))))  # fmt: skip
    before = _words(raw.get("before", []), "before", name) if raw.get("before") else ()
    return Rule(name, "directional", insert=insert, before=before, label=label, direction=direction)


def parse(raw: object, labels: Sequence[str]) -> list[Rule]:
    """The rules of a JSON value (a list of objects); DataError naming the first thing to fix."""
    if not isinstance(raw, list) or not raw:
        raise DataError(tr("Rules are a JSON list of objects, each with a name and either swap or insert."))
    if len(raw) > MAX_RULES:
        raise DataError(tr("At most {n} rules at a time.", n=MAX_RULES))
    rules = [_one(r, i, labels) for i, r in enumerate(raw)]
    names = [r.name for r in rules]
    if len(set(names)) != len(names):
        raise DataError(tr("Two rules have the same name: give each its own."))
    return rules


def _whole(words: Sequence[str]) -> re.Pattern:
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![\w'’])(?:{alternatives})(?![\w'’])", re.IGNORECASE)


def _like(old: str, new: str) -> str:
    """`new` with the capitals of `old` (all capitals, a first capital, or as it is)."""
    if old.isupper() and len(old) > 1:
        return new.upper()
    return new[:1].upper() + new[1:] if old[:1].isupper() else new


def apply(rule: Rule, text: str) -> str | None:
    """The text as the rule changes it, or None where it does not apply."""
    if rule.kind == "invariance":
        table = {a.lower(): b for a, b in rule.pairs} | {b.lower(): a for a, b in rule.pairs}
        changed = _whole(list(table)).sub(lambda m: _like(m.group(), table[m.group().lower()]), text)
        return changed if changed != text else None
    if not rule.before:
        stripped = text.rstrip()
        end = len(stripped) - 1 if stripped[-1:] in ".!?。！？" else len(stripped)
        return stripped[:end] + " " + rule.insert + stripped[end:] + text[len(stripped) :]
    changed = _whole(rule.before).sub(lambda m: rule.insert + " " + m.group(), text)
    return changed if changed != text else None
