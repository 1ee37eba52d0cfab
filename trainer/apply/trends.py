"""What changes over time in scored text: each label's share per time bucket, alerts, and drift.

Alerts, the rule: for every time bucket, label and group (and all groups together), the bucket's count
of the label is compared with the previous BASELINE buckets' count by Fisher's exact test (two-sided),
which takes the uncertainty of both into account. The significance level ALPHA is split over every label
and group tested in that bucket (Bonferroni), so on text whose label shares do not change, a bucket
raises a false alarm at most ALPHA of the time (1 in 100). A bucket needs MIN_TEXTS texts and its
baseline MIN_BASELINE texts over at least MIN_BUCKETS buckets before it is tested at all.

Drift, the rule: the share of untrusted texts (trainer.apply.score) against what the validation split had,
and the drop of the confidence distribution below the validation split's (a one-sided two-sample
Kolmogorov-Smirnov distance, counted when the test says p < 0.01, so that a small validation split does
not cry wolf), give a plain verdict.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

BASELINE = 8  # buckets before the one tested
MIN_BUCKETS = 3
MIN_TEXTS = 10
MIN_BASELINE = 30
ALPHA = 0.01  # per bucket: the chance that a bucket with no change raises an alarm
BUCKETS = ("day", "week", "month")
ALL_GROUPS = "(all)"


def choose_bucket(first: pd.Timestamp, last: pd.Timestamp) -> str:
    """day for up to two months, week up to two years, month beyond."""
    span = (last - first).days
    return "day" if span <= 62 else "week" if span <= 730 else "month"


def bucket_starts(times: pd.Series, bucket: str) -> pd.Series:
    """The start of each time's bucket (weeks start on Monday)."""
    times = pd.to_datetime(times)
    if bucket == "day":
        return times.dt.normalize()
    if bucket == "week":
        return (times - pd.to_timedelta(times.dt.weekday, unit="D")).dt.normalize()
    return times.dt.to_period("M").dt.start_time


def parse_times(values: Iterable[str]) -> pd.Series:
    """Dates or timestamps as they come in a file; NaT where a value is not one."""
    series = pd.Series(list(values), dtype=str)
    parsed = pd.to_datetime(series, errors="coerce", utc=True, format="mixed")
    return parsed.dt.tz_convert(None)


TIME_NAMES = ("date", "time", "timestamp", "published", "created", "day", "posted", "sent", "received")
GROUP_NAMES = ("topic", "channel", "product", "category", "group", "source", "team", "region", "brand")


def propose_time_column(frame: pd.DataFrame, exclude: Iterable[str] = ()) -> str | None:
    """The column that holds dates or timestamps (nine in ten of its first values parse), if any."""
    found = []
    for column in frame.columns:
        if column in set(exclude):
            continue
        values = frame[column].dropna().astype(str).str.strip()
        values = values[values != ""].head(200)
        if len(values) < 2 or values.str.fullmatch(r"[-+]?\d+(\.\d+)?").all():  # numbers are not dates
            continue
        if parse_times(values).notna().mean() >= 0.9:
            named = any(name in str(column).lower() for name in TIME_NAMES)
            found.append((not named, list(frame.columns).index(column), column))
    return min(found)[2] if found else None


def propose_group_column(frame: pd.DataFrame, exclude: Iterable[str] = ()) -> str | None:
    """A column of a few repeated categories (a topic, channel or product), if any."""
    found = []
    for column in frame.columns:
        if column in set(exclude):
            continue
        values = frame[column].dropna().astype(str).str.strip()
        values = values[values != ""]
        distinct = values.nunique()
        if len(values) < 10 or not 2 <= distinct <= min(50, len(values) // 5):
            continue
        if values.str.len().mean() > 40:  # long cells: text, not a category
            continue
        named = any(name in str(column).lower() for name in GROUP_NAMES)
        found.append((not named, distinct, column))
    return min(found)[2] if found else None


def shares(counts: pd.DataFrame) -> pd.DataFrame:
    """From per-bucket counts (bucket, group, label, n): add each label's share of its bucket and group."""
    totals = counts.groupby(["bucket", "group"])["n"].transform("sum")
    return counts.assign(share=counts["n"] / totals, total=totals)


@dataclass
class Alert:
    """A bucket where a label's share departed from its recent baseline beyond chance."""

    bucket_start: str  # ISO date
    group: str | None  # None: all groups together
    label: str
    share: float
    baseline_share: float
    direction: str  # "up" | "down"
    n: int  # texts in the bucket (of that group)
    count: int  # of them with this label
    p_value: float
    baseline_buckets: int = BASELINE  # how many buckets the baseline had

    def to_dict(self) -> dict:
        return asdict(self)


def alerts(counts: pd.DataFrame, alpha: float = ALPHA, baseline: int = BASELINE) -> list[Alert]:
    """Alerts over per-bucket counts with columns bucket (timestamp), group, label, n; strongest first."""
    from scipy.stats import fisher_exact

    if counts.empty:
        return []
    table = counts.pivot_table(
        index=["group", "bucket"], columns="label", values="n", aggfunc="sum", fill_value=0
    )
    labels = list(table.columns)
    found: list[Alert] = []
    for group, frame in table.groupby(level="group"):
        frame = frame.droplevel("group").sort_index()
        totals = frame.sum(axis=1)
        for position in range(MIN_BUCKETS, len(frame)):
            n = int(totals.iloc[position])
            window = frame.iloc[max(0, position - baseline) : position]
            base_n = int(window.to_numpy().sum())
            if n < MIN_TEXTS or base_n < MIN_BASELINE:
                continue
            tests = len(labels) * max(1, table.index.get_level_values("group").nunique())
            for label in labels:
                k, base_k = int(frame.iloc[position][label]), int(window[label].sum())
                _, p_value = fisher_exact([[k, n - k], [base_k, base_n - base_k]])
                if p_value < alpha / tests:
                    share, base_share = k / n, base_k / base_n
                    found.append(
                        Alert(
                            frame.index[position].date().isoformat(),
                            None if group == ALL_GROUPS else str(group),
                            str(label),
                            round(share, 4),
                            round(base_share, 4),
                            "up" if share > base_share else "down",
                            n,
                            k,
                            float(p_value),
                            len(window),
                        )  # fmt: skip
                    )
    found.sort(key=lambda a: (a.p_value, a.bucket_start))
    return found


def false_alarm_rate(
    labels: int = 3, groups: int = 2, buckets: int = 30, texts: int = 60, seeds: int = 200
) -> float:
    """The share of buckets that raise any alert (any label, any group) when nothing changes, simulated
    over `seeds` series of `buckets` buckets with about `texts` texts per group and bucket."""
    rng = np.random.default_rng(0)
    alarms = tested = 0
    shares_ = np.full(labels, 1 / labels)
    for _ in range(seeds):
        rows = []
        for g in range(groups):
            for b in range(buckets):
                counts = rng.multinomial(rng.poisson(texts), shares_)
                rows += [{"bucket": pd.Timestamp("2026-01-05") + pd.Timedelta(weeks=b), "group": f"g{g}",
                          "label": f"l{i}", "n": int(c)} for i, c in enumerate(counts)]  # fmt: skip
        frame = pd.DataFrame(rows)
        found = alerts(frame)
        alarms += len({a.bucket_start for a in found})
        tested += buckets - MIN_BUCKETS
    return alarms / tested


@dataclass
class Drift:
    """How new texts compare with what the model was trained and checked on, with a plain verdict."""

    verdict: str  # "similar" | "some drift" | "strong drift"
    sentence: str
    untrusted_share: float
    expected_untrusted_share: float
    confidence_distance: float  # how far confidence dropped below the validation split's (KS; 0 if by chance)
    mean_confidence: float
    validation_mean_confidence: float
    unknown_token_share: float | None
    training_unknown_token_share: float | None

    def to_dict(self) -> dict:
        return asdict(self)


def drift(
    confidences: np.ndarray,
    validation_confidences: np.ndarray,
    untrusted_share: float,
    expected_untrusted_share: float,
    unknown_token_share: float | None = None,
    training_unknown_token_share: float | None = None,
) -> Drift:
    """A verdict a non-engineer understands, from the confidence and untrusted shares."""
    from scipy.stats import ks_2samp

    distance = 0.0
    if len(confidences) and len(validation_confidences):  # only a drop in confidence, and only beyond chance
        test = ks_2samp(confidences, validation_confidences, alternative="greater", method="asymp")
        distance = float(test.statistic) if test.pvalue < 0.01 else 0.0
    ratio = untrusted_share / max(expected_untrusted_share, 1e-9)
    unknown = (unknown_token_share or 0) - (training_unknown_token_share or 0)
    if ratio <= 2 and distance <= 0.15 and unknown <= 0.02:
        verdict, head = "similar", "The new texts look like the ones the model was trained on"
    elif ratio <= 4 and distance <= 0.3 and unknown <= 0.05:
        verdict, head = "some drift", "The new texts differ somewhat from the training data"
    else:
        verdict, head = (
            "strong drift",
            "The new texts differ clearly from the training data: check the predictions",
        )
    sentence = (
        f"{head}. {untrusted_share:.0%} of them are untrusted (on its own validation texts the model had "
        f"{expected_untrusted_share:.0%}); the model is on average {np.mean(confidences) if len(confidences) else 0:.0%} "
        f"confident here against {np.mean(validation_confidences) if len(validation_confidences) else 0:.0%} there."
    )
    if unknown_token_share is not None and unknown > 0.02:
        sentence += f" {unknown_token_share:.0%} of their words are unknown to the model's vocabulary."
    if verdict != "similar":
        sentence += " Label some of the untrusted texts and train again."
    mean_conf = float(np.mean(confidences)) if len(confidences) else 0.0
    val_conf = float(np.mean(validation_confidences)) if len(validation_confidences) else 0.0
    return Drift(verdict, sentence, float(untrusted_share), float(expected_untrusted_share), distance, mean_conf,
                 val_conf, unknown_token_share, training_unknown_token_share)  # fmt: skip
