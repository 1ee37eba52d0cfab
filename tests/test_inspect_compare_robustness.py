"""Did robustness improve between two runs: each family's fail rates before and after with Wilson intervals, the
difference with Newcombe's interval, McNemar's exact test when both records followed the same texts (else
Fisher's, said as such), and Benjamini-Hochberg over the families compared."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import LABELS, fake_run
from scipy.stats import binomtest, false_discovery_control, fisher_exact

from trainer.inspect import compare as cmp
from trainer.inspect import compare_robustness as robustness
from trainer.inspect.behaviour import FamilyResult, record, saved
from trainer.inspect.slices import wilson
from trainer.runs import RunFolder, load_run


def family(name: str, changed: list[int], failed: list[int], unit: str = "text") -> FamilyResult:
    """A family's result as the robustness computation saves it, built from the rows it changed and failed."""
    low, high = wilson(len(failed), len(changed))
    rate = len(failed) / len(changed) if changed else 0.0
    return FamilyResult(name, "invariance", "any", len(changed), len(failed), rate, low, high, -0.01, unit=unit,
                        changed_rows=list(changed), failed_rows=list(failed))  # fmt: skip


ROWS = list(range(0, 200, 2))  # 100 rows of a 200-row test split


def planted() -> tuple[dict, dict]:
    """typos: 30 of 100 failed before, 5 of the same 100 after (25 fixed, none broken); case: the same 8 failed
    in both; numbers: changed no text in either."""
    before = record([family("typos", ROWS, ROWS[:30]), family("case", ROWS[:50], ROWS[10:18]),
                     family("numbers", [], [])])  # fmt: skip
    after = record([family("typos", ROWS, ROWS[:5]), family("case", ROWS[:50], ROWS[10:18]),
                    family("numbers", [], [])])  # fmt: skip
    return before, after


def test_a_planted_improvement_is_flagged_with_mcnemars_exact_p_value():
    before, after = planted()
    found = robustness.compare(before, after, shared_split=True)
    typos = next(f for f in found.families if f.name == "typos")
    assert typos.paired and typos.test == "McNemar" and typos.unpaired == ""
    assert (typos.only_before, typos.only_after) == (25, 0)
    assert typos.p_value == pytest.approx(binomtest(0, 25, 0.5).pvalue, rel=1e-12)
    assert typos.p_value < 1e-6 and typos.flagged
    assert (typos.rate_before, typos.rate_after) == (0.30, 0.05)
    assert (typos.low_before, typos.high_before) == pytest.approx(wilson(30, 100))
    assert (typos.low_after, typos.high_after) == pytest.approx(wilson(5, 100))
    assert typos.difference == pytest.approx(-0.25)
    assert -0.40 < typos.low < -0.25 < typos.high < -0.10, (typos.low, typos.high)
    assert [f.q_value for f in found.families] == pytest.approx(
        false_discovery_control([f.p_value for f in found.families], method="bh")
    )


def test_the_same_failed_rows_are_not_flagged():
    before, after = planted()
    found = robustness.compare(before, after, shared_split=True)
    case = next(f for f in found.families if f.name == "case")
    assert case.paired and case.test == "McNemar"
    assert (case.only_before, case.only_after) == (0, 0)
    assert case.p_value == 1.0 and case.q_value == 1.0 and not case.flagged
    assert case.difference == 0.0 and case.low < 0 < case.high
    assert [f.name for f in found.flagged] == ["typos"]


def test_a_family_in_one_record_only_or_changing_nothing_is_left_out():
    before, after = planted()
    before["tests"].append(family("whitespace", ROWS, ROWS[:40]).to_dict(rows=True))
    after["tests"].append(family("width", ROWS, ROWS[:1]).to_dict(rows=True))
    for found in (before, after):  # a person's directional rule: not a change that should not matter
        found["tests"].append(family("cheaper", ROWS, ROWS[:20]).to_dict(rows=True) | {"kind": "directional"})
    found = robustness.compare(before, after, shared_split=True)
    assert [f.name for f in found.families] == ["typos", "case"]
    assert found.left_out == ["numbers", "whitespace", "cheaper", "width"]


def test_records_without_rows_fall_back_to_fishers_test_and_say_so():
    before, after = planted()
    for t in before["tests"]:  # saved before the records kept their rows
        del t["changed_rows"], t["failed_rows"]
    found = robustness.compare(before, after, shared_split=True)
    typos = next(f for f in found.families if f.name == "typos")
    assert not typos.paired and typos.test == "Fisher" and typos.unpaired == robustness.NO_ROWS
    assert typos.only_before is None and typos.only_after is None
    assert typos.p_value == pytest.approx(fisher_exact([[30, 70], [5, 95]]).pvalue, rel=1e-12)
    assert typos.flagged, "30 against 5 in 100 is clear even unpaired"
    assert "separate sample" in robustness.why_unpaired(typos.unpaired)
    assert "Evaluate" in robustness.why_unpaired(robustness.NO_ROWS)
    assert robustness.why_unpaired("") == ""


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("split", robustness.SPLIT),
        ("seed", robustness.SEED),
        ("rows", robustness.OTHER_ROWS),
    ],
)
def test_each_reason_the_texts_cannot_be_followed_gives_the_unpaired_test(change, reason):
    before, after = planted()
    if change == "seed":
        after["seed"] = 1
    if change == "rows":
        after["tests"][0] = family("typos", [r + 1 for r in ROWS], [r + 1 for r in ROWS[:5]]).to_dict(
            rows=True
        )
    found = robustness.compare(before, after, shared_split=change != "split")
    typos = next(f for f in found.families if f.name == "typos")
    assert typos.unpaired == reason and typos.test == "Fisher"
    assert robustness.why_unpaired(reason).endswith(".")


def test_newcombes_intervals_match_published_values():
    # a paired 2x2 table (59 both, 6 before only, 16 after only, 80 neither): before - after is -0.0621
    # (-0.1186 to -0.0046), Fagerland, Lydersen & Laake, "Statistical Analysis of Contingency Tables", ch. 8
    low, high = robustness.newcombe_paired(59, 6, 16, 80)
    assert (low, high) == pytest.approx((0.0046, 0.1186), abs=5e-5)
    # two samples, 7 of 34 against 1 of 34: 0.1765 (0.0189 to 0.3404), ibid., ch. 4
    low, high = robustness.newcombe_unpaired(7, 34, 1, 34)
    assert (low, high) == pytest.approx((-0.3404, -0.0189), abs=5e-5)


def test_runs_on_the_same_split_read_their_saved_records_and_pair(tmp_path):
    rng = np.random.default_rng(0)
    gold = rng.choice(LABELS, 200).tolist()
    runs = tmp_path / "runs"
    first, second = fake_run(runs, "plain", gold, gold), fake_run(runs, "augmented", gold, gold)
    order = rng.permutation(200)
    shuffled = fake_run(runs, "shuffled", [gold[i] for i in order], [gold[i] for i in order],
                        [f"text number {i}" for i in order])  # fmt: skip
    before, after = planted()
    RunFolder(first).write_robustness(before)
    RunFolder(second).write_robustness(after)
    a, b, c = (cmp.side(load_run(p)) for p in (first, second, shuffled))
    assert cmp.same_order(cmp.pairing(a, b)[0]) and not cmp.same_order(cmp.pairing(a, c)[0])
    assert not cmp.same_order(None)
    found = robustness.compare(saved(first), saved(second), cmp.same_order(cmp.pairing(a, b)[0]))
    assert [f.name for f in found.flagged] == ["typos"] and found.flagged[0].paired
    as_json = json.loads(json.dumps(found.to_dict()))
    assert as_json["families"][0]["name"] == "typos" and as_json["families"][0]["paired"] is True
    assert as_json["alpha"] == 0.05 and as_json["left_out"] == ["numbers"]
    unpaired = robustness.compare(saved(first), saved(second), cmp.same_order(cmp.pairing(a, c)[0]))
    assert {f.unpaired for f in unpaired.families} == {robustness.SPLIT}
