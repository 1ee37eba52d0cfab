"""The alert rule (trainer.evaluate.trends) measured by simulation: how often it raises a false alarm on text
whose label shares do not change, and how often it catches a surge of one label in one group and bucket.

The simulated model: each text's true label is drawn from the bucket's shares; the model sees a score per
label, the true label's raised by a margin set so that the model is right `accuracy` of the time on
balanced text, and gives calibrated probabilities (the posterior under the training shares). So the
model's mistakes blur a surge as a real model's do: at 80% accuracy a true rise from 30% to 60% shows as
a rise of the predicted share from about 38% to 56%.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pandas as pd

from trainer.evaluate.trends import ALPHA, BASELINE, Looks, Moments, alerts, bucket_starts, joint_test

SEEDS = 400


@functools.cache
def margin(accuracy: float, labels: int) -> float:
    """The score margin at which the simulated model is right `accuracy` of the time (balanced labels)."""
    from scipy import integrate, optimize
    from scipy.stats import norm

    def right(mu: float) -> float:
        return integrate.quad(lambda x: norm.pdf(x - mu) * norm.cdf(x) ** (labels - 1), -12, 12 + mu)[0]

    return float(optimize.brentq(lambda mu: right(mu) - accuracy, 0.0, 12.0))


def texts(rng: np.random.Generator, shares: np.ndarray, count: int, accuracy: float,
          prior: np.ndarray) -> np.ndarray:  # fmt: skip
    """`count` texts' label probabilities from the simulated model (rows sum to one)."""
    mu = margin(accuracy, len(shares))
    truth = rng.choice(len(shares), size=count, p=shares)
    scores = rng.normal(size=(count, len(shares)))
    scores[np.arange(count), truth] += mu
    logits = mu * scores + np.log(prior)
    logits -= logits.max(1, keepdims=True)
    probs = np.exp(logits)
    return probs / probs.sum(1, keepdims=True)


def surged(base: np.ndarray, surge: float) -> np.ndarray:
    """Label 0's share multiplied by `surge`, the others shrunk in proportion."""
    now = base.copy()
    now[0] = min(1.0, base[0] * surge)
    now[1:] = base[1:] * (1 - now[0]) / base[1:].sum()
    return now


def base_shares(labels: int, first: float) -> np.ndarray:
    return np.array([first] + [(1 - first) / (labels - 1)] * (labels - 1))


def power(surge: float, count: int, accuracy: float, labels: int = 2, first: float = 0.3, series: int = 1,
          soft: bool = True, seeds: int = SEEDS, seed: int = 0) -> float:  # fmt: skip
    """The share of `seeds` streams in which a bucket where label 0's true share is multiplied by `surge`
    (from `first`) raises the alert "label 0 up", with `count` texts in the bucket and in each of its
    BASELINE buckets before; `series` is how many series the bucket's level is shared over (groups and
    all groups together); `soft`: tested on the model's probabilities, else on its predicted labels."""
    rng = np.random.default_rng(seed)
    base, now = base_shares(labels, first), surged(base_shares(labels, first), surge)
    caught = 0
    for _ in range(seeds):
        before = texts(rng, base, count * BASELINE, accuracy, base)
        after = texts(rng, now, count, accuracy, base)
        if not soft:
            before, after = (np.eye(labels)[p.argmax(1)] for p in (before, after))
        p_value, z = joint_test(Moments.of(before), Moments.of(after))
        caught += p_value < ALPHA / series and int(np.argmax(z)) == 0 and z[0] > 0
    return caught / seeds


def power_table(seeds: int = SEEDS, labels: int = 2) -> pd.DataFrame:
    """The detection rate of a 1.5x, 2x and 3x surge of a label at 30% (and a doubling from 40%), at 50
    and 200 texts per bucket, by a model of 80% and 95% accuracy: one series alone, and one of 4 (3 groups
    and all together); tested on the model's probabilities, and on its predicted labels alone."""
    rows = []
    for accuracy in (0.8, 0.95):
        for count in (50, 200):
            for first, surge in ((0.3, 1.5), (0.3, 2.0), (0.3, 3.0), (0.4, 2.0)):
                kw = {"first": first, "labels": labels, "seeds": seeds}
                rows.append({"accuracy": accuracy, "texts": count, "from": first, "surge": surge,
                             "alone": power(surge, count, accuracy, **kw),
                             "of 4 series": power(surge, count, accuracy, series=4, **kw),
                             "labels only": power(surge, count, accuracy, soft=False, **kw)})  # fmt: skip
    return pd.DataFrame(rows)


def false_alarm_rate(labels: int = 3, groups: int = 2, buckets: int = 30, count: int = 60, seeds: int = 200,
                     soft: bool = False, accuracy: float = 0.8, alpha: float = ALPHA) -> float:  # fmt: skip
    """The share of buckets that raise any alert (any label, any group) when nothing changes, over `seeds`
    streams of `buckets` weekly buckets with about `count` texts per group and bucket; `soft`: the
    texts come with the simulated model's probabilities, else as counts of predicted labels."""
    rng = np.random.default_rng(0)
    shares = np.full(labels, 1 / labels)
    alarms = tested = 0
    names = [f"l{i}" for i in range(labels)]
    for _ in range(seeds):
        per = {}
        for g in range(groups):
            for b in range(buckets):
                n = max(1, rng.poisson(count))
                start = pd.Timestamp("2026-01-05") + pd.Timedelta(weeks=b)
                per[(f"g{g}", start)] = (Moments.of(texts(rng, shares, n, accuracy, shares)) if soft
                                         else Moments.of_counts(rng.multinomial(n, shares)))  # fmt: skip
        for b in range(buckets):  # all groups together
            start = pd.Timestamp("2026-01-05") + pd.Timedelta(weeks=b)
            total = per[("g0", start)]
            for g in range(1, groups):
                total = total + per[(f"g{g}", start)]
            per[("(all)", start)] = total
        found = alerts(moments=(names, per), alpha=alpha)
        alarms += len({a.bucket_start for a in found})
        tested += buckets - 3
    return alarms / tested


def partial_false_alarm_rate(labels: int = 2, weeks: int = 20, per_day: int = 10, seeds: int = 40,
                             spend: bool = True) -> float:  # fmt: skip
    """The same on a stream that arrives one day at a time into weekly buckets: each day's batch tests the
    week it touched (still filling) and the week it completed, with the level Looks gives each look
    (`spend=False`: every look at the whole level, as if each were the only one)."""
    rng = np.random.default_rng(1)
    shares = np.full(labels, 1 / labels)
    names = [f"l{i}" for i in range(labels)]
    alarmed = tested = 0
    first = pd.Timestamp("2026-01-05")
    for _ in range(seeds):
        looks, counts, raised = Looks(), {}, set()
        for day in range(weeks * 7):
            today = first + pd.Timedelta(days=day)
            week = bucket_starts(pd.Series([today]), "week").iloc[0]
            counts[week] = counts.get(week, np.zeros(labels)) + rng.multinomial(rng.poisson(per_day), shares)
            per = {("(all)", w): Moments.of_counts(c) for w, c in counts.items()}
            touched = {week} | ({week - pd.Timedelta(weeks=1)} if today == week else set())
            found = alerts(moments=(names, per), only=touched,
                           level=(lambda g, b, w=week, lk=looks: lk.spend(g, b, complete=b < w)) if spend else None)  # fmt: skip
            raised |= {a.bucket_start for a in found}
        alarmed += len(raised)
        tested += weeks - 3
    return alarmed / tested


POWER_FILE = Path(__file__).with_name("power.json")  # what the pages show; tests check it is still true


def shown_power() -> list[dict]:
    """The power table as the pages show it (written by `python -m trainer.evaluate.simulate`)."""
    return json.loads(POWER_FILE.read_text(encoding="utf-8")) if POWER_FILE.is_file() else []


if __name__ == "__main__":  # python -m trainer.evaluate.simulate: measure again and write power.json
    table = power_table(seeds=1000)
    POWER_FILE.write_text(json.dumps(table.round(3).to_dict("records"), indent=1) + "\n", encoding="utf-8")
    print(table.to_string(index=False))
