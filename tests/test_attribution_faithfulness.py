"""trainer.attribution.faithfulness: agreement and removing the top words, on a fake model known by hand."""

from __future__ import annotations

import numpy as np
import pytest

from trainer.attribution import (
    agreement,
    comprehensiveness,
    faithfulness,
    remove_words,
    spearman,
    sufficiency,
    top_k_overlap,
)

# Numerics: `make test` runs this module again under the AVX2-only kernels (pyproject's `kernels`).
pytestmark = pytest.mark.kernels


def test_agreement_measures() -> None:
    assert spearman([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 2], [5, 5]) is None and spearman([1], [1]) is None
    assert top_k_overlap([5, 4, 0, 0], [4, 5, 9, 0], 2) == 0.5
    agree = agreement([3.0, None, 1.0, 2.0], [30.0, 5.0, 10.0, 20.0], fraction=0.5)
    assert agree.spearman == pytest.approx(1.0) and agree.top_k_overlap == 1.0 and agree.k == 2


def test_remove_and_keep_only_words() -> None:
    ids = [101, 11, 12, 13, 14, 102]
    positions, owner = [1, 2, 3, 4], [0, 0, 1, 2]  # word 0 has two pieces
    assert remove_words(ids, positions, owner, {0}, 0) == [101, 0, 0, 13, 14, 102]
    assert remove_words(ids, positions, owner, {0}, 0, keep_only=True) == [101, 11, 12, 0, 0, 102]


def fake_model(rows: list[list[int]]) -> np.ndarray:
    """Class 1's probability is 0.9 with token 7 present, 0.5 with only token 8, else 0.1."""
    p1 = np.array([0.9 if 7 in r else 0.5 if 8 in r else 0.1 for r in rows])
    return np.stack([1 - p1, p1], axis=1)


def test_comprehensiveness_and_sufficiency_on_a_fake_model() -> None:
    assert comprehensiveness(0.9, 0.2) == pytest.approx(0.7)
    assert sufficiency(0.9, 0.9) == 0.0
    ids = [101, 5, 7, 6, 8, 9, 102]  # words: 0 "the", 1 "great", 2 "film", 3 "good", 4 "."
    positions, owner = [1, 2, 3, 4, 5], [0, 1, 2, 3, 4]
    words = ["the", "great", "film", "good", "."]
    scores = [0.0, 2.0, 0.1, 1.0, -0.3]
    f = faithfulness(fake_model, ids, positions, owner, scores, words, target=1, fraction=0.2, seed=3)
    assert f.k == 1 and f.top_words == ["great"] and f.top_indices == [1]
    assert f.prob_full == pytest.approx(0.9)
    assert f.prob_without_top == pytest.approx(0.5)  # "good" (token 8) is left
    assert f.prob_only_top == pytest.approx(0.9)
    assert f.comprehensiveness == pytest.approx(0.4) and f.sufficiency == pytest.approx(0.0)
    # the random draw is seeded, of the same size, and scored by the same rule
    again = faithfulness(fake_model, ids, positions, owner, scores, words, target=1, fraction=0.2, seed=3)
    assert again.random_indices == f.random_indices and len(f.random_indices) == 1
    r = f.random_indices[0]
    expected_without = {1: 0.5}.get(r, 0.9)
    expected_only = {1: 0.9, 3: 0.5}.get(r, 0.1)
    assert f.prob_without_random == pytest.approx(expected_without)
    assert f.prob_only_random == pytest.approx(expected_only)
    two = faithfulness(fake_model, ids, positions, owner, scores, words, target=1, fraction=0.4)
    assert two.top_words == ["great", "good"] and two.prob_without_top == pytest.approx(0.1)
    assert faithfulness(fake_model, ids, positions, owner, [None] * 5, words, target=1) is None
