"""Scores with their uncertainty: bootstrap intervals and paired tests, checked by hand and against
sklearn / seqeval."""

from __future__ import annotations

import numpy as np
import pytest
from seqeval.metrics import f1_score as seq_f1
from sklearn.metrics import f1_score

from trainer.evaluate import uncertainty as u


def labels_with(right: int, total: int) -> tuple[list[str], list[str]]:
    gold = ["a", "b"] * (total // 2)
    predicted = [g if i < right else ("b" if g == "a" else "a") for i, g in enumerate(gold)]
    return gold, predicted


def test_scores_from_counts_match_sklearn_and_seqeval():
    rng = np.random.default_rng(0)
    gold = rng.choice(["x", "y", "z"], 300, p=[0.6, 0.3, 0.1]).tolist()
    predicted = [g if rng.random() < 0.7 else rng.choice(["x", "y", "z"]) for g in gold]
    values = u.scores(u.unit_counts("text", gold, predicted, ["x", "y", "z"]))
    assert values["macro_f1"] == pytest.approx(f1_score(gold, predicted, average="macro"))
    assert values["weighted_f1"] == pytest.approx(f1_score(gold, predicted, average="weighted"))
    tags = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-ORG", "I-ORG"], ["B-LOC", "O", "O"]] * 20
    found = [[t if rng.random() < 0.8 else "O" for t in s] for s in tags]
    token = u.scores(u.unit_counts("token", tags, found))
    assert token["f1"] == pytest.approx(seq_f1(tags, found))


def test_an_accuracy_of_80_in_100_has_about_the_textbook_interval():
    gold, predicted = labels_with(80, 100)
    low, high = u.intervals(u.unit_counts("text", gold, predicted))["accuracy"]
    normal = 1.96 * np.sqrt(0.8 * 0.2 / 100)  # 0.078
    assert low == pytest.approx(0.8 - normal, abs=0.02) and high == pytest.approx(0.8 + normal, abs=0.02)
    many = u.intervals(u.unit_counts("text", *labels_with(8000, 10000)))["accuracy"]
    assert many[1] - many[0] < (high - low) / 5  # 100x the examples: a ten times narrower interval
    assert u.intervals(u.unit_counts("text", gold, predicted)) == u.intervals(
        u.unit_counts("text", gold, predicted)
    )


def test_mcnemar_counts_only_the_examples_the_runs_disagree_on():
    right_a = np.array([True] * 50 + [True] * 1 + [False] * 9 + [False] * 40)
    right_b = np.array([True] * 50 + [False] * 1 + [True] * 9 + [False] * 40)
    only_a, only_b, p = u.mcnemar(right_a, right_b)
    assert (only_a, only_b) == (1, 9)
    assert p == pytest.approx(22 / 1024)  # 2 * P(X <= 1), X ~ Binomial(10, 1/2)
    assert u.mcnemar(right_a, right_a)[2] == 1.0


def test_paired_bootstrap_finds_a_clear_gain_and_no_difference_between_equals():
    gold = ["a", "b", "c", "d"] * 50
    a = [g if i % 5 else "a" for i, g in enumerate(gold)]  # wrong on every fifth
    b = [g if i % 10 else "a" for i, g in enumerate(gold)]  # wrong on every tenth only: never worse
    counts_a, counts_b = u.unit_counts("text", gold, a), u.unit_counts("text", gold, b)
    better = u.paired(counts_a, counts_b, "macro_f1")
    assert better.difference > 0 and better.low > 0 and better.p_value < 0.01
    assert better.test == "paired bootstrap"
    same = u.paired(counts_a, counts_a, "macro_f1")
    assert same.p_value == 1.0 and same.low == same.high == 0
    accuracy = u.paired(counts_a, counts_b, "accuracy")
    assert accuracy.test == "McNemar" and accuracy.p_value == pytest.approx(u.mcnemar(
        counts_a.matrix[:, 0].astype(bool), counts_b.matrix[:, 0].astype(bool))[2])  # fmt: skip


def test_the_verdict_in_words():
    clear = u.Paired("accuracy", 0.80, 0.86, 0.02, 0.10, 0.004, "McNemar")
    said = u.in_words(clear, "A", "B", "accuracy")
    assert said.startswith("B is better than A on accuracy")
    assert "less than 1 time in 100" in said and "+6.0 points" in said
    worse = u.in_words(u.Paired("f1", 0.9, 0.8, -0.15, -0.05, 0.0004, "paired bootstrap"), "A", "B", "F1")
    assert worse.startswith("A is better than B") and "1 time in 1,000" in worse
    unclear = u.in_words(u.Paired("accuracy", 0.80, 0.81, -0.03, 0.05, 0.42, "McNemar"), "A", "B", "accuracy")
    assert "not clearly different" in unclear and "about 42 times in 100" in unclear


def test_a_run_s_intervals_are_kept_until_its_predictions_change(tiny_text_run):
    from trainer.runs import load_run

    run = load_run(tiny_text_run)
    first = u.run_intervals(run)
    assert set(first) >= {"accuracy", "macro_f1"}
    low, high = first["macro_f1"]
    assert 0 <= low <= run.metrics["test"]["macro_f1"] <= high <= 1
    assert u.run_intervals(run) == first and run.folder.intervals_file.exists()
    assert u.interval_text(first["accuracy"]).startswith("95%: ")
