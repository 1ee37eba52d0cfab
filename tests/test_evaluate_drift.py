"""Drift (trainer.evaluate.drift): a verdict decided by the size of a difference in the drift direction, not by
its p-value alone; the evidence named with its figures, formatted the one way the Apply page's tiles are."""

from __future__ import annotations

import numpy as np

from trainer.evaluate.drift import cohens_h, describe, drift, share


def clumped_validation(n: int) -> np.ndarray:
    """A model sure of most validation texts (0.99) and unsure of a few (0.5): mean about 0.94."""
    return np.where(np.arange(n) % 10 == 0, 0.5, 0.99)


def test_fewer_untrusted_and_a_reshaped_confidence_with_a_higher_mean_is_not_drift():
    # the case seen on Apply: 0.7% untrusted against 7% on validation, mean confidence a point higher,
    # yet the confidence distribution differs in shape (a large one-sided KS distance near the top)
    rng = np.random.default_rng(0)
    new = rng.uniform(0.94, 0.96, 1783)
    verdict = drift(new, clumped_validation(68), 12 / 1783, 0.07)
    assert verdict.verdict == "similar", verdict.sentence
    assert share(12 / 1783) == "0.7%" and "0.7%" in verdict.sentence and "7.0%" in verdict.sentence
    assert "fewer than there: no sign of drift" in verdict.sentence
    assert "higher than there" in verdict.sentence
    assert describe(verdict.to_dict()) == verdict.sentence, "the page rebuilds the same sentence"


def test_a_big_sample_with_a_tiny_difference_is_not_strong_drift():
    rng = np.random.default_rng(1)
    validation = rng.beta(8, 1.5, 50_000)
    new = np.clip(rng.beta(8, 1.5, 500_000) - 0.01, 0, 1)  # a point less sure, on half a million texts
    verdict = drift(new, validation, 0.06, 0.05)  # 6% untrusted against 5%
    untrusted, confidence = verdict.evidence[0], verdict.evidence[1]
    assert untrusted["measure"] == "untrusted" and untrusted["beyond_chance"], "significant on this sample"
    assert confidence["measure"] == "confidence" and confidence["beyond_chance"]
    assert verdict.confidence_distance > 0, "the KS test sees the shift"
    assert abs(untrusted["effect"] - cohens_h(0.06, 0.05)) < 1e-3 < untrusted["effect"] < 0.2
    assert untrusted["level"] == confidence["level"] == "none"
    assert verdict.verdict == "similar", verdict.sentence
    assert "1.0 points more (too small a difference to count)" in verdict.sentence


def test_a_large_increase_of_untrusted_texts_is_strong_drift_and_says_so():
    rng = np.random.default_rng(2)
    validation = rng.beta(8, 1.5, 300)
    verdict = drift(rng.beta(8, 1.5, 2000), validation, 0.30, 0.05)
    assert verdict.verdict == "strong drift"
    decided = verdict.sentence.split("What decided it:")[1].split("Also measured:")[0]
    assert "Untrusted texts: 30.0% here against 5.0% on the validation texts, 25.0 points more" in decided
    assert "a large difference, beyond chance" in decided
    assert "Mean confidence" not in decided, "only the measure that decided it comes first"
    assert verdict.sentence.endswith("Label some of the untrusted texts and train again.")


def test_a_moderate_increase_is_some_drift_and_a_small_validation_split_does_not_cry_wolf():
    rng = np.random.default_rng(3)
    validation = rng.beta(8, 1.5, 300)
    some = drift(rng.beta(8, 1.5, 2000), validation, 0.12, 0.05)  # h ≈ 0.26: a small effect
    assert some.verdict == "some drift" and "a moderate difference, beyond chance" in some.sentence
    few = drift(rng.beta(8, 1.5, 12), validation[:10], 2 / 12, 0.05)  # 17% of 12 texts against 5% of 10
    assert few.evidence[0]["effect"] > 0.2 and not few.evidence[0]["beyond_chance"]
    assert few.verdict == "similar" and "a difference chance could give" in few.sentence


def test_a_record_written_before_the_evidence_was_kept_gives_its_sentence():
    assert (
        describe({"verdict": "similar", "sentence": "Like the training data."}) == "Like the training data."
    )
