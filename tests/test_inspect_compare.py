"""Comparing runs: pairing on the same test split, paired verdicts, per-class and confusion changes, the
settings that differ, disagreements, and `python -m trainer compare`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from cli_kit import trainer_cli
from helpers import LABELS, fake_run

from trainer.inspect import compare as cmp
from trainer.runs import load_run


@pytest.fixture
def three_runs(tmp_path):
    rng = np.random.default_rng(0)
    gold = rng.choice(LABELS, 300).tolist()
    a = [g if rng.random() < 0.70 else rng.choice(LABELS) for g in gold]
    b = [
        g if (x == g or rng.random() < 0.6) else x for g, x in zip(gold, a, strict=True)
    ]  # fixes 60% of A's misses
    runs = tmp_path / "runs"
    first = fake_run(runs, "baseline", gold, a)
    order = rng.permutation(len(gold))  # the same test examples in another order still pair
    texts = [f"text number {i}" for i in order]
    second = fake_run(runs, "better", [gold[i] for i in order], [b[i] for i in order], texts, lr=2e-4)
    other = fake_run(runs, "other data", gold[:200], a[:200], [f"another text {i}" for i in range(200)])
    return runs, first, second, other


def test_runs_on_the_same_test_split_pair_even_in_another_order(three_runs):
    runs, first, second, other = three_runs
    a, b, c = (cmp.side(load_run(p)) for p in (first, second, other))
    order, why = cmp.pairing(a, b)
    assert why == "" and order is not None
    lined = cmp.aligned(b, order)
    assert lined.frame["text"].tolist() == a.frame["text"].tolist()
    assert lined.frame["gold"].tolist() == a.frame["gold"].tolist()
    none, reason = cmp.pairing(a, c)
    assert none is None and "other examples" in reason and "0 of 300 in common" in reason


def test_a_real_gain_is_called_better_with_its_chance(three_runs):
    _, first, second, _ = three_runs
    result = cmp.compare([load_run(first), load_run(second)])
    (pair,) = result["pairs"]
    assert pair["paired"]
    accuracy = next(t for t in pair["tests"] if t["score"] == "accuracy")
    assert accuracy["test"] == "McNemar" and accuracy["p_value"] < 0.001 and accuracy["low"] > 0
    assert accuracy["sentence"].startswith("better is better than baseline on Accuracy")
    assert pair["disagreements"] > 20
    assert {c["class"] for c in pair["per_class"]} == set(LABELS)
    assert all(c["delta"] > 0 for c in pair["per_class"])
    setting = {row["setting"]: row for row in result["settings"]}
    assert setting["learning_rate"]["baseline"] == "0.0001" and setting["learning_rate"]["better"] == "0.0002"
    assert "seed" not in setting


def test_runs_on_different_test_data_are_compared_on_scores_only(three_runs):
    _, first, _, other = three_runs
    result = cmp.compare([load_run(first), load_run(other)])
    (pair,) = result["pairs"]
    assert (
        not pair["paired"]
        and "tests" not in pair
        and "compared on scores and intervals only" in pair["why_not"]
    )
    scores = pd.DataFrame(result["scores"])
    assert set(scores["run"]) == {"baseline", "other data"} and (scores["low"] <= scores["value"]).all()


def test_confusion_difference_and_disagreements(three_runs):
    _, first, second, _ = three_runs
    a, b = cmp.side(load_run(first)), cmp.side(load_run(second))
    b = cmp.aligned(b, cmp.pairing(a, b)[0])
    labels, diff = cmp.confusion_difference(a, b)
    assert labels == LABELS and diff.sum() == 0  # the same examples, moved between cells
    assert np.trace(diff) > 0  # more on the diagonal: more right
    rows = cmp.disagreements(a, b)
    assert (rows["predicted_a"] != rows["predicted_b"]).all()
    assert (
        set(rows["right"]) <= {"A", "B", "neither"}
        and (rows["right"] == "B").sum() > (rows["right"] == "A").sum()
    )


def test_bad_choices_say_what_is_wrong(three_runs, tmp_path):
    _, first, _, _ = three_runs
    with pytest.raises(ValueError, match="at least two runs"):
        cmp.compare([load_run(first)])
    with pytest.raises(ValueError, match="listed twice"):
        cmp.compare([load_run(first), load_run(first)])


def test_cli_prints_intervals_and_the_verdict_and_writes_json(three_runs):
    runs, first, second, _ = three_runs
    done = trainer_cli("compare", first.name, second.name, "--runs-dir", str(runs), in_process=True)
    assert done.returncode == 0, done.stderr
    assert "better is better than baseline on Accuracy" in done.stdout
    assert "95% intervals" in done.stdout and "learning_rate: 0.0001 / 0.0002" in done.stdout
    as_json = trainer_cli(
        "compare", first.name, second.name, "--runs-dir", str(runs), "--json", in_process=True
    )
    data = json.loads(as_json.stdout)
    assert [r["name"] for r in data["runs"]] == ["baseline", "better"] and data["pairs"][0]["paired"]


def test_cli_bad_input_exits_2_with_one_error_line(three_runs):
    runs, first, _, _ = three_runs
    for args in ([first.name], [first.name, "missing-run"], [first.name, first.name]):
        done = trainer_cli("compare", *args, "--runs-dir", str(runs))
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert done.returncode == 2 and len(lines) == 1 and lines[0].startswith("error:"), done.stderr
