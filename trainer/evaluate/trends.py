"""What changes over time in scored text: each label's share per time bucket and alerts.

Alerts, the rule: for every time bucket and group (and all groups together), the bucket's mix of labels
is compared with the previous BASELINE buckets' by one joint test (joint_test): a bucket's label shares
sum to one, so "negative up" and "positive down" in a two-label run are one event, tested once. Where the
model's probabilities are known (a monitor of a text run) the test compares the mean probability of each
label, which carries more of what the model knows than its top label alone; elsewhere each text counts
for its predicted label and the test is Pearson's chi-square test of the 2 x K table. The significance
level ALPHA is split over the series tested in a bucket (Bonferroni), so on text whose label shares do
not change, a bucket raises a false alarm at most ALPHA of the time (1 in 100). A monitor tests a bucket
that is still filling at a part of that level (trainer.evaluate.trends.Looks) so that testing it again as
it fills does not raise the rate. A bucket needs MIN_TEXTS texts and its baseline MIN_BASELINE texts over
at least MIN_BUCKETS buckets before it is tested at all. trainer.evaluate.simulate measures the false-alarm
rate and the power of this rule.

Drift (how new texts compare with the training data) is trainer.evaluate.drift; its names are kept here too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from trainer.evaluate.drift import VERDICT_SENTENCES, Drift, drift  # noqa: F401 (their old home)

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


@dataclass
class Moments:
    """What the rule needs of one series' bucket: its text count, and the sums of each text's label
    probabilities and of their products (a text counted by its predicted label alone is a one-hot row)."""

    n: float
    s1: np.ndarray  # (K,) sums of each label's probability
    s2: np.ndarray  # (K, K) sums of their products
    hits: np.ndarray  # (K,) texts predicted each label

    @classmethod
    def of(cls, probs: np.ndarray, predicted: np.ndarray | None = None) -> Moments:
        """From one row of label probabilities per text, and the label each was counted under (by default
        its most probable)."""
        probs = np.asarray(probs, dtype=np.float64).reshape(len(probs), -1)
        predicted = probs.argmax(1) if predicted is None else np.asarray(predicted, dtype=np.int64)
        hits = np.bincount(predicted, minlength=probs.shape[1]).astype(np.float64)
        return cls(float(len(probs)), probs.sum(0), probs.T @ probs, hits)

    @classmethod
    def of_counts(cls, counts: np.ndarray) -> Moments:
        counts = np.asarray(counts, dtype=np.float64)
        return cls(float(counts.sum()), counts, np.diag(counts), counts)

    def __add__(self, other: Moments) -> Moments:
        return Moments(self.n + other.n, self.s1 + other.s1, self.s2 + other.s2, self.hits + other.hits)

    @property
    def shares(self) -> np.ndarray:
        """The share of texts predicted each label (what the trend shows)."""
        return self.hits / max(self.n, 1.0)


def joint_test(base: Moments, now: Moments) -> tuple[float, np.ndarray]:
    """Did the bucket's label mix move from the baseline's? One test of all labels together (their
    shares sum to one, so K labels are K-1 free numbers): the difference of the mean label probabilities,
    against its covariance when nothing changed (pooled), is chi-square with K-1 degrees of freedom.
    With one-hot rows this is Pearson's chi-square test of the 2 x K table. Returns (p, z per label)."""
    from scipy.stats import chi2

    total = base + now
    mean = total.s1 / total.n
    cov = (total.s2 / total.n - np.outer(mean, mean)) * total.n / max(total.n - 1, 1.0)
    var = cov * (1 / now.n + 1 / base.n)
    diff = now.s1 / now.n - base.s1 / base.n
    values, vectors = np.linalg.eigh(var)
    keep = values > 1e-10 * max(values.max(), 1e-300)
    if not keep.any():
        return 1.0, np.zeros(len(diff))
    statistic = float(((vectors[:, keep].T @ diff) ** 2 / values[keep]).sum())
    z = np.divide(diff, np.sqrt(np.clip(np.diag(var), 1e-300, None)))
    return float(chi2.sf(statistic, int(keep.sum()))), z


def moments_from_counts(
    counts: pd.DataFrame, labels: list[str] | None = None
) -> tuple[list[str], dict[tuple[str, pd.Timestamp], Moments]]:
    """Per-bucket counts (bucket, group, label, n) as one-hot moments per (group, bucket), the labels in
    the order given (by default sorted)."""
    table = counts.pivot_table(
        index=["group", "bucket"], columns="label", values="n", aggfunc="sum", fill_value=0
    )
    if labels is not None:
        table = table.reindex(columns=labels, fill_value=0)
    per = {(str(g), pd.Timestamp(b)): Moments.of_counts(row) for (g, b), row in zip(table.index, table.to_numpy(), strict=True)}  # fmt: skip
    return [str(c) for c in table.columns], per


def _reported(labels: list[str], z: np.ndarray, level: float) -> list[int]:
    """The labels an alert names, one event told once: with two labels the one that rose (its fall is the
    other's rise); with more, each that rose clearly (its own shift clears the level shared over the
    labels), else each that fell clearly, else the one that moved most."""
    from scipy.stats import norm

    if len(labels) == 2:
        return [int(np.argmax(z))]
    cut = norm.isf(level / (2 * len(labels)))
    rose, fell = np.flatnonzero(z >= cut), np.flatnonzero(z <= -cut)
    chosen = rose if len(rose) else fell
    return [int(i) for i in chosen] or [int(np.argmax(np.abs(z)))]


def alerts(
    counts: pd.DataFrame | None = None,
    alpha: float = ALPHA,
    baseline: int = BASELINE,
    moments: tuple[list[str], dict[tuple[str, pd.Timestamp], Moments]] | None = None,
    only: set | None = None,
    level: Callable[[str, pd.Timestamp], float] | None = None,
) -> list[Alert]:
    """Alerts, strongest first, over per-bucket counts (bucket, group, label, n) or per-bucket moments.

    `only` limits the buckets tested (the ones a batch touched); `level(group, bucket)` is the part of the
    bucket's level this look may spend (a monitor tests a bucket still filling at a stricter level)."""
    if moments is None:
        if counts is None or counts.empty:
            return []
        moments = moments_from_counts(counts)
    labels, per = moments
    if not per:
        return []
    series: dict[str, list[pd.Timestamp]] = {}
    for group, bucket in per:
        series.setdefault(group, []).append(bucket)
    tests = max(1, len(series))
    found: list[Alert] = []
    for group, starts in series.items():
        starts.sort()
        for position in range(MIN_BUCKETS, len(starts)):
            start = starts[position]
            if only is not None and start not in only:
                continue
            now = per[(group, start)]
            window = starts[max(0, position - baseline) : position]
            base = per[(group, window[0])]
            for earlier in window[1:]:
                base = base + per[(group, earlier)]
            if now.n < MIN_TEXTS or base.n < MIN_BASELINE:
                continue
            share = (level(group, start) if level else 1.0) * alpha / tests
            p_value, z = joint_test(base, now)
            if p_value >= share:
                continue
            for i in _reported(labels, z, share):
                found.append(Alert(start.date().isoformat(), None if group == ALL_GROUPS else str(group), labels[i],
                                   round(float(now.shares[i]), 4), round(float(base.shares[i]), 4),
                                   "up" if z[i] > 0 else "down", int(round(now.n)), int(round(now.hits[i])),
                                   p_value, len(window)))  # fmt: skip
    found.sort(key=lambda a: (a.p_value, a.bucket_start))
    return found


PARTIAL = 0.2  # the part of a bucket's level kept for the looks at it while it is still filling


class Looks:
    """The level each look at a bucket may spend, so that testing a bucket again and again as it fills
    keeps its false-alarm rate: the first look at the bucket once it is complete (a later text exists)
    spends 1 - PARTIAL of its level; every other look, before it or after (late texts), spends half of
    what is left of PARTIAL (PARTIAL/2, PARTIAL/4, ...). The parts add up to less than the whole level,
    so by the union bound the bucket still raises a false alarm at most ALPHA of the time."""

    def __init__(self, state: dict[tuple[str, pd.Timestamp], tuple[bool, int]] | None = None) -> None:
        self.state = dict(state or {})  # (group, bucket) -> (complete look spent, other looks spent)

    def spend(self, group: str, bucket: pd.Timestamp, complete: bool) -> float:
        done, others = self.state.get((group, bucket), (False, 0))
        if complete and not done:
            self.state[(group, bucket)] = (True, others)
            return 1 - PARTIAL
        self.state[(group, bucket)] = (done, others + 1)
        return PARTIAL / 2 ** (others + 1)
