"""How many more labels: a learning curve of a held-out score against the number of labels, and a forecast.

Each round of labelling gives one `Point`: the model trained on `labels` rows, scored on a held-out split,
with a percentile bootstrap interval over the held-out rows (`measure`, the same resampling as
`uncertainty`). Through the points we fit the inverse power law score(n) = a - b·n^(-c), the standard
learning-curve model (Mukherjee et al. 2003; Figueroa et al. 2012): it rises fast, then levels off at a,
the score more labels alone would reach. Bounds 0 <= a <= 1, b >= 0, 0 < c <= 2 keep it a score that
does not fall with more labels. Each point weighs by its own uncertainty (sd = interval width / 2z, at
least half a binomial sd so a perfect score's zero-width interval still counts), so a score measured on
few held-out rows pulls less. A forecast needs MIN_POINTS rounds with different label
counts: three parameters through two points is no test of the curve at all.

For a fixed c the model is linear in a and b, so the fit profiles c over a grid (a weighted least-squares
line in n^(-c) for each c, kept inside the bounds) and `scipy.optimize.curve_fit` polishes the best; the
grid start means a fit never depends on a lucky initial guess, and a failed polish keeps the grid's answer.

The forecast's interval is a parametric bootstrap: each point's score is redrawn from a normal with its sd
(clipped to [0, 1]) and the curve refitted, REFITS times (seeded). The refits use the profiled grid alone,
vectorised, so hundreds cost milliseconds (curve_fit on each would cost seconds per forecast). Two answers:

- `predict`: the score at n labels. The percentile interval of the refits' curves says where the curve
  is; but the score a user will see at n is itself measured on a held-out split of about the last point's
  size, so each refit's prediction gets that measurement's noise added (the last point's sd, scaled to the
  predicted score as a binomial sd scales). The interval then covers the *realised* score at its stated
  rate, which the tests check by simulation.
- `forecast`: the labels at which the curve reaches a target score: for each curve the smallest n with
  a - b·n^(-c) >= target, i.e. n = ceil((b / (a - target))^(1/c)) when a > target. A curve that levels
  off below the target, or reaches it only past LIMIT labels, never reaches it: it counts as beyond
  every finite n, so the interval's upper end may be None ("more than LIMIT").

Limits, seen in the simulations: the power law describes the curve after its first steep phase, so rounds
that start at about two labels a class make the intervals too narrow (an 80% interval covered about 74% of
realised scores, against 80% from three labels a class on); and a few rounds pin the level a loosely, so a
target far above the last score often gets an interval that reaches past LIMIT.

`said` puts the last score and each forecast in words; "more" is counted from the last point's labels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from trainer import i18n
from trainer.evaluate.uncertainty import resampled_sums, scores, unit_counts
from trainer.i18n import tr, trn

MIN_POINTS = 3  # rounds with different label counts before a forecast: a 3-parameter curve
LIMIT = 100_000  # labels past which a curve counts as not reaching a target
REFITS = 400  # bootstrap refits behind a forecast's interval
GRID = np.linspace(0.02, 2.0, 100)  # the curve's exponent c, profiled
METRICS = ("accuracy", "macro_f1")


@dataclass
class Point:
    """One measured point of the curve: a model trained on `labels` rows, scored on `heldout` rows."""

    labels: int
    score: float  # held-out accuracy or macro-F1, in [0, 1]
    ci_low: float
    ci_high: float
    heldout: int
    level: float = 0.9  # the coverage of [ci_low, ci_high]


@dataclass
class Forecast:
    """The labels at which the curve reaches `target`, with an interval (None: not reached)."""

    target: float
    labels: int | None  # total labels where the fitted curve reaches the target (None: not below LIMIT)
    low: int | None  # fewest labels in the interval
    high: int | None  # most labels in the interval (None: not reached within it by LIMIT)
    level: float  # the interval's coverage


@dataclass
class Curve:
    """score(n) = a - b·n^(-c)."""

    a: float
    b: float
    c: float

    def __call__(self, n: float) -> float:
        return float(self.a - self.b * float(n) ** -self.c)


def _z(level: float) -> float:
    return NormalDist().inv_cdf((1 + level) / 2)


def measure(
    labels: int,
    y_true: list,
    y_pred: list,
    metric: str = "accuracy",
    level: float = 0.9,
    seed: int = 0,
    draws: int = 1000,
) -> Point:
    """The held-out score of a model trained on `labels` rows, with its percentile bootstrap interval."""
    if metric not in METRICS:
        raise ValueError(tr("unknown score {metric}: use accuracy or macro_f1", metric=metric))
    if not y_true or len(y_true) != len(y_pred):
        raise ValueError(tr("a learning-curve point needs held-out rows, each with a prediction"))
    gold, predicted = [str(g) for g in y_true], [str(p) for p in y_pred]
    counts = unit_counts("text", gold, predicted, sorted(set(gold)))
    (sums,) = resampled_sums([counts.matrix], draws, seed)
    values = scores(counts, sums)[metric]
    tail = (1 - level) / 2
    low, high = np.quantile(values, [tail, 1 - tail])
    return Point(int(labels), float(scores(counts)[metric]), float(low), float(high), len(gold), level)


def _binomial_sd(p: np.ndarray | float, m: int) -> np.ndarray:
    """sd of a share measured on m rows, with one success and one failure added (never 0)."""
    shrunk = (np.asarray(p, dtype=float) * m + 1) / (m + 2)
    return np.sqrt(shrunk * (1 - shrunk) / (m + 2))


def _sd(point: Point) -> float:
    """The point's sd from its interval; at least half a binomial sd, so a zero-width interval still counts."""
    width = (point.ci_high - point.ci_low) / (2 * _z(point.level))
    return max(width, float(_binomial_sd(point.score, max(point.heldout, 1))) / 2)


def _arrays(points: list[Point]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(labels, scores, sds), each (k,)."""
    n = np.array([p.labels for p in points], dtype=float)
    return n, np.array([p.score for p in points], dtype=float), np.array([_sd(p) for p in points])


def _profile(n: np.ndarray, y: np.ndarray, sd: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted least squares of every row of y (R, k) over the c grid, inside the bounds: (a, b, c), each (R,).

    For each c, y = a + β·x with x = n^(-c) and β = -b <= 0; the box-constrained optimum is the free one when
    it is inside, else the best of the optima along the edges β = 0, a = 1 and a = 0."""
    w = 1 / sd**2  # (k,)
    x = n[None, :] ** -GRID[:, None]  # (G, k)
    W, Sx, Sxx = w.sum(), x @ w, (x**2) @ w  # (), (G,), (G,)
    Sy, Sxy = y @ w, y @ (w[:, None] * x.T)  # (R,), (R, G)
    Sy = Sy[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        free_beta = (W * Sxy - Sx * Sy) / (W * Sxx - Sx**2)
        free_a = (Sy - free_beta * Sx) / W
    inside = (free_beta <= 0) & (free_a >= 0) & (free_a <= 1)
    candidates = [
        (np.where(inside, free_a, np.nan), np.where(inside, free_beta, np.nan)),
        (np.broadcast_to(np.clip(Sy / W, 0, 1), Sxy.shape), np.zeros_like(Sxy)),  # flat: β = 0
        (np.ones_like(Sxy), np.minimum((Sxy - Sx) / Sxx, 0)),  # a = 1
        (np.zeros_like(Sxy), np.minimum(Sxy / Sxx, 0)),  # a = 0
    ]
    best_sse = np.full(Sxy.shape, np.inf)
    best_a, best_beta = np.zeros(Sxy.shape), np.zeros(Sxy.shape)
    for a, beta in candidates:
        # the weighted sum of squares less Σw·y² (the same for every candidate of a row)
        sse = a * a * W + 2 * a * beta * Sx + beta * beta * Sxx - 2 * a * Sy - 2 * beta * Sxy
        better = np.nan_to_num(sse, nan=np.inf) < best_sse
        best_sse = np.where(better, sse, best_sse)
        best_a, best_beta = np.where(better, a, best_a), np.where(better, beta, best_beta)
    pick = np.argmin(best_sse, axis=1)
    rows = np.arange(len(y))
    return best_a[rows, pick], -best_beta[rows, pick], GRID[pick]


def enough(points: list[Point]) -> bool:
    """Whether the points are enough rounds (distinct label counts) for a curve and a forecast."""
    return len({p.labels for p in points}) >= MIN_POINTS


def fit_curve(points: list[Point]) -> Curve | None:
    """The weighted inverse power law through the points; None with too few points or no finite fit."""
    if not enough(points):
        return None
    n, y, sd = _arrays(points)
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(sd)) and np.all(n > 0)):
        return None
    a, b, c = (float(v[0]) for v in _profile(n, y[None, :], sd))
    start = Curve(a, b, c)
    if not all(math.isfinite(v) for v in (a, b, c)):
        return None
    return _polish(start, n, y, sd)


def _polish(start: Curve, n: np.ndarray, y: np.ndarray, sd: np.ndarray) -> Curve:
    """curve_fit from the grid's best; the grid's answer stands if the polish fails or fits worse."""
    import warnings

    from scipy.optimize import OptimizeWarning, curve_fit

    def model(n, a, b, c):
        return a - b * n ** (-c)

    def chi2(curve: Curve) -> float:
        return float((((y - model(n, curve.a, curve.b, curve.c)) / sd) ** 2).sum())

    guess = [min(max(start.a, 0.0), 1.0), max(start.b, 1e-9), min(max(start.c, 1e-3), 2.0)]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            found, _ = curve_fit(
                model,
                n,
                y,
                p0=guess,
                sigma=sd,
                absolute_sigma=True,
                bounds=([0, 0, 1e-3], [1, np.inf, 2]),
                maxfev=2000,
            )
    except (RuntimeError, ValueError):
        return start
    polished = Curve(*(float(v) for v in found))
    return polished if chi2(polished) <= chi2(start) else start


def _refits(points: list[Point], seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.random.Generator]:
    """REFITS curves through the points' scores redrawn from their normals (parametric bootstrap)."""
    n, y, sd = _arrays(points)
    rng = np.random.default_rng(seed)
    drawn = np.clip(y + sd * rng.standard_normal((REFITS, len(y))), 0, 1)
    a, b, c = _profile(n, drawn, sd)
    keep = np.isfinite(a) & np.isfinite(b) & np.isfinite(c)
    return a[keep], b[keep], c[keep], rng


def _last(points: list[Point]) -> Point:
    return max(points, key=lambda p: p.labels)


def predict(
    points: list[Point], labels: int, level: float = 0.8, seed: int = 0
) -> tuple[float, float, float]:
    """(middle, low, high): the score forecast at `labels`, its interval covering the score as it will be
    measured (curve uncertainty plus a held-out split's noise); NaNs when there is no curve."""
    curve = fit_curve(points)
    if curve is None:
        return math.nan, math.nan, math.nan
    a, b, c, rng = _refits(points, seed)
    if len(a) == 0:
        return math.nan, math.nan, math.nan
    last = _last(points)
    m = max(last.heldout, 1)
    ratio = _sd(last) / float(_binomial_sd(last.score, m))  # macro-F1 varies more than a share
    curves = np.clip(a - b * float(labels) ** -c, 0, 1)
    measured = np.clip(curves + ratio * _binomial_sd(curves, m) * rng.standard_normal(len(curves)), 0, 1)
    tail = (1 - level) / 2
    low, high = (float(v) for v in np.quantile(measured, [tail, 1 - tail]))
    middle = min(max(curve(labels), 0.0), 1.0)
    return middle, min(low, middle), max(high, middle)


def labels_to_reach(a: np.ndarray, b: np.ndarray, c: np.ndarray, target: float) -> np.ndarray:
    """The smallest n >= 1 with a - b·n^(-c) >= target, per curve; inf where not reached by LIMIT."""
    a, b, c = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (a, b, c))
    gap = a - target
    with np.errstate(divide="ignore", invalid="ignore"):
        log_n = (np.log(b) - np.log(gap)) / c
        n = np.ceil(np.exp(np.minimum(log_n, math.log(LIMIT) + 1)) - 1e-9)
    n = np.where(np.isfinite(log_n) & (log_n <= math.log(LIMIT)), np.maximum(n, 1), np.inf)
    n = np.where(gap <= 0, np.inf, n)
    return np.where((b <= 0) & (a >= target), 1.0, n)


def _count(value: float) -> int | None:
    return int(value) if math.isfinite(value) else None


def forecast(points: list[Point], targets: list[float], level: float = 0.8, seed: int = 0) -> list[Forecast]:
    """For each target score, the total labels at which the curve reaches it, with its interval."""
    curve = fit_curve(points)
    refits = _refits(points, seed)[:3] if curve is not None else ()
    if curve is None or len(refits[0]) == 0:
        return [Forecast(float(t), None, None, None, level) for t in targets]
    tail = (1 - level) / 2
    found = []
    for target in targets:
        middle = _count(float(labels_to_reach(curve.a, curve.b, curve.c, target)[0]))
        ns = labels_to_reach(*refits, target)
        low, high = (_count(float(v)) for v in np.quantile(ns, [tail, 1 - tail], method="inverted_cdf"))
        if middle is None:
            high = None
        elif low is not None:
            low, high = min(low, middle), None if high is None else max(high, middle)
        found.append(Forecast(float(target), middle, low, high, level))
    return found


def as_dict(points: list[Point], forecasts: list[Forecast]) -> dict:
    """The curve and its forecasts as plain JSON values."""
    return {
        "points": [
            {
                "labels": int(p.labels),
                "score": float(p.score),
                "ci_low": float(p.ci_low),
                "ci_high": float(p.ci_high),
                "heldout": int(p.heldout),
                "level": float(p.level),
            }
            for p in points
        ],
        "forecast": [
            {
                "target": float(f.target),
                "labels": f.labels,
                "low": f.low,
                "high": f.high,
                "level": float(f.level),
            }
            for f in forecasts
        ],
    }


def _outside(level: float) -> str:
    """'one forecast in 5 falls outside such a range' for an 80% interval."""
    every = 1 / max(1 - level, 1e-9)
    if abs(every - round(every)) < 1e-6:
        return tr("one forecast in {k} falls outside such a range", k=i18n.number(round(every)))
    return tr("{share} of forecasts fall outside such a range", share=i18n.percent(1 - level))


def _said_forecast(item: Forecast, curve: Curve, last: Point, metric_name: str) -> str:
    """One target in words: reached already, how many more labels, or out of reach."""
    target = f"{item.target:.2f}"
    if item.labels is None and curve.a > item.target:
        return tr(
            "The curve rises too slowly to reach {target} within {limit} labels: more labels alone are unlikely "
            "to bring the {metric} there.",
            target=target,
            limit=i18n.number(LIMIT),
            metric=metric_name,
        )
    if item.labels is None:
        return tr(
            "The curve levels off at about {top}, below {target}: more labels alone are unlikely to bring the "
            "{metric} there.",
            top=f"{curve.a:.2f}",
            target=target,
            metric=metric_name,
        )
    if item.labels <= last.labels:
        return tr(
            "The {metric} is at {target} or above already: the curve is at {now} with {labels} labels.",
            metric=metric_name,
            target=target,
            now=f"{curve(last.labels):.2f}",
            labels=i18n.number(last.labels),
        )
    more = i18n.number(item.labels - last.labels)
    low = i18n.number(max(0, (item.low or item.labels) - last.labels))
    level = i18n.percent(item.level)
    if item.high is None:
        return tr(
            "About {more} more labels for the {metric} to reach {target}: at least {low} more in {level} of "
            "cases, and possibly more than {limit} labels in all.",
            more=more,
            metric=metric_name,
            target=target,
            low=low,
            level=level,
            limit=i18n.number(LIMIT),
        )
    return tr(
        "About {more} more labels for the {metric} to reach {target}: between {low} and {high} more in "
        "{level} of cases ({outside}).",
        more=more,
        metric=metric_name,
        target=target,
        low=low,
        high=i18n.number(item.high - last.labels),
        level=level,
        outside=_outside(item.level),
    )


def said(points: list[Point], forecasts: list[Forecast], metric_name: str) -> list[str]:
    """The last score and each forecast in sentences; `metric_name` is the score's name in the reader's language."""
    if not points:
        return [tr("No labelled rounds yet: label some rows, train and score to start the curve.")]
    last = _last(points)
    found = [
        tr(
            "With {labels} labels the held-out {metric} is {score} (between {low} and {high}).",
            labels=i18n.number(last.labels),
            metric=metric_name,
            score=f"{last.score:.2f}",
            low=f"{last.ci_low:.2f}",
            high=f"{last.ci_high:.2f}",
        )
    ]
    rounds = len({p.labels for p in points})
    if rounds < MIN_POINTS:
        found.append(
            trn(
                "A forecast of how many more labels it takes needs scores after {need} rounds of "
                "labels; there is {n} so far.",
                "A forecast of how many more labels it takes needs "
                "scores after {need} rounds of labels; there are {n} so far.",
                rounds,
                need=MIN_POINTS,
            )
        )
        return found
    curve = fit_curve(points)
    if curve is None:
        found.append(
            tr(
                "The scores so far do not fit a learning curve, so there is no forecast: label another "
                "round and look again."
            )
        )
        return found
    return found + [_said_forecast(item, curve, last, metric_name) for item in forecasts]
