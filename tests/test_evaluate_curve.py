"""How many more labels: held-out points with intervals, the learning curve through them, and forecasts whose
intervals cover what a user will measure at their stated rate (checked by simulation)."""

from __future__ import annotations

import json
import math
import warnings
from statistics import NormalDist

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from threadpoolctl import threadpool_limits  # installed with scikit-learn

from trainer import i18n
from trainer.evaluate import curve as cv

HELDOUT = 400
ROUNDS = (10, 20, 40, 80)


def known(n: float, a: float = 0.92, b: float = 0.6, c: float = 0.5) -> float:
    return a - b * n**-c


def point(labels: int, score: float, heldout: int = HELDOUT, level: float = 0.9) -> cv.Point:
    """A point with the normal-approximation interval of a share (what `measure` gives for accuracy, without
    the bootstrap's cost: the simulations below make thousands)."""
    half = NormalDist().inv_cdf((1 + level) / 2) * math.sqrt(max(score * (1 - score), 1e-6) / heldout)
    return cv.Point(labels, score, score - half, score + half, heldout, level)


def measured(rng: np.random.Generator, curve=known, rounds=ROUNDS) -> list[cv.Point]:
    """Accuracy at each round, measured on HELDOUT rows (binomial noise) around the true curve."""
    return [point(n, rng.binomial(HELDOUT, curve(n)) / HELDOUT) for n in rounds]


def tolerance(rate: float, trials: int, z: float = 3.29) -> tuple[float, float]:
    """The range a covered fraction falls in (but one time in a thousand) when the true rate is `rate`:
    `trials` simulations make the fraction binomial with sd sqrt(rate(1-rate)/trials); z = 3.29 is the
    two-sided 99.9% normal quantile."""
    half = z * math.sqrt(rate * (1 - rate) / trials)
    return rate - half, rate + half


# ---------------------------------------------------------------- measuring one point


def test_measure_gives_the_score_and_an_interval_that_narrows_with_more_heldout_rows():
    rng = np.random.default_rng(0)
    gold = rng.choice(["x", "y", "z"], 300, p=[0.6, 0.3, 0.1]).tolist()
    predicted = [g if rng.random() < 0.75 else str(rng.choice(["x", "y", "z"])) for g in gold]
    right = sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold)

    accuracy = cv.measure(50, gold, predicted)
    assert accuracy.score == pytest.approx(right)
    assert accuracy.ci_low < accuracy.score < accuracy.ci_high
    assert (accuracy.labels, accuracy.heldout) == (50, 300)
    macro = cv.measure(50, gold, predicted, metric="macro_f1")
    assert macro.score == pytest.approx(f1_score(gold, predicted, average="macro", labels=sorted(set(gold))))
    assert macro.ci_low < macro.score < macro.ci_high

    ten_times = cv.measure(50, gold * 10, predicted * 10)
    assert ten_times.score == pytest.approx(accuracy.score)
    width, narrower = accuracy.ci_high - accuracy.ci_low, ten_times.ci_high - ten_times.ci_low
    assert narrower < width / 2  # ten times the rows: about sqrt(10) = 3.2 times narrower
    assert cv.measure(50, gold, predicted, seed=3) == cv.measure(50, gold, predicted, seed=3)
    with pytest.raises(ValueError):
        cv.measure(50, gold, predicted, metric="recall")


# ---------------------------------------------------------------- the curve and its forecast


def test_the_fit_finds_the_curve_behind_precise_points():
    points = [point(n, known(n), heldout=100_000) for n in (10, 20, 40, 80, 160, 320)]
    curve = cv.fit_curve(points)
    assert curve is not None
    assert (curve.a, curve.b, curve.c) == pytest.approx((0.92, 0.6, 0.5), abs=0.01)
    middle, low, high = cv.predict(points, 1000)
    assert middle == pytest.approx(known(1000), abs=0.002)
    assert low <= middle <= high


def test_a_reachable_target_has_an_interval_around_the_true_number_of_labels():
    true_n = math.ceil((0.6 / (0.92 - 0.88)) ** 2)  # 225 labels: where 0.92 - 0.6/sqrt(n) reaches 0.88
    inside, forecasts = 0, []
    for seed in range(20):
        found = cv.forecast(measured(np.random.default_rng(seed)), [0.88], level=0.8, seed=seed)[0]
        forecasts.append(found)
        inside += (
            found.low is not None and found.low <= true_n and (found.high is None or true_n <= found.high)
        )
    # an 80% interval holds 16 of 20 on average; fewer than 12 happens about 1 time in 100
    assert inside >= 12
    first = forecasts[0]
    assert first.target == 0.88 and first.level == 0.8
    assert first.labels is not None and first.low is not None and first.low <= first.labels
    assert first.high is None or first.labels <= first.high


def test_a_target_above_where_the_curve_levels_off_is_not_reached():
    # with four points up to 80 labels the level is loosely known, so ask for one far above it (0.92)
    not_reached = [cv.forecast(measured(np.random.default_rng(s)), [0.99], seed=s)[0] for s in range(20)]
    assert sum(f.labels is None for f in not_reached) >= 16
    points = measured(np.random.default_rng(0))
    found = cv.forecast(points, [0.99])
    assert found[0].labels is None and found[0].high is None
    words = cv.said(points, found, "accuracy")
    assert "0.99" in words[1] and "unlikely to bring the accuracy there" in words[1]


def test_the_words_say_the_score_how_many_more_labels_and_what_is_reached_already():
    points = measured(np.random.default_rng(2))
    found = cv.forecast(points, [0.75, 0.88])
    assert found[0].labels is not None and found[0].labels <= 80  # 0.75 is passed at about 13 labels
    assert found[1].labels is not None and found[1].labels > 80
    words = cv.said(points, found, "accuracy")
    last = points[-1]
    assert words[0] == (
        f"With 80 labels the held-out accuracy is {last.score:.2f} (between {last.ci_low:.2f} and "
        f"{last.ci_high:.2f})."
    )
    assert "already" in words[1] and "0.75" in words[1]
    more = found[1].labels - 80
    assert words[2].startswith(f"About {more:,} more labels for the accuracy to reach 0.88")
    assert "80% of cases" in words[2]
    with i18n.speaking("zh"):
        chinese = cv.said(points, found, "准确率")
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in w) for w in chinese)


def test_fewer_than_three_rounds_give_no_forecast_and_say_why():
    points = measured(np.random.default_rng(0), rounds=(10, 20))
    points.append(point(20, 0.8))  # a second point at 20 labels is not a third round
    found = cv.forecast(points, [0.85, 0.95])
    assert [(f.labels, f.low, f.high) for f in found] == [(None, None, None)] * 2
    assert all(math.isnan(v) for v in cv.predict(points, 200))
    words = cv.said(points, found, "macro-F1")
    assert len(words) == 2 and "3 rounds of labels" in words[1] and "there are 2 so far" in words[1]
    assert cv.said([], [], "macro-F1")  # no points at all: still a sentence, no error


def test_a_curve_that_cannot_be_fitted_gives_no_forecast_and_says_so():
    points = measured(np.random.default_rng(0))
    points[1] = cv.Point(20, float("nan"), 0.7, 0.8, HELDOUT)  # a round whose score could not be computed
    found = cv.forecast(points, [0.85])
    assert found[0].labels is None and found[0].low is None
    assert "no forecast" in cv.said(points, found, "accuracy")[1]


def test_perfect_scores_with_zero_width_intervals_still_fit():
    points = [cv.Point(n, s, s, s, 200) for n, s in ((10, 0.9), (20, 0.97), (40, 1.0), (80, 1.0))]
    found = cv.forecast(points, [0.99])
    assert found[0].labels is not None and found[0].labels <= 80
    middle, low, high = cv.predict(points, 160)
    assert 0.95 <= low <= middle <= high <= 1


# ---------------------------------------------------------------- coverage of the realised score


def test_the_predicted_interval_covers_the_realised_score_at_its_stated_rate():
    """Learners with known curves, measured at four rounds on 400 held-out rows; the 80% interval at 2x and
    3x the last round must cover the score then measured on a fresh held-out split of that size. Without the
    held-out noise of that future measurement the same intervals cover 0.72 here: outside the range."""
    rng = np.random.default_rng(11)
    trials, covered = 400, 0
    for trial in range(trials):
        a, b, c = rng.uniform(0.85, 0.95), rng.uniform(0.4, 0.9), rng.uniform(0.3, 0.8)

        def truth(n, a=a, b=b, c=c):
            return known(n, a, b, c)

        far = (160, 240)[trial % 2]
        _, low, high = cv.predict(measured(rng, truth), far, level=0.8, seed=trial)
        realised = rng.binomial(HELDOUT, truth(far)) / HELDOUT
        covered += low <= realised <= high
    low_rate, high_rate = tolerance(0.8, trials)  # 0.734 to 0.866 for 400 simulations
    assert low_rate <= covered / trials <= high_rate


def test_the_interval_covers_a_real_learner_on_digits():
    """Logistic regression on digits: nested training sets of 30, 60, 120 and 240 labels from a random pool,
    each scored by macro-F1 on a random 400-row held-out split; the realised score is the model trained on
    720 labels, scored the same way. Its curve is no exact power law, so this checks the method where a user
    would use it (in 800 simulations the coverage was 0.80; from 2 labels a class, before the curve's power-law
    part, it falls to about 0.74)."""
    features, target = load_digits(return_X_y=True)
    features = features / 16
    rng = np.random.default_rng(4)
    trials, covered = 80, 0
    for trial in range(trials):
        order = rng.permutation(len(target))
        held, pool = order[:HELDOUT], order[HELDOUT:]
        gold = [str(v) for v in target[held]]

        def score(n, pool=pool, held=held, gold=gold, trial=trial):
            # one BLAS thread: on a busy 2-core machine, threads for 64 features cost 4x the time they save
            with warnings.catch_warnings(), threadpool_limits(1):
                warnings.simplefilter("ignore")  # a small training set may lack classes or converge slowly
                model = LogisticRegression(max_iter=200).fit(features[pool[:n]], target[pool[:n]])
            predicted = [str(v) for v in model.predict(features[held])]
            return cv.measure(n, gold, predicted, metric="macro_f1", draws=300, seed=trial)

        _, low, high = cv.predict([score(n) for n in (30, 60, 120, 240)], 720, level=0.8, seed=trial)
        covered += low <= score(720).score <= high
    low_rate, high_rate = tolerance(0.8, trials)  # 0.65 to 0.95 for 80 simulations
    assert low_rate <= covered / trials <= high_rate


# ---------------------------------------------------------------- the record


def test_as_dict_is_plain_json_with_the_promised_keys():
    points = measured(np.random.default_rng(0))
    found = cv.forecast(points, [0.75, 0.88, 0.99])
    record = json.loads(json.dumps(cv.as_dict(points, found)))
    assert set(record) == {"points", "forecast"}
    assert len(record["points"]) == 4 and len(record["forecast"]) == 3
    for keys, rows in ((("labels", "score", "ci_low", "ci_high"), record["points"]),
                       (("target", "labels", "low", "high"), record["forecast"])):  # fmt: skip
        assert all(set(keys) <= set(row) <= set(keys) | {"heldout", "level"} for row in rows)
    assert record["points"][0]["labels"] == 10 and isinstance(record["points"][0]["score"], float)
    assert record["forecast"][2]["labels"] is None
    assert record["forecast"][1]["labels"] == found[1].labels and isinstance(found[1].labels, int)
