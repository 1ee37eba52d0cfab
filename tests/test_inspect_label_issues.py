"""Label issues: cleanlab on hand-checkable probabilities, planted label flips found in every split of a run
(text and entity runs), out-of-fold probabilities that never saw their row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trainer.inspect.label_issues import (
    find_label_issues,
    find_token_issues,
    label_quality,
    out_of_fold_probabilities,
    run_issues,
)


def test_thresholds_are_mean_self_probability_per_class() -> None:
    from cleanlab.count import get_confident_thresholds

    probs = np.array([[0.9, 0.1], [0.7, 0.3], [0.2, 0.8], [0.4, 0.6]])
    given = np.array([0, 0, 1, 1])
    np.testing.assert_allclose(get_confident_thresholds(given, probs), [0.8, 0.7])


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


def blobs(n: int, flips: int, seed: int = 0, dims: int = 8):
    """Three separable clusters in `dims` dimensions, with `flips` labels changed to another class."""
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(3), n // 3)
    centers = rng.normal(scale=6.0, size=(3, dims))
    x = centers[truth] + rng.normal(size=(len(truth), dims))
    noisy = truth.copy()
    flipped = rng.choice(len(truth), size=flips, replace=False)
    noisy[flipped] = (truth[flipped] + rng.integers(1, 3, size=flips)) % 3
    return x, truth, noisy, flipped


def test_out_of_fold_probabilities_never_see_their_row() -> None:
    x, _, noisy, flipped = blobs(300, 30)
    probs = out_of_fold_probabilities(x, noisy, 3)
    assert probs.shape == (300, 3) and np.allclose(probs.sum(1), 1)
    # a flipped row's own (wrong) label is not what the model that never saw it believes
    assert (probs[flipped, noisy[flipped]] < 0.5).mean() > 0.9


def test_planted_flips_in_every_split_of_a_run_are_found(tmp_path) -> None:
    from trainer.config import TrainConfig
    from trainer.prepare import prepare
    from trainer.runs import RunFolder, create_run, load_run

    x, truth, noisy, flipped = blobs(240, 24)
    names = ["red", "green", "blue"]
    rows = [{"text": f"text {i}", "label": names[noisy[i]]} for i in range(len(noisy))]
    path = tmp_path / "colours.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    data = prepare(path)
    folder = RunFolder(create_run(tmp_path / "runs", "colours"))
    folder.write_inputs(TrainConfig().to_dict(), data)
    for split in ("train", "validation", "test"):  # the stored fine-tuned vectors: here, the blobs
        folder.write_array(folder.vector_file("finetuned", split), x[getattr(data, split).rows])
    issues = run_issues(None, load_run(folder.path))
    assert list(issues.columns[:7]) == ["row", "split", "index", "text", "given", "suggested", "score"]
    found = set(issues["row"])
    assert len(found & set(flipped.tolist())) / len(flipped) >= 0.9  # recall
    assert len(found & set(flipped.tolist())) / len(found) >= 0.8  # precision
    assert (issues[issues["row"].isin(flipped)]["split"] == "train").any(), "training rows are checked too"
    for _, issue in issues.iterrows():
        assert issue["text"] == f"text {issue['row']}" and issue["given"] == names[noisy[issue["row"]]]
        split = getattr(data, issue["split"])
        assert split.rows[issue["index"]] == issue["row"], "row is the position in the uploaded file"
        if issue["row"] in set(flipped.tolist()):
            assert issue["suggested"] == names[truth[issue["row"]]]
    assert issues["score"].tolist() == sorted(issues["score"]) and folder.issues() is not None


def test_planted_tag_flips_are_found_word_by_word() -> None:
    rng = np.random.default_rng(1)
    names = ["O", "B-PER", "I-PER"]
    sentences, probs, flipped = [], [], set()
    for s in range(60):
        truth = rng.integers(0, 3, size=6)
        tags = [names[t] for t in truth]
        if s % 6 == 0:
            tags[2] = names[(truth[2] + 1) % 3]
            flipped.add((s, 2))
        p = np.full((6, 3), 0.02)
        p[np.arange(6), truth] = 0.96
        sentences.append(tags)
        probs.append(p)
    issues = find_token_issues(sentences, probs, names)
    assert {(i.index, i.word) for i in issues} == flipped
    assert all(i.suggested == names[np.argmax(probs[i.index][i.word])] for i in issues)
