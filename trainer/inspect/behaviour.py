"""Behavioural tests of a text run (issue 31, first part): how often each invariance family of
trainer.data.perturb (a change that should not change the answer) does change it, with a Wilson 95%
interval, the mean change of the first answer's probability and the worst examples. The fail rate is over
the texts a family can change."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from trainer.data.perturb import FAMILIES, LANGUAGES, perturb

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

    def to_dict(self) -> dict:
        return asdict(self)


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
    """Every family (or `families`) on the run's test split (none: nothing changed); None when stopped."""
    families = list(families or FAMILIES)
    test = run.split("test")
    texts = [] if test is None else test["text"].astype(str).tolist()
    before = model.score(texts)
    results = []
    for i, family in enumerate(families):
        if should_stop is not None and should_stop():
            return None
        if progress is not None:
            progress(i, len(families))
        results.append(run_family(model, family, texts, before, seed))
    if progress is not None:
        progress(len(families), len(families))
    return results


def record(results: Sequence[FamilyResult], seed: int = 0) -> dict:
    """What the run folder keeps of a whole set of results (RunFolder.write_robustness; read by `saved`)."""
    return {"seed": seed, "split": "test", "tests": [r.to_dict() for r in results]}


def saved(run_path) -> dict | None:
    """The behavioural tests last saved for a run, or None."""
    from trainer.runs import RunFolder

    return RunFolder(run_path).robustness()
