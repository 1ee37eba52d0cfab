"""Behavioural tests of a run (issue 31): how often a change that should not change the answer does change it,
with a Wilson 95% interval, the mean change of the first answer's probability and the worst examples. The
fail rate is over the texts (sentences) a family can change.

A text run tries every invariance family of trainer.data.perturb. An entity run is measured against its own
tags of each original sentence (so a file without gold tags can be tested too):
- typos: one slip in one word in ten (at least one) outside every entity; every tag must stay;
- names: each person the run found (PER, PERSON) swapped for another real name (trainer.data.swaps); the
  new words must carry the person type (B- then I-) and every other word its tag;
- places: each place found (LOC, GPE, LOCATION) swapped for another real one, likewise.
An entity run's fail unit is the sentence (any tag that should have stayed and did not) and, beside it, the
entity (each swapped entity whose new words lost its type; for typos, each entity whose tags moved); the
probability change is that of the sentence's mean confidence."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from trainer.data.perturb import FAMILIES, LANGUAGES, LETTERS, perturb, slip
from trainer.data.swaps import a_name, a_place
from trainer.data.word_rule import is_cjk
from trainer.evaluate.metrics import entity_spans

TOLERANCE = 1e-3  # a probability that moves less than this has not moved (float32 noise between passes)
WORST = 5  # examples kept per family: the largest drops of the original label's probability


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
    unit: str = "text"  # "text" | "sentence" (entity runs)
    entities: int | None = None  # entity runs: the entities checked, and those that failed
    entities_failed: int | None = None
    rule: dict | None = None  # a person's own rule (trainer.data.rules), as they wrote it

    # which inputs it changed and which of them failed (positions in the inputs): what a paired comparison
    # of two runs on the same test split reads (Compare); kept in the run folder, left out of the CLI's JSON
    changed_rows: list[int] = field(default_factory=list)
    failed_rows: list[int] = field(default_factory=list)

    def to_dict(self, rows: bool = False) -> dict:
        out = asdict(self)
        if not rows:
            del out["changed_rows"], out["failed_rows"]
        return out


def run_family(model, family: str, texts: Sequence[str], before=None, seed: int = 0) -> FamilyResult:
    """How often `family` changes the run's answer on `texts` (`before`: their Scored, if already scored)."""
    changed = perturb(family, texts, seed)
    return _invariance(model, family, LANGUAGES.get(family, "any"), texts, changed, before)


def _invariance(model, name: str, language: str, texts: Sequence[str], changed: list, before) -> FamilyResult:
    from trainer.inspect.slices import wilson

    rows = [i for i, t in enumerate(changed) if t is not None]
    if not rows:
        return FamilyResult(name, "invariance", language, 0, 0, 0.0, 0.0, 1.0, 0.0)
    before = before if before is not None else model.score(list(texts))
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
    return FamilyResult(name, "invariance", language, len(rows), int(sum(failed)), sum(failed) / len(rows),
                        low, high, float(drop.mean()), examples, changed_rows=rows,
                        failed_rows=[i for i, f in zip(rows, failed, strict=True) if f])  # fmt: skip


def run_rule(model, rule, texts: Sequence[str], before=None) -> FamilyResult:
    """A person's rule (trainer.data.rules) on `texts`: word pairs must not change the answer; a directional
    rule fails where its label's probability does not move the way it says (by more than float noise,
    TOLERANCE): a model that ignores the phrase fails it too."""
    from trainer.data.rules import apply
    from trainer.inspect.slices import wilson

    changed = [apply(rule, str(t)) for t in texts]
    if rule.kind == "invariance":
        return replace(_invariance(model, rule.name, "any", texts, changed, before), rule=rule.to_dict())
    rows = [i for i, t in enumerate(changed) if t is not None]
    if not rows:
        return FamilyResult(rule.name, "directional", "any", 0, 0, 0.0, 0.0, 1.0, 0.0, rule=rule.to_dict())
    before = before if before is not None else model.score(list(texts))
    after = model.score([changed[i] for i in rows])
    j = list(model.labels).index(rule.label)
    move = np.array([after.probabilities[k, j] - before.probabilities[i, j] for k, i in enumerate(rows)])
    wrong = move > -TOLERANCE if rule.direction == "down" else move < TOLERANCE
    low, high = wilson(int(wrong.sum()), len(rows))
    order = np.argsort(-move if rule.direction == "down" else move)[:WORST]
    examples = [{"original": str(texts[rows[k]]), "perturbed": changed[rows[k]], "before": before.labels[rows[k]],
                 "after": after.labels[k], "probability_change": float(move[k])} for k in order]  # fmt: skip
    return FamilyResult(rule.name, "directional", "any", len(rows), int(wrong.sum()), float(wrong.mean()), low,
                        high, float(move.mean()), examples, rule=rule.to_dict(), changed_rows=rows,
                        failed_rows=[i for i, w in zip(rows, wrong, strict=True) if w])  # fmt: skip


def split_inputs(run) -> list:
    """The run's test split's inputs: texts, or sentences as word lists (none without a test split)."""
    split = run.folder.load_split("test")
    return split.tokens if split.tokens is not None else split.texts


def test_run(model, texts: Sequence[str], progress=None, should_stop=None,
             families: Sequence[str] | None = None, seed: int = 0, before=None) -> list[FamilyResult] | None:  # fmt: skip
    """Every family (or `families`) on `texts` (none: nothing changed); None when stopped. `before`: the
    texts' Scored, when already scored."""
    before = before if before is not None else model.score(list(texts))
    return _each(list(families or FAMILIES), lambda f: run_family(model, f, texts, before, seed), progress,
                 should_stop)  # fmt: skip


def _each(families: list[str], one, progress=None, should_stop=None) -> list[FamilyResult] | None:
    """`one(family)` for each family, with progress; None when stopped."""
    results = []
    for i, family in enumerate(families):
        if should_stop is not None and should_stop():
            return None
        if progress is not None:
            progress(i, len(families))
        results.append(one(family))
    if progress is not None:
        progress(len(families), len(families))
    return results


TYPES = {"names": {"PER", "PERSON"}, "places": {"LOC", "GPE", "LOCATION"}}
ENTITY_FAMILIES = ("typos", "names", "places")


def _typos(words: list[str], tags: list[str], rng: random.Random):
    """One slip in one word in ten outside the entities; every tag is expected to stay."""
    outside = [
        i for i, (w, t) in enumerate(zip(words, tags, strict=True)) if t == "O" and LETTERS.fullmatch(w)
    ]
    if not outside:
        return None
    new = list(words)
    for i in rng.sample(outside, min(len(outside), max(1, round(len(words) / 10)))):
        new[i] = slip(words[i], rng)
    return new, list(tags), entity_spans(tags)


def _swap(family: str, words: list[str], tags: list[str], rng: random.Random):
    """Each entity of the family's types swapped for another real one; the tags the new sentence must get."""
    chosen = [e for e in entity_spans(tags) if e[2] in TYPES[family]]
    if not chosen:
        return None
    new_words, new_tags, swapped, at = [], [], [], 0
    for start, end, kind in chosen:
        new_words += words[at:start]
        new_tags += tags[at:start]
        old = "".join(words[start:end]) if is_cjk(words[start][0]) else " ".join(words[start:end])
        chinese = is_cjk(old[0])
        new = a_name(rng, chinese, old) if family == "names" else a_place(rng, chinese, old)
        pieces = list(new) if chinese else new.split()
        swapped.append((len(new_words), len(new_words) + len(pieces), kind))
        new_words += pieces
        new_tags += [f"B-{kind}"] + [f"I-{kind}"] * (len(pieces) - 1)
        at = end
    return new_words + words[at:], new_tags + tags[at:], swapped


def _changes(family: str, sentences: Sequence[list[str]], tags: Sequence[list[str]], seed: int) -> list:
    rng = random.Random(f"{family}:{seed}")
    out = []
    for words, original in zip(sentences, tags, strict=True):
        change = _typos if family == "typos" else (lambda w, t, r: _swap(family, w, t, r))
        out.append(change(list(words), list(original), rng))
    return out


def run_entity_family(
    model, family: str, sentences: Sequence[list[str]], before, seed: int = 0
) -> FamilyResult:
    """How often `family` moves a tag it should not (`before`: the run's tags of `sentences`)."""
    from trainer.inspect.slices import wilson

    changes = _changes(family, sentences, before.tags, seed)
    rows = [i for i, c in enumerate(changes) if c is not None]
    if not rows:
        return FamilyResult(family, "invariance", "any", 0, 0, 0.0, 0.0, 1.0, 0.0, unit="sentence")
    after = model.predict([changes[i][0] for i in rows])
    failed, entity_failed, entity_total, move = [], 0, 0, []
    for k, i in enumerate(rows):
        _, expected, checked = changes[i]
        got = list(after.tags[k])
        failed.append(got != expected)
        entity_total += len(checked)
        entity_failed += sum(got[a:b] != expected[a:b] for a, b, _ in checked)
        move.append(float(np.mean(after.confidence[k]) - np.mean(before.confidence[i])))
    low, high = wilson(sum(failed), len(rows))
    worst = sorted(range(len(rows)), key=lambda k: (not failed[k], move[k]))[:WORST]
    examples = [{"original": " ".join(sentences[rows[k]]), "perturbed": " ".join(changes[rows[k]][0]),
                 "before": " ".join(before.tags[rows[k]]), "after": " ".join(after.tags[k]),
                 "expected": " ".join(changes[rows[k]][1]), "probability_change": move[k]} for k in worst]  # fmt: skip
    return FamilyResult(family, "invariance", "any", len(rows), int(sum(failed)), sum(failed) / len(rows), low,
                        high, float(np.mean(move)), examples, unit="sentence", entities=entity_total,
                        entities_failed=int(entity_failed), changed_rows=rows,
                        failed_rows=[i for i, f in zip(rows, failed, strict=True) if f])  # fmt: skip


def try_sentences(model, sentences: Sequence[list[str]], progress=None, should_stop=None,
                   families: Sequence[str] | None = None, seed: int = 0) -> list[FamilyResult] | None:  # fmt: skip
    """Every entity family (or `families`) on `sentences`; None when stopped."""
    families = list(families or ENTITY_FAMILIES)
    if not sentences:
        return [
            FamilyResult(f, "invariance", "any", 0, 0, 0.0, 0.0, 1.0, 0.0, unit="sentence") for f in families
        ]
    words = [list(s) for s in sentences]
    before = model.predict(words)
    return _each(families, lambda f: run_entity_family(model, f, words, before, seed), progress, should_stop)


def run_tests(model, inputs: Sequence, progress=None, should_stop=None, families: Sequence[str] | None = None,
              seed: int = 0, rules: Sequence = ()) -> list[FamilyResult] | None:  # fmt: skip
    """The run's families (none when only `rules` are given) and a person's rules on its inputs: texts for a
    text run, word lists for an entity run (which takes no rules)."""
    if not model.adapter.supports("small_changes"):
        return try_sentences(model, inputs, progress, should_stop, families, seed)
    before = model.score(list(inputs))  # once, for the families and the rules
    results = test_run(model, inputs, progress, should_stop, families, seed, before) if families != [] else []
    if results is None or not rules:
        return results
    for rule in rules:
        if should_stop is not None and should_stop():
            return None
        results.append(run_rule(model, rule, inputs, before))
    return results


def record(results: Sequence[FamilyResult], seed: int = 0, kept: dict | None = None) -> dict:
    """What the run folder keeps of a whole set of results (RunFolder.write_robustness; read by `saved`);
    `kept`: a record saved before, whose tests stay unless a result of the same name replaces them."""
    new = [r.to_dict(rows=True) for r in results]
    names = {t["name"] for t in new}
    old = [t for t in (kept or {}).get("tests", []) if t["name"] not in names]
    return {"seed": (kept or {}).get("seed", seed), "split": "test", "tests": old + new}


def saved(run_path) -> dict | None:
    """The behavioural tests last saved for a run, or None."""
    from trainer.runs import RunFolder

    return RunFolder(run_path).robustness()
