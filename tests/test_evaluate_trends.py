"""Trends over time: buckets, the alert rule (false alarms on unchanged data, a planted surge found), drift."""

from __future__ import annotations

import numpy as np
import pandas as pd

from trainer.evaluate import trends


def weekly_counts(shares: dict[str, float], weeks: int, texts: int, seed: int, group: str = "(all)",
                  surge: tuple[int, dict[str, float]] | None = None) -> pd.DataFrame:  # fmt: skip
    """Multinomial label counts per week; `surge` = (week, shares) replaces the shares in one week."""
    rng = np.random.default_rng(seed)
    rows = []
    for week in range(weeks):
        now = surge[1] if surge and surge[0] == week else shares
        counts = rng.multinomial(texts, list(now.values()))
        start = pd.Timestamp("2026-01-05") + pd.Timedelta(weeks=week)
        rows += [{"bucket": start, "group": group, "label": label, "n": int(n)} for label, n in zip(now, counts, strict=True)]  # fmt: skip
    return pd.DataFrame(rows)


def test_bucket_is_chosen_from_the_span_and_weeks_start_on_monday():
    day = pd.Timestamp("2026-03-01")
    assert trends.choose_bucket(day, day + pd.Timedelta(days=30)) == "day"
    assert trends.choose_bucket(day, day + pd.Timedelta(days=200)) == "week"
    assert trends.choose_bucket(day, day + pd.Timedelta(days=1000)) == "month"
    times = pd.Series(pd.to_datetime(["2026-07-22 13:05", "2026-07-26 23:59", "2026-07-27 00:01"]))
    weeks = trends.bucket_starts(times, "week").dt.date.astype(str).tolist()
    assert weeks == ["2026-07-20", "2026-07-20", "2026-07-27"]
    assert trends.bucket_starts(times, "month").dt.date.astype(str).tolist() == ["2026-07-01"] * 3


def test_dates_in_mixed_formats_parse_and_junk_does_not():
    parsed = trends.parse_times(["2026-07-20", "2026-07-20T10:00:00Z", "20 July 2026", "soon", ""])
    assert parsed.iloc[:3].dt.date.astype(str).tolist() == ["2026-07-20"] * 3
    assert parsed.iloc[3:].isna().all()


def test_time_and_group_columns_are_proposed():
    frame = pd.DataFrame(
        {
            "id": [str(i) for i in range(40)],
            "posted_at": [f"2026-07-{1 + i % 28:02d} 10:00" for i in range(40)],
            "message": [f"a long message about the order number {i} that did not arrive" for i in range(40)],
            "channel": ["email", "chat", "phone", "app"] * 10,
        }
    )
    assert trends.propose_time_column(frame, ["message"]) == "posted_at"
    assert trends.propose_group_column(frame, ["message", "posted_at"]) == "channel"
    assert trends.propose_time_column(frame[["id", "message"]], ["message"]) is None


def test_a_planted_surge_is_found_with_its_bucket_group_label_and_direction():
    base = {"negative": 0.2, "neutral": 0.4, "positive": 0.4}
    surge = {"negative": 0.55, "neutral": 0.25, "positive": 0.2}
    counts = pd.concat(
        [
            weekly_counts(base, 12, 60, seed=1, group="Banking", surge=(9, surge)),
            weekly_counts(base, 12, 60, seed=2, group="Energy"),
        ]
    )
    found = trends.alerts(counts)
    first = found[0]
    assert (first.bucket_start, first.group, first.label, first.direction) == (
        "2026-03-09",
        "Banking",
        "negative",
        "up",
    )
    assert first.share > 0.4 and first.baseline_share < 0.3 and first.n == 60
    assert first.baseline_buckets == trends.BASELINE
    assert all(a.group == "Banking" and a.bucket_start == "2026-03-09" for a in found)


def test_too_few_texts_or_too_short_a_history_raise_no_alert():
    base = {"a": 0.5, "b": 0.5}
    tiny = weekly_counts(base, 10, 5, seed=0, surge=(8, {"a": 1.0, "b": 0.0}))  # 5 texts a week
    assert trends.alerts(tiny) == []
    early = weekly_counts(base, 3, 100, seed=0, surge=(2, {"a": 0.95, "b": 0.05}))  # no baseline yet
    assert trends.alerts(early) == []


def test_drift_verdicts_for_similar_and_shifted_text():
    rng = np.random.default_rng(0)
    validation = rng.beta(8, 1.5, 300)
    same = trends.drift(rng.beta(8, 1.5, 5000), validation, 0.06, 0.05, 0.001, 0.001)
    assert same.verdict == "similar"
    assert "look like" in same.sentence
    shifted = trends.drift(rng.beta(2, 2, 5000), validation, 0.4, 0.05, 0.2, 0.001)
    assert shifted.verdict == "strong drift"
    assert shifted.confidence_distance > 0.3
    assert "unknown" in shifted.sentence and "train again" in shifted.sentence
    # more confident than on validation is not drift
    surer = trends.drift(np.clip(rng.beta(8, 1.5, 5000) + 0.05, 0, 1), validation, 0.05, 0.05)
    assert surer.confidence_distance == 0.0 and surer.verdict == "similar"


def test_shares_add_up_to_one_per_bucket_and_group():
    counts = weekly_counts({"a": 0.3, "b": 0.7}, 6, 50, seed=3)
    table = trends.shares(counts)
    assert np.allclose(table.groupby(["bucket", "group"])["share"].sum(), 1.0)
    assert (table["total"] == 50).all()
