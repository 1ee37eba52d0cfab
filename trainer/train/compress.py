"""Compress a run and prove it: each variant (trainer.train.shrink makes them) is kept only when the run's own
paired test on its test split finds no loss beyond a margin, with its speed and size measured here.

The verdict, for the run's headline score (accuracy with McNemar's test for text; entity F1 with the paired
bootstrap for entities, as Compare tests them):
- refused when the paired test finds the variant worse (p < 0.05), however small the loss: a real loss;
- refused when the variant loses more than the margin (1 point) even where the test set is too small to
  call it real: a loss that size is not shipped on a hope;
- refused when it changes more of the answers than the margin and the paired bootstrap's one-sided 95%
  bound cannot show the change costs at most the margin (a non-inferiority test): equal accuracy on a
  small test split with one answer in ten changed is no evidence of equal accuracy elsewhere (a
  three-layer TREC model did exactly this: the same 149 test answers right, 6.6 points lost on the public
  test set);
- accepted otherwise, with the agreement with the original model's answers beside it.
"""

from __future__ import annotations

import json
import shutil
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from trainer.errors import PlainError
from trainer.evaluate import uncertainty
from trainer.i18n import N_, tr
from trainer.runs.variants import VARIANTS, Variants
from trainer.train import tracking

MARGIN = 0.01  # the largest loss of the headline score a variant may show (1 point)
SIGNIFICANCE = 0.05
METRIC_TITLES = {
    "accuracy": N_("accuracy"),
    "f1": N_("entity F1"),
}  # the headline score each task is judged on
SPEED_TEXTS = 256  # texts timed at batch 64 (the test split's, repeated where it has fewer)
LATENCY_CALLS = 20  # one-text calls timed; the median is reported


@dataclass
class Verdict:
    """One variant's entry in `compress --json`."""

    name: str
    accepted: bool
    reason: str
    score: float | None = None
    original_score: float | None = None
    metric: str | None = None
    agreement: float | None = None
    p_value: float | None = None
    low: float | None = None  # the difference's 95% interval (variant - original)
    high: float | None = None
    speedup: float | None = None
    latency_speedup: float | None = None
    texts_per_second: float | None = None  # at batch 64, on this machine
    original_texts_per_second: float | None = None
    latency_ms: float | None = None  # one text alone
    original_latency_ms: float | None = None
    size_mb: float | None = None
    original_size_mb: float | None = None
    engine: str | None = None


class NothingToCheck(PlainError):
    """The run has no test split to judge a variant on."""


def _frame(model: Any, inputs: list, gold: list) -> Any:
    return model.frame(inputs, model.predict(inputs), gold)


def agreement(kind: str, original: Any, variant: Any) -> float:
    """The share of answers the variant gives as the original does: labels of texts, or tags of words."""
    if kind == "text":
        return float(
            np.mean(original["predicted"].astype(str).values == variant["predicted"].astype(str).values)
        )
    pairs = [(a, b) for x, y in zip(original["predicted"], variant["predicted"], strict=True)
             for a, b in zip(str(x).split(), str(y).split(), strict=True)]  # fmt: skip
    return float(np.mean([a == b for a, b in pairs])) if pairs else 1.0


def judge(kind: str, labels: Sequence[str], original: Any, variant: Any, margin: float = MARGIN) -> dict:
    """The paired test's verdict on a variant's test predictions against the original's (predictions
    tables of the same examples in the same order, with `gold` and `predicted`)."""
    metric = "accuracy" if kind == "text" else "f1"
    a = uncertainty.counts_of(kind, original, labels if kind == "text" else None)
    b = uncertainty.counts_of(kind, variant, labels if kind == "text" else None)
    found = uncertainty.paired(a, b, metric)
    loss = found.a - found.b
    share = agreement(kind, original, variant)
    numbers = tr("{metric} {b} against the original's {a} ({diff} points; 95% interval {low} to {high}; "
                 "{test} p = {p}); the same answers on {agree} of the test split",
                 metric=tr(METRIC_TITLES[metric]), b=f"{found.b:.3f}", a=f"{found.a:.3f}", diff=f"{-loss * 100:+.1f}",
                 low=f"{found.low * 100:+.1f}", high=f"{found.high * 100:+.1f}", test=found.test,
                 p=f"{found.p_value:.2g}", agree=f"{share:.1%}")  # fmt: skip
    bound = worst_difference(a, b, metric)
    if found.p_value < SIGNIFICANCE and loss > 0:
        accepted, why = False, tr("refused: the paired test finds a real loss: {numbers}.", numbers=numbers)
    elif loss > margin + 1e-12:
        accepted, why = False, tr("refused: it loses more than the {margin}-point margin: {numbers}.",
                                  margin=f"{margin * 100:g}", numbers=numbers)  # fmt: skip
    elif 1 - share > margin + 1e-12 and bound < -margin - 1e-12:
        accepted, why = False, tr("refused: it changes {changed} of the answers, and on {n} examples the paired "
                                  "bootstrap cannot show that this costs at most {margin} points (its one-sided "
                                  "95% bound is {bound} points): {numbers}.", changed=f"{1 - share:.1%}", n=a.n,
                                  margin=f"{margin * 100:g}", bound=f"{bound * 100:+.1f}", numbers=numbers)  # fmt: skip
    else:
        accepted, why = True, tr("accepted: no real loss and none beyond the {margin}-point margin: {numbers}.",
                                 margin=f"{margin * 100:g}", numbers=numbers)  # fmt: skip
    return {"accepted": accepted, "reason": why, "score": found.b, "original_score": found.a, "metric": metric,
            "agreement": share, "p_value": found.p_value, "low": found.low, "high": found.high}  # fmt: skip


def worst_difference(a: Any, b: Any, metric: str) -> float:
    """The one-sided 95% lower bound of (variant - original) on `metric`: the 5th percentile of the paired
    bootstrap (the resamples `uncertainty.paired` draws). A variant that changes more answers than the
    margin is kept only when this bound shows the change costs at most the margin (a non-inferiority test);
    one that changes fewer cannot lose more than the margin on the test split."""
    sums_a, sums_b = uncertainty.resampled_sums([a.matrix, b.matrix], uncertainty.RESAMPLES, 0)
    deltas = uncertainty.scores(b, sums_b)[metric] - uncertainty.scores(a, sums_a)[metric]
    return float(np.percentile(deltas, 5))


def speed(model: Any, inputs: list) -> tuple[float, float]:
    """(texts per second at batch 64, median seconds for one text) of a model on these inputs."""
    texts = (inputs * (SPEED_TEXTS // max(1, len(inputs)) + 1))[:SPEED_TEXTS]
    model.predict(texts[:64], batch_size=64)  # warm up (first-call allocations, ONNX Runtime's arenas)
    start = time.perf_counter()
    model.predict(texts, batch_size=64)
    rate = len(texts) / (time.perf_counter() - start)
    times = []
    for text in texts[:LATENCY_CALLS]:
        start = time.perf_counter()
        model.predict([text], batch_size=1)
        times.append(time.perf_counter() - start)
    return rate, statistics.median(times)


def size_mb(path: Path) -> float:
    """Megabytes of a model's files (a folder's weights and graphs, or one file)."""
    if path.is_file():
        return path.stat().st_size / 1e6
    kinds = (".onnx", ".safetensors", ".bin", ".data")
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and p.suffix in kinds) / 1e6


def speedups(original: Any, variant: Any, inputs: list, rounds: int = 3) -> dict[str, float]:
    """The variant's texts per second at batch 64 over the original's (`speedup`), the original's one-text
    time over the variant's (`latency_speedup`), each the median of `rounds` ratios with the two models
    timed in turn so a busy machine slows both alike; and the medians of the measures themselves."""
    timed = [(speed(original, inputs), speed(variant, inputs)) for _ in range(rounds)]
    return {
        "speedup": statistics.median(b[0] / a[0] for a, b in timed),
        "latency_speedup": statistics.median(a[1] / b[1] for a, b in timed),
        "texts_per_second": statistics.median(b[0] for _, b in timed),
        "original_texts_per_second": statistics.median(a[0] for a, _ in timed),
        "latency_ms": statistics.median(b[1] for _, b in timed) * 1000,
        "original_latency_ms": statistics.median(a[1] for a, _ in timed) * 1000,
    }


Said = Callable[[str], None]


def _make(name: str, model: Any, run_dir: Path, variants: Variants, should_stop: Any) -> Path:
    from trainer.train import shrink

    work = variants.work_dir(name)
    shutil.rmtree(work, ignore_errors=True)
    if name == "onnx":
        return shrink.make_onnx(model, work)
    if name == "int8":  # quantized from a fresh export (the kept onnx variant may be missing or refused)
        source = shrink.make_onnx(model, variants.work_dir("int8-source"))
        try:
            return shrink.make_int8(source, work)
        finally:
            shutil.rmtree(source, ignore_errors=True)
    return shrink.make_smaller(model, run_dir, work, should_stop=should_stop)


def compress(run_dir: Path, names: Sequence[str] = VARIANTS, margin: float = MARGIN, say: Said | None = None,
             should_stop: Any = None) -> dict:  # fmt: skip
    """Make, judge and measure each variant of the run; keep the accepted ones. `compress --json`'s shape.
    One compression of a run at a time (the app's button and the command line wait for each other)."""
    from trainer.files import locks
    from trainer.runs import RunFolder
    from trainer.runs.predictor import RunModel

    say = say or (lambda _: None)
    folder = RunFolder(run_dir)
    variants = Variants(folder)
    with locks.locked(variants.lock_file):
        original = RunModel.load(run_dir, device="cpu")
        split = folder.load_split("test")
        inputs = original.adapter.inputs(split)
        if not inputs:
            raise NothingToCheck(tr("{run} has no test split, so no variant can be checked against it: train "
                                    "it with a test fraction above 0.", run=run_dir.name))  # fmt: skip
        base = (inputs, split.labels, _frame(original, inputs, split.labels), size_mb(folder.model_dir))
        found = [_try(name, original, base, variants, margin, say, should_stop) for name in names]
    return {"run": run_dir.name, "margin": margin, "variants": found}


def _try(name: str, original: Any, base: tuple, variants: Variants, margin: float, say: Said,
         should_stop: Any) -> dict:  # fmt: skip
    """One variant made, judged on the test split (`base`: inputs, gold, the original's predictions table
    and size), measured, kept or removed, and registered in MLflow when accepted and tracking is on."""
    from trainer.runs.predictor import RunModel

    inputs, gold, base_frame, base_size = base
    run_dir = variants.folder.path
    say(tr("{name}: making it", name=name))
    made = _make(name, original, run_dir, variants, should_stop)
    trial = RunModel.load(run_dir, device="cpu")
    trial.model, trial.precision, trial.variant = variants.load_from(name, made, trial.model), None, name
    say(tr("{name}: checking it on the test split ({n} examples)", name=name, n=len(inputs)))
    verdict = judge(
        original.adapter.interval_unit, original.labels, base_frame, _frame(trial, inputs, gold), margin
    )
    entry = Verdict(name=name, **verdict, **speedups(original, trial, inputs), size_mb=size_mb(made),
                    original_size_mb=base_size, engine=variants.engine(name))  # fmt: skip
    entry.reason = f"{entry.reason} {sentence(entry)}"
    variants.keep(name, made, asdict(entry))
    shutil.rmtree(variants.work_dir(name), ignore_errors=True)
    record = asdict(entry)
    if entry.accepted and tracking.enabled():  # a version of the run's model in MLflow, verdict in its tags
        record["registered"] = tracking.register_variant(
            variants.folder, name, record, variants.model_files(name)
        )
        say(
            tr("{name}: registered in MLflow: {outcome}", name=name, outcome=json.dumps(record["registered"]))
        )
    return record


def sentence(entry: Verdict) -> str:
    """'3.1x faster (one text: 2.0x), 4.0x smaller (22.1 MB against 90.6 MB)'."""
    smaller = entry.original_size_mb / entry.size_mb if entry.size_mb else float("nan")
    return tr("Measured here: {speed}x the texts per second at batch 64, one text {latency}x as fast, "
              "{smaller}x smaller ({size} MB against {original} MB).", speed=f"{entry.speedup:.1f}",
              latency=f"{entry.latency_speedup:.1f}", smaller=f"{smaller:.1f}", size=f"{entry.size_mb:.1f}",
              original=f"{entry.original_size_mb:.1f}")  # fmt: skip
