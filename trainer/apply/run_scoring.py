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

from trainer.apply.chunk import EXAMPLES_PER_DAY, HISTOGRAM, Tallies
from trainer.apply.score import OnPhase, Progress
from trainer.data.safe_csv import read_header
from trainer.i18n import N_
from trainer.runs.records import Phase
from trainer.runs.scoring import Scoring
from trainer.runs.trust import Trust

if TYPE_CHECKING:  # types only
    from trainer.runs import Run
    from trainer.runs.predictor import RunModel

# What the job does after the last row is scored, each said on the page while it runs.
JOINING = Phase(N_("Joining the scored rows into one file"))
TRENDS = Phase(N_("Looking for changes over time"))
WORDS_ONE, WORDS_MANY = N_("Finding the words behind {n} alert"), "Finding the words behind {n} alerts"
DRIFT = Phase(N_("Checking drift"))
SAVING = Phase(N_("Saving the results"))


def words_phase(n: int) -> Phase:
    """The phase that explains the alerts' words, counted in alerts."""
    return Phase(WORDS_ONE, WORDS_MANY, n)


def _noop(*_: Any) -> None:
    return None


def _join_parts(scoring: Scoring, progress: Progress = None) -> None:
    """scored.csv from the part files, in order, without holding them in memory; then the parts are
    deleted, so the scoring keeps one copy of its output. Parts gone and scored.csv there: joined already
    (a job restarted after the join). `progress` counts the parts joined."""
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
            if progress:
                progress(i + 1, len(parts))
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


def finish(model: RunModel, run: Run, scoring: Scoring, tallies: Tallies, trust: Trust, started: float | None = None,
           progress: Progress = None, on_phase: OnPhase = None) -> dict:  # fmt: skip
    """Join the parts and write the results: trends, alerts (with examples and words), drift, rows to label.
    Each phase is told to `on_phase`, then counted with `progress` where it can be."""
    from trainer.evaluate.trends import alerts

    phase, progress = on_phase or _noop, progress or _noop
    spec = scoring.spec()
    phase(JOINING)
    _join_parts(scoring, progress)
    phase(TRENDS)
    counts, bucket = bucket_counts(tallies, spec.bucket)
    found = alerts(counts) if not counts.empty else []
    records = _alert_records(model, found, counts, tallies, phase, progress)
    phase(DRIFT)
    verdict = _drift(run, tallies, trust).to_dict()
    phase(SAVING)
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
        "alerts": records,
        "drift": verdict,
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


def _alert_records(model: RunModel, found: list, counts: pd.DataFrame, tallies: Tallies,
                   phase: Callable = _noop, progress: Callable = _noop) -> list[dict]:  # fmt: skip
    """The first 20 alerts with the texts behind them, and for the first five surges the words that rose
    (a phase of its own, counted in alerts)."""
    from trainer.evaluate.trends import ALL_GROUPS

    days = sorted({d for d, _, _ in tallies.daily})
    buckets = sorted(counts["bucket"].unique()) if found else []
    explaining = model.adapter.supports("alert_words")
    to_explain = sum(a.direction == "up" for a in found[:5]) if explaining else 0
    if to_explain:
        phase(words_phase(to_explain))
        progress(0, to_explain)
    shown, explained = [], 0
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
            explained += 1
            progress(explained, to_explain)
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
    on_phase: OnPhase = None,
    cluster: str | None = None,
) -> dict:
    """The whole job: score the file (resuming where it stopped), then write the results; {} if stopped.
    With `on_phase`, each phase is told as it starts and `progress` counts that phase's own steps. With a
    Ray cluster's address (`cluster`, else INSIGHT_RAY_ADDRESS) the texts are scored there."""
    from trainer.apply.score import score

    outcome = score(model, run, scoring, progress, should_stop, on_phase, cluster)
    if not outcome:
        return {}
    return finish(model, run, scoring, outcome["tallies"], outcome["trust"], outcome["started"],
                  progress if on_phase else None, on_phase)  # fmt: skip
