"""Monitors: rows per second added, the trend query at 100,000 / 1,000,000 / 10,000,000 stored rows, and
the store's size per million rows.

    .venv/bin/python bench/bench_monitor.py [--sizes 100000,1000000,10000000] [--run RUN]

Adding: weekly CSV files through `Monitor.add` (row keys, dedupe against the store, one transaction per
batch, the alert test of the buckets touched), with a stand-in scorer (scoring excluded) and, with --run,
with that run's model (scoring included). The trend query: `Monitor.counts()` (rows per bucket, group and
label, with all groups together) over synthetic scored rows written straight into the store with SQL; the
alert test: what a batch of the latest week runs (the moments from the probabilities of that week and its
baseline, the joint test per group, the looks stored).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from trainer.monitor import monitor as monitors  # noqa: E402
from trainer.monitor.scorers import scorer_of  # noqa: E402


def stand_in(texts: list[str]) -> tuple[list[str], list[float]]:
    return ["negative" if t.startswith("bad") else "positive" for t in texts], [0.9] * len(texts)


def week_files(folder: Path, weeks: int, rows: int) -> list[Path]:
    rng = random.Random(0)
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for week in range(weeks):
        monday = pd.Timestamp("2026-01-05") + pd.Timedelta(weeks=week)
        frame = pd.DataFrame({
            "published": [(monday + pd.Timedelta(minutes=rng.randrange(7 * 24 * 60))).isoformat() for _ in range(rows)],
            "topic": [rng.choice(("Banking", "Energy", "Retail", "Tech")) for _ in range(rows)],
            "headline": [f"{rng.choice(('bad', 'good'))} headline {week} {i} {rng.random():.8f}" for i in range(rows)],
        })  # fmt: skip
        files.append(folder / f"week-{week:02d}.csv")
        frame.to_csv(files[-1], index=False)
    return files


def adding(runs_dir: Path, files: list[Path], scorer, name: str) -> float:
    monitor = monitors.create(runs_dir, monitors.Settings(name, "unused", "headline", "published", "topic"))
    started, rows = time.perf_counter(), 0
    for path in files:
        rows += monitor.add(path, scorer).added
    return rows / (time.perf_counter() - started)


def synthetic(runs_dir: Path, rows: int) -> tuple[float, float, float]:
    """(seconds of the trend query, seconds of the alert test of the latest week, MB of the store per
    million rows) over `rows` synthetic scored rows with their label probabilities, spread over two years."""
    settings = monitors.Settings(
        f"s{rows}", "unused", "text", "time", "group", labels=["negative", "positive"]
    )
    monitor = monitors.create(runs_dir, settings)
    with monitor.store.transaction() as con:
        con.execute(
            "INSERT INTO scored SELECT 'k' || i, 1, TIMESTAMP '2024-01-01' + to_seconds(i * 37 % 63072000), "
            "'g' || (i % 8), 'headline number ' || i, CASE WHEN i % 3 = 0 THEN 'negative' ELSE 'positive' END, "
            "0.9, CASE WHEN i % 3 = 0 THEN [0.9, 0.1] ELSE [0.1, 0.9] END FROM range(?) t(i)",
            [rows],
        )
    con_timing = []
    for _ in range(3):
        started = time.perf_counter()
        counts = monitor.counts()
        con_timing.append(time.perf_counter() - started)
    assert counts["n"].sum() == 2 * rows  # each row once per group, and once in all groups together
    latest = counts["bucket"].max()
    with monitor.store.connect() as con:  # what a batch of the latest week runs: moments, the test, the looks
        started = time.perf_counter()
        monitor._new_alerts(con, 1, {latest})
        alert_seconds = time.perf_counter() - started
    size = monitor.store.path.stat().st_size / 1e6
    return min(con_timing), alert_seconds, size / (rows / 1e6)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100000,1000000,10000000")
    parser.add_argument("--run", help="a finished run: also time adding with its model scoring the rows")
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--rows-per-week", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs_dir, files = Path(tmp) / "runs", week_files(Path(tmp) / "weeks", args.weeks, args.rows_per_week)
        total = args.weeks * args.rows_per_week
        print("| adding | rows | rows per second |\n|---|---|---|")
        print(
            f"| scoring excluded (stand-in scorer) | {total:,} | {adding(runs_dir, files, stand_in, 'a'):,.0f} |"
        )
        if args.run:
            real, _ = scorer_of(args.run)  # labels, confidences and probabilities
            print(
                f"| scoring included (the run's model) | {total:,} | {adding(runs_dir, files, real, 'b'):,.0f} |"
            )
        print(
            "\n| stored rows | trend query s | alert test of the latest week s | store MB per million rows |"
        )
        print("|---|---|---|---|")
        for rows in (int(s) for s in args.sizes.split(",")):
            seconds, alert_seconds, per_million = synthetic(runs_dir, rows)
            print(f"| {rows:,} | {seconds:.3f} | {alert_seconds:.3f} | {per_million:.1f} |", flush=True)


if __name__ == "__main__":
    main()
