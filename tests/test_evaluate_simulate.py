"""The alert rule measured: false alarms on unchanged streams (two and many labels, counts and
probabilities, buckets still filling) and the power to catch a surge, as the page and the note state."""

from __future__ import annotations

import numpy as np
import pandas as pd

from trainer.evaluate import simulate, trends


def test_false_alarms_on_unchanged_streams_stay_at_the_stated_rate_for_two_and_many_labels():
    for labels, groups, count, soft in (
        (2, 3, 50, False),
        (6, 2, 30, False),
        (2, 1, 50, True),
        (5, 2, 40, True),
    ):
        rate = simulate.false_alarm_rate(
            labels=labels, groups=groups, buckets=30, count=count, seeds=40, soft=soft
        )
        assert rate <= 2 * trends.ALPHA, (labels, groups, soft, rate)  # 1 in 100, over about 1,000 buckets
    # the level shared over the series is what keeps it there: spent whole on each it is far higher
    shared = simulate.false_alarm_rate(labels=3, groups=3, count=50, seeds=40)
    whole = simulate.false_alarm_rate(labels=3, groups=3, count=50, seeds=40, alpha=trends.ALPHA * 4)
    assert whole > 2 * max(shared, 0.004)


def test_a_bucket_tested_every_day_as_it_fills_keeps_the_stated_rate():
    rate = simulate.partial_false_alarm_rate(labels=2, weeks=20, per_day=10, seeds=30)
    assert rate <= 2 * trends.ALPHA
    # each daily look at the whole level would raise it several times over
    assert simulate.partial_false_alarm_rate(labels=2, weeks=20, per_day=10, seeds=30, spend=False) > 2 * max(
        rate, 0.005
    )


def test_looks_at_a_bucket_never_spend_more_than_its_level():
    looks = trends.Looks()
    week = pd.Timestamp("2026-03-02")
    spent = [looks.spend("(all)", week, complete=False) for _ in range(6)]
    spent += [looks.spend("(all)", week, complete=True), looks.spend("(all)", week, complete=True)]
    assert spent[6] == 1 - trends.PARTIAL and sum(spent) < 1
    assert looks.spend("(all)", week + pd.Timedelta(weeks=1), complete=True) == 1 - trends.PARTIAL


def test_a_doubling_at_50_texts_and_80_percent_accuracy_is_caught_eight_times_in_ten():
    # a label at 40% doubling to 80% in one bucket, 50 texts a bucket, read by a model right 80% of the time
    assert simulate.power(2.0, 50, 0.8, first=0.4, seeds=300) >= 0.8
    # more texts and a better model catch more; a smaller surge less
    from_30 = simulate.power(2.0, 50, 0.8, first=0.3, seeds=300)
    assert simulate.power(2.0, 200, 0.8, first=0.3, seeds=300) > from_30 + 0.2
    assert simulate.power(2.0, 50, 0.95, first=0.3, seeds=300) > from_30 + 0.15
    assert simulate.power(1.5, 50, 0.8, first=0.3, seeds=300) < from_30
    # the model's probabilities carry more than its top label alone
    assert simulate.power(2.0, 50, 0.8, first=0.4, seeds=300) > simulate.power(
        2.0, 50, 0.8, first=0.4, seeds=300, soft=False
    )


def test_many_label_power_and_the_simulated_model_has_its_accuracy():
    rng = np.random.default_rng(0)
    shares = np.full(4, 0.25)
    probs = simulate.texts(rng, shares, 20000, 0.8, shares)
    mean_top = probs.max(1).mean()  # calibrated: the mean top probability is the accuracy
    assert abs(mean_top - 0.8) < 0.02
    assert simulate.power(3.0, 50, 0.8, labels=4, first=0.2, seeds=200) >= 0.8


def stream(
    weeks: int, groups: dict[str, int], shares: dict[str, float], surge: dict | None = None
) -> pd.DataFrame:
    """Exact counts per week (no noise), so the test reads the rule, not the draw."""
    rows = []
    for week in range(weeks):
        start = pd.Timestamp("2026-01-05") + pd.Timedelta(weeks=week)
        for group, count in groups.items():
            now = surge["shares"] if surge and surge["week"] == week and surge["group"] == group else shares
            for label, share in now.items():
                rows.append({"bucket": start, "group": group, "label": label, "n": round(count * share)})
    frame = pd.DataFrame(rows)
    total = frame.groupby(["bucket", "label"], as_index=False)["n"].sum().assign(group=trends.ALL_GROUPS)
    return pd.concat([frame, total], ignore_index=True)


def test_the_week_the_old_rule_missed_is_alerted_once_as_negative_up():
    # three topics of 50 texts a week; Banking's predicted negative share 0.36 for 8 weeks, then 0.60
    counts = stream(
        9,
        {"Banking": 50, "Energy": 50, "Retail": 50},
        {"negative": 0.36, "positive": 0.64},
        {"week": 8, "group": "Banking", "shares": {"negative": 0.60, "positive": 0.40}},
    )
    found = trends.alerts(counts)
    assert [(a.group, a.label, a.direction, a.bucket_start) for a in found] == [
        ("Banking", "negative", "up", "2026-03-02")
    ]
    assert found[0].p_value < trends.ALPHA / 4 and found[0].share == 0.6
    # Fisher's test per label, the level shared over 2 labels x 4 series, missed it
    from scipy.stats import fisher_exact

    _, p = fisher_exact([[30, 20], [144, 256]])
    assert p > trends.ALPHA / 8


def test_the_power_table_the_pages_show_is_what_the_rule_does():
    shown = {(r["accuracy"], r["texts"], r["from"], r["surge"]): r for r in simulate.shown_power()}
    assert len(shown) == 16
    for key in ((0.8, 50, 0.3, 2.0), (0.8, 50, 0.4, 2.0), (0.95, 200, 0.3, 1.5)):
        accuracy, count, first, surge = key
        again = simulate.power(surge, count, accuracy, first=first, seeds=300, seed=7)
        assert abs(again - shown[key]["alone"]) < 0.08, (key, again, shown[key])


def test_with_many_labels_a_surge_is_named_by_the_label_that_rose():
    shares = {"negative": 0.2, "neutral": 0.4, "positive": 0.3, "mixed": 0.1}
    surge = {"negative": 0.6, "neutral": 0.2, "positive": 0.15, "mixed": 0.05}
    counts = stream(10, {"Banking": 100}, shares, {"week": 9, "group": "Banking", "shares": surge})
    found = trends.alerts(counts)
    assert {(a.group, a.label, a.direction) for a in found} == {
        ("Banking", "negative", "up"),
        (None, "negative", "up"),
    }
