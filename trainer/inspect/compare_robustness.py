"""Did robustness improve between two runs (issue 31)? The behavioural results saved for each run
(trainer.inspect.behaviour.saved), family by family: how often a change that should not matter changed the
answer before (the first run) and after (the second), and whether the difference is more than chance.

Each fail rate comes with a Wilson 95% interval. When the two records followed the same texts (the runs share
their test split in the same order, both records keep which rows each family changed and which failed, with
the same seed, so each family changed the same rows), the test is paired: McNemar's exact test on the texts
that only one run failed, and the difference's 95% interval is Newcombe's for paired proportions (square and
add, the correlation corrected for continuity). Otherwise the two rates are compared as separate samples:
Fisher's exact test and Newcombe's hybrid score interval. The p-values of the families compared become
q-values by Benjamini-Hochberg; a family is flagged when its q-value is at most `alpha`, so among flagged
families at most 1 in 20 is expected to be chance, however many were compared.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from trainer.evaluate import uncertainty
from trainer.i18n import tr
from trainer.inspect.slices import ALPHA, wilson

PAIRED, UNPAIRED = "McNemar", "Fisher"  # the test each family got (English names; pages translate them)
# why a family's two records cannot be followed text by text
SPLIT, NO_ROWS, SEED, OTHER_ROWS = "split", "rows", "seed", "changed"


@dataclass
class FamilyChange:
    """One family's fail rate before and after, the difference (after - before) and its test."""

    name: str
    unit: str  # "text" | "sentence"
    changed_before: int
    failed_before: int
    rate_before: float
    low_before: float
    high_before: float
    changed_after: int
    failed_after: int
    rate_after: float
    low_after: float
    high_after: float
    difference: float  # rate_after - rate_before: below 0 is fewer answers changed (more robust)
    low: float  # the difference's 95% interval
    high: float
    test: str  # PAIRED | UNPAIRED
    p_value: float
    q_value: float = 1.0
    flagged: bool = False
    unpaired: str = ""  # "" when paired, else why not: SPLIT | NO_ROWS | SEED | OTHER_ROWS
    only_before: int | None = None  # paired: rows that failed before only (fixed) and after only (broken)
    only_after: int | None = None

    @property
    def paired(self) -> bool:
        return not self.unpaired

    def to_dict(self) -> dict:
        return asdict(self) | {"paired": self.paired}


@dataclass
class RobustnessComparison:
    """Every family present in both records with texts changed in both, flagged ones by BH at `alpha`."""

    families: list[FamilyChange]
    alpha: float = ALPHA
    left_out: list[str] = field(default_factory=list)  # families in one record only, or changing nothing

    @property
    def flagged(self) -> list[FamilyChange]:
        return [f for f in self.families if f.flagged]

    def to_dict(self) -> dict:
        return {"alpha": self.alpha, "left_out": list(self.left_out), "families": [f.to_dict() for f in self.families]}  # fmt: skip


def why_unpaired(reason: str) -> str:
    """Why a family's two results are compared as separate samples, in a sentence ("" when paired)."""
    why = {
        SPLIT: tr("The two runs were not tested on the same texts in the same order, so the small changes were "
                  "compared as two separate samples, a weaker test than following the same texts."),
        NO_ROWS: tr("A result saved before Insight kept which texts each change touched was compared as a separate "
                    "sample, a weaker test: try small changes again on the Evaluate page to follow the same texts "
                    "in both runs."),
        SEED: tr("The two runs' small changes were drawn with different random choices, so they were compared as "
                 "two separate samples, a weaker test than following the same texts."),
        OTHER_ROWS: tr("A change touched different texts in the two runs, so it was compared as two separate "
                       "samples, a weaker test than following the same texts."),
    }  # fmt: skip
    return why.get(reason, "")


def _has_rows(test: dict) -> bool:
    rows = test.get("changed_rows")
    return rows is not None and test.get("failed_rows") is not None and len(rows) == int(test["changed"])


def unpaired_because(before: dict, after: dict, a: dict, b: dict, shared_split: bool) -> str:
    """ "" when family results `a` (of record `before`) and `b` (of `after`) followed the same texts, else why not."""
    if not shared_split:
        return SPLIT
    if not (_has_rows(a) and _has_rows(b)):
        return NO_ROWS
    if before.get("seed") != after.get("seed") or before.get("split", "test") != after.get("split", "test"):
        return SEED
    if [int(i) for i in a["changed_rows"]] != [int(i) for i in b["changed_rows"]]:
        return OTHER_ROWS
    return ""


def newcombe_paired(both: int, only_before: int, only_after: int, neither: int) -> tuple[float, float]:
    """The 95% interval of rate_after - rate_before over the same n rows (Newcombe 1998, square and add with
    the correlation of the two rates corrected for continuity)."""
    n = both + only_before + only_after + neither
    if n == 0:
        return -1.0, 1.0
    p1, p2 = (both + only_before) / n, (both + only_after) / n  # before, after
    (l1, u1), (l2, u2) = wilson(both + only_before, n), wilson(both + only_after, n)
    margins = (both + only_before) * (only_after + neither) * (both + only_after) * (only_before + neither)
    cross = both * neither - only_before * only_after
    phi = 0.0
    if margins > 0 and (cross > n / 2 or cross < 0):
        phi = (cross - n / 2 if cross > 0 else cross) / math.sqrt(margins)
    d = p1 - p2  # before - after; the interval is turned round at the end
    low = d - math.sqrt(max((p1 - l1) ** 2 + (u2 - p2) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2), 0.0))
    high = d + math.sqrt(max((p2 - l2) ** 2 + (u1 - p1) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1), 0.0))
    return -high, -low


def newcombe_unpaired(
    failed_before: int, n_before: int, failed_after: int, n_after: int
) -> tuple[float, float]:
    """The 95% interval of rate_after - rate_before from two separate samples (Newcombe's hybrid score)."""
    p1, p2 = failed_before / n_before, failed_after / n_after
    (l1, u1), (l2, u2) = wilson(failed_before, n_before), wilson(failed_after, n_after)
    d = p2 - p1
    return (max(-1.0, d - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)),
            min(1.0, d + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)))  # fmt: skip


def paired_test(a: dict, b: dict) -> tuple[float, float, float, int, int]:
    """(low, high, p-value, failed before only, failed after only) over the rows both records changed."""
    rows = [int(i) for i in a["changed_rows"]]
    index = {row: k for k, row in enumerate(rows)}
    failed_a, failed_b = np.zeros(len(rows), dtype=bool), np.zeros(len(rows), dtype=bool)
    failed_a[[index[int(i)] for i in a["failed_rows"] if int(i) in index]] = True
    failed_b[[index[int(i)] for i in b["failed_rows"] if int(i) in index]] = True
    broken, fixed, p = uncertainty.mcnemar(~failed_a, ~failed_b)  # exact, on the discordant pairs
    both = int(np.sum(failed_a & failed_b))
    low, high = newcombe_paired(both, fixed, broken, len(rows) - both - fixed - broken)
    return low, high, p, fixed, broken


def family_change(a: dict, b: dict, unpaired: str) -> FamilyChange:
    """One family, `a` its result before and `b` after (each with changed > 0)."""
    from scipy.stats import fisher_exact

    na, fa, nb, fb = int(a["changed"]), int(a["failed"]), int(b["changed"]), int(b["failed"])
    fixed = broken = None
    if unpaired:
        low, high = newcombe_unpaired(fa, na, fb, nb)
        p = float(fisher_exact([[fa, na - fa], [fb, nb - fb]]).pvalue)
    else:
        low, high, p, fixed, broken = paired_test(a, b)
    return FamilyChange(a["name"], a.get("unit", "text"), na, fa, fa / na, *wilson(fa, na), nb, fb, fb / nb,
                        *wilson(fb, nb), fb / nb - fa / na, low, high, UNPAIRED if unpaired else PAIRED,
                        min(float(p), 1.0), unpaired=unpaired, only_before=fixed, only_after=broken)  # fmt: skip


def _comparable(test: dict) -> bool:
    """A change that should not matter (not a directional rule) that changed some text."""
    return test.get("kind", "invariance") == "invariance" and int(test["changed"]) > 0


def compare(before: dict, after: dict, shared_split: bool, alpha: float = ALPHA) -> RobustnessComparison:
    """Each family in both saved records (`before`: the first run's, `after`: the second's) that changed some
    text in both (a person's directional rules left out: they are not changes that should not matter);
    `shared_split`: the runs were tested on the same test split in the same order."""
    from scipy.stats import false_discovery_control

    a = {t["name"]: t for t in before.get("tests", [])}
    b = {t["name"]: t for t in after.get("tests", [])}
    names = [name for name in a if name in b and _comparable(a[name]) and _comparable(b[name])]
    found = [
        family_change(a[n], b[n], unpaired_because(before, after, a[n], b[n], shared_split)) for n in names
    ]
    if found:
        for f, q in zip(found, false_discovery_control([f.p_value for f in found], method="bh"), strict=True):
            f.q_value = float(q)
            f.flagged = bool(q <= alpha)
    left_out = [n for n in dict.fromkeys([*a, *b]) if n not in names]
    return RobustnessComparison(found, alpha, left_out)
