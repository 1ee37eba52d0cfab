"""What a finished scoring shows: the parts joined, label shares per time bucket, alerts with their
examples and the words behind them, the drift verdict, and the least certain rows to label."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from trainer.apply.score import EXAMPLES_PER_DAY, HISTOGRAM, Progress, Tallies
from trainer.data.safe_csv import read_header
from trainer.runs.scoring import Scoring
from trainer.runs.trust import Trust

if TYPE_CHECKING:  # types only
    from trainer.runs import Run
    from trainer.runs.predictor import RunModel


def _join_parts(scoring: Scoring) -> None:
    """scored.csv from the part files, in order, without holding them in memory; then the parts are
    deleted, so the scoring keeps one copy of its output. Parts gone and scored.csv there: joined already
    (a job restarted after the join)."""
    parts = scoring.part_files()
    if not parts and scoring.scored_file.exists():
        return
    tmp = scoring.scored_temp()
    with open(tmp, "w", encoding="utf-8", newline="") as out:
        for i, part in enumerate(parts):
            with open(part, encoding="utf-8", newline="") as f:
                header = read_header(f)
                if i == 0:
                    out.write(header)
                shutil.copyfileobj(f, out)
    os.replace(tmp, scoring.scored_file)
    shutil.rmtree(scoring.parts_dir, ignore_errors=True)


def bucket_counts(tallies: Tallies, bucket: str) -> tuple[pd.DataFrame, str]:
    """Counts per (bucket start, group, label) from the daily tallies, and the bucket used."""
    from trainer.evaluate.trends import bucket_starts, choose_bucket

    daily = pd.DataFrame([(pd.Timestamp(d), g, label, n) for (d, g, label), n in tallies.daily.items()],
                         columns=["day", "group", "label", "n"])  # fmt: skip
    if daily.empty:
        return daily.assign(bucket=pd.Series(dtype="datetime64[ns]")), bucket if bucket != "auto" else "day"
    if bucket == "auto":
        bucket = choose_bucket(daily["day"].min(), daily["day"].max())
    daily["bucket"] = bucket_starts(daily["day"], bucket)
    return daily.groupby(["bucket", "group", "label"], as_index=False)["n"].sum(), bucket


def alert_words(model: RunModel, now: list[str], before: list[str], label: str, top: int = 6) -> list[dict]:
    """The words that drove `label` more in the bucket's texts than in the baseline's (integrated gradients)."""
    from trainer.attribution import explain

    def means(texts: list[str]) -> dict[str, float]:
        if not texts:
            return {}
        exps = explain(model.model, model.tokenizer, model.labels, texts, [label] * len(texts),
                       max_length=model.max_length, n_steps=16, faithfulness=False)  # fmt: skip
        scores: dict[str, list[float]] = {}
        for exp in exps:
            for word, s in zip(exp.words, exp.scores, strict=True):
                if s is not None and any(c.isalnum() for c in word):
                    scores.setdefault(word.lower(), []).append(s)
        return {w: float(np.mean(v)) for w, v in scores.items() if len(v) >= 2 or len(texts) < 4}

    now_means, before_means = means(now[:12]), means(before[:12])
    ranked = sorted(((m - before_means.get(w, 0.0), w, m) for w, m in now_means.items()), reverse=True)
    return [
        {"word": w, "attribution": round(m, 4), "vs_baseline": round(d, 4)}
        for d, w, m in ranked[:top]
        if d > 0
    ]


def finish(
    model: RunModel, run: Run, scoring: Scoring, tallies: Tallies, trust: Trust, started: float | None = None
) -> dict:
    """Join the parts and write the results: trends, alerts (with examples and words), drift, rows to label."""
    from trainer.evaluate.trends import alerts

    spec = scoring.spec()
    _join_parts(scoring)
    counts, bucket = bucket_counts(tallies, spec.bucket)
    found = alerts(counts) if not counts.empty else []
    to_label = [record for _, _, record in sorted(tallies.uncertain, key=lambda x: (-x[0], x[1]))]
    to_label.sort(key=lambda r: (r["trusted"], r["confidence"]))
    results = {
        "rows": tallies.rows,
        "scored": tallies.scored,
        "untrusted": tallies.untrusted,
        "bad_times": tallies.bad_times,
        "bucket": bucket,
        "labels": sorted({label for _, _, label in tallies.daily}) or list(model.labels),
        "counts": _counts_table(counts),
        "alerts": _alert_records(model, found, counts, tallies),
        "drift": _drift(run, tallies, trust).to_dict(),
        "confidence_histogram": list(tallies.histogram),
        "to_label": to_label,
        "trust": {
            "confidence": trust.confidence,
            "distance": trust.distance,
            "expected_untrusted": trust.expected_untrusted,
        },
        "seconds": round(time.time() - started, 1) if started else None,
    }
    scoring.write_results(results)
    return results


def _alert_records(model: RunModel, found: list, counts: pd.DataFrame, tallies: Tallies) -> list[dict]:
    """The first 20 alerts with the texts behind them, and for the first five surges the words that rose."""
    from trainer.evaluate.trends import ALL_GROUPS

    days = sorted({d for d, _, _ in tallies.daily})
    buckets = sorted(counts["bucket"].unique()) if found else []
    shown = []
    for alert in found[:20]:
        group = alert.group or ALL_GROUPS
        start = pd.Timestamp(alert.bucket_start)
        position = buckets.index(start)
        window = buckets[max(0, position - 8) : position]
        end = buckets[position + 1] if position + 1 < len(buckets) else pd.Timestamp.max

        def texts_in(first: pd.Timestamp, last: pd.Timestamp, g=group, lab=alert.label) -> list[str]:
            return [
                t
                for d in days
                if first <= pd.Timestamp(d) < last
                for t in tallies.examples.get(f"{d}|{g}|{lab}", [])
            ]

        examples = list(dict.fromkeys(texts_in(start, end)))  # each text once
        record = alert.to_dict() | {"examples": examples[: EXAMPLES_PER_DAY * 2]}
        if len(shown) < 5 and model.adapter.supports("alert_words") and alert.direction == "up":
            baseline = texts_in(window[0], start) if window else []
            record["words"] = alert_words(model, texts_in(start, end), baseline, alert.label)
        shown.append(record)
    return shown


def _drift(run: Run, tallies: Tallies, trust: Trust) -> Any:
    """The new texts' confidence (kept as a histogram) against the run's validation texts, binned alike."""
    from trainer.evaluate.drift import drift
    from trainer.runs.trust import reference

    validation = trust.validation_confidence
    if validation is None:
        validation, _ = reference(run)
    centres = (HISTOGRAM[:-1] + HISTOGRAM[1:]) / 2
    confidence = np.repeat(centres, tallies.histogram)
    val_binned = np.repeat(centres, np.histogram(validation, HISTOGRAM)[0])
    return drift(confidence, val_binned, tallies.untrusted / max(1, tallies.scored), trust.expected_untrusted,
                 tallies.unknown_tokens / tallies.tokens if tallies.tokens else None, trust.unknown_share)  # fmt: skip


def _counts_table(counts: pd.DataFrame) -> list[dict]:
    """Each bucket, group and label's count and share, as results.json keeps them."""
    from trainer.evaluate.trends import shares

    if counts.empty:
        return []
    table = shares(counts)[["bucket", "group", "label", "n", "share", "total"]]
    return [{"bucket": b.date().isoformat(), "group": g, "label": label, "n": int(n), "share": float(s),
             "total": int(t)} for b, g, label, n, s, t in table.itertuples(index=False)]  # fmt: skip


def alerts_json(results: dict) -> list[dict]:
    """The alerts as the CLI writes them: bucket_start, group, label, share, baseline_share, direction, n..."""
    keys = ("bucket_start", "group", "label", "share", "baseline_share", "direction", "n", "count", "p_value",
            "baseline_buckets", "examples", "words")  # fmt: skip
    return [{k: alert[k] for k in keys if k in alert} for alert in results.get("alerts", [])]


def run_scoring(
    model: RunModel,
    run: Run,
    scoring: Scoring,
    progress: Progress = None,
    should_stop: Callable[[], bool] | None = None,
) -> dict:
    """The whole job: score the file (resuming where it stopped), then write the results; {} if stopped."""
    from trainer.apply.score import score

    outcome = score(model, run, scoring, progress, should_stop)
    if not outcome:
        return {}
    return finish(model, run, scoring, outcome["tallies"], outcome["trust"], outcome["started"])
