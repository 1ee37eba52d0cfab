"""trainer.attribution.token_words: subword scores summed back into the words they overlap."""

from __future__ import annotations

import numpy as np

from trainer import attribution as attr
from trainer.attribution import (
    aggregate_to_words,
)


def test_subword_scores_sum_into_words() -> None:
    spans = [(0, 5), (5, 6), (7, 12)]  # "Hello" "," "world"
    tokens = [(0, 3), (3, 5), (5, 6), (7, 12)]
    scores, owner = aggregate_to_words(tokens, [1.0, 2.0, -0.5, 4.0], spans)
    np.testing.assert_allclose(scores, [3.0, -0.5, 4.0])
    assert owner == [0, 0, 1, 2]


def test_a_token_over_two_words_is_split_by_characters_and_strays_go_to_the_nearest_word() -> None:
    spans = [(0, 3), (3, 4), (10, 12), (20, 22)]  # "abc" "!" ... "xy" ... "zz"
    tokens = [(0, 4), (13, 14), (18, 19)]  # over "abc!", a stray piece near "xy", one near "zz"
    scores, owner = aggregate_to_words(tokens, [4.0, 1.0, 2.0], spans)
    np.testing.assert_allclose(scores, [3.0, 1.0, 1.0, 2.0])
    assert owner == [0, 2, 3]
    untouched, _ = aggregate_to_words([(0, 3)], [1.0], spans)
    assert np.isnan(untouched[1:]).all()
    assert attr.read_scores(untouched, spans, (0, 3)) == [1.0, None, None, None]
    assert attr.read_scores(untouched, spans, (0, 22)) == [1.0, 0.0, 0.0, 0.0]
