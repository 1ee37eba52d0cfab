"""Label issues: hand-checkable thresholds, and planted label flips found by confident learning."""

from __future__ import annotations

import numpy as np
import pytest

from trainer.label_issues import class_thresholds, find_label_issues, label_quality


def test_thresholds_are_mean_self_probability_per_class() -> None:
    probs = np.array([[0.9, 0.1], [0.7, 0.3], [0.2, 0.8], [0.4, 0.6]])
    given = np.array([0, 0, 1, 1])
    np.testing.assert_allclose(class_thresholds(given, probs), [0.8, 0.7])


def test_hand_made_issue_and_its_suggestion() -> None:
    names = ["cat", "dog", "bird"]
    labels = ["cat", "cat", "cat", "dog", "dog", "bird", "bird"]
    probs = np.array(
        [
            [0.9, 0.05, 0.05],
            [0.8, 0.1, 0.1],
            [0.1, 0.85, 0.05],  # labelled cat, clearly a dog
            [0.1, 0.8, 0.1],
            [0.2, 0.7, 0.1],
            [0.05, 0.05, 0.9],
            [0.3, 0.1, 0.6],  # below bird's threshold (0.75) but no other class above its own
        ]
    )
    issues = find_label_issues(labels, probs, names)
    assert [i.index for i in issues] == [2]
    issue = issues[0]
    assert (issue.given, issue.suggested) == ("cat", "dog")
    assert issue.given_prob == pytest.approx(0.1) and issue.suggested_prob == pytest.approx(0.85)
    assert issue.score == pytest.approx(0.1)
    assert issue.to_dict()["suggested"] == "dog"


def test_ranking_most_suspicious_first_and_margin() -> None:
    names = ["a", "b"]
    labels = ["a"] * 5 + ["b"] * 5
    p_a = np.array([0.9, 0.9, 0.9, 0.08, 0.05, 0.1, 0.1, 0.1, 0.1, 0.1])
    probs = np.stack([p_a, 1 - p_a], axis=1)
    issues = find_label_issues(labels, probs, names)
    assert [i.index for i in issues] == [4, 3]
    margin = label_quality(np.array([0] * 5 + [1] * 5), probs, "normalized_margin")
    assert margin[4] == pytest.approx((0.05 - 0.95 + 1) / 2)
    ranked = find_label_issues(labels, probs, names, ranking="normalized_margin")
    assert [i.index for i in ranked] == [4, 3]


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="shape"):
        find_label_issues(["a"], np.zeros((2, 2)), ["a", "b"])
    with pytest.raises(ValueError, match="not among"):
        find_label_issues(["zebra"], np.array([[0.5, 0.5]]), ["a", "b"])
    with pytest.raises(ValueError, match="ranking"):
        find_label_issues(["a"], np.array([[0.5, 0.5]]), ["a", "b"], ranking="loss")
    assert find_label_issues([], np.zeros((0, 2)), ["a", "b"]) == []


def test_planted_flips_are_found_with_high_precision_and_recall() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    rng = np.random.default_rng(0)
    names = ["red", "green", "blue"]
    centers = np.array([[0.0, 0.0], [6.0, 0.0], [3.0, 5.0]])
    truth = np.repeat(np.arange(3), 100)
    x = centers[truth] + rng.normal(size=(300, 2))
    noisy = truth.copy()
    flipped = rng.choice(300, size=30, replace=False)
    noisy[flipped] = (truth[flipped] + rng.integers(1, 3, size=30)) % 3
    probs = cross_val_predict(LogisticRegression(), x, noisy, cv=5, method="predict_proba")
    issues = find_label_issues([names[i] for i in noisy], probs, names)
    found = {i.index for i in issues}
    true_positives = len(found & set(flipped.tolist()))
    assert true_positives / len(found) >= 0.9  # precision
    assert true_positives / len(flipped) >= 0.9  # recall
    for issue in issues:
        if issue.index in set(flipped.tolist()):
            assert issue.suggested == names[truth[issue.index]]
    scores = [i.score for i in issues]
    assert scores == sorted(scores)
