"""A monitor's trend query (rows per bucket, group and label: what the Monitors page and every batch's alert
test read) on DuckDB against PostgreSQL, at a million rows; and the time to store them.

    .venv/bin/python bench/bench_monitor_store.py [--rows 1000000] [--database-url URL]

Without --database-url a PostgreSQL server is started in a temporary folder (tests/postgres_kit.py, Debian's
postgresql). Rows are stored the way a batch stores them (set aside, then landed in one transaction), in
batches of 100,000; the trend query is timed five times on each store, median and range printed.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from trainer.monitor.database import Store  # noqa: E402
from trainer.monitor.pg_store import PostgresStore  # noqa: E402

BATCH = 100_000
LABELS = ("negative", "neutral", "positive")
GROUPS = ("Banking", "Energy", "Retail", "Tech", "Health")


def rows(start: int, count: int, rng: np.random.Generator) -> pd.DataFrame:
    """`count` scored rows over two years, five groups, three labels."""
    seconds = rng.integers(0, 2 * 365 * 86400, count)
    probs = rng.dirichlet(np.ones(len(LABELS)), count)
    return pd.DataFrame({
        "row_key": [f"k{start + i}" for i in range(count)],
        "happened": pd.Timestamp("2025-01-01") + pd.to_timedelta(seconds, unit="s"),
        "grp": rng.choice(GROUPS, count), "body": [f"text {start + i}" for i in range(count)],
        "predicted": [LABELS[i] for i in probs.argmax(1)], "confidence": probs.max(1), "probs": list(probs),
    })  # fmt: skip


def fill(store: Store, total: int) -> float:
    """Store `total` rows in batches; returns the seconds it took."""
    rng, began = np.random.default_rng(0), time.perf_counter()
    for start in range(0, total, BATCH):
        token = f"bench{start}"
        store.set_aside(token, rows(start, min(BATCH, total - start), rng))
        with store.transaction() as con:
            store.land_batch(con, token, "week", ("bench", token), (BATCH, 0, 0), 86400.0)
    return time.perf_counter() - began


def timed(store: Store, repeats: int = 5) -> list[float]:
    store.counts("week", True)  # once to warm the caches
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        frame = store.counts("week", True)
        times.append(time.perf_counter() - began)
    assert frame["n"].sum() == 2 * store.row_count()  # every row once per group, and once in (all)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        url = args.database_url
        if not url:
            from postgres_kit import postgres_server

            url = stack.enter_context(postgres_server())
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        stores = {"DuckDB (file)": Store(folder / "bench.duckdb"), "PostgreSQL": PostgresStore(url, "bench")}
        stores["PostgreSQL"].delete_files()
        stores["PostgreSQL"].create(time.time(), {})
        print(f"{args.rows:,} rows, weekly buckets, {len(GROUPS)} groups, {len(LABELS)} labels")
        print(
            "| store | storing the rows (s) | trend query, median (s) | range (s) | buckets x groups x labels |"
        )
        print("|---|---|---|---|---|")
        for name, store in stores.items():
            stored = fill(store, args.rows)
            times = timed(store)
            cells = len(store.counts("week", True))
            print(f"| {name} | {stored:.1f} | {statistics.median(times):.3f} | {min(times):.3f}-{max(times):.3f} "
                  f"| {cells:,} |")  # fmt: skip
        stores["PostgreSQL"].delete_files()


if __name__ == "__main__":
    main()
