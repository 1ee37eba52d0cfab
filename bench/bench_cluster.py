"""Scoring on a Ray cluster against scoring here: rows per second on one node and on two nodes of a local
cluster, and local scoring with one and with every thread of this machine.

    .venv/bin/python bench/bench_cluster.py [--run RUN_DIR] [--rows 16000] [--chunk-rows 1000]

One file of --rows news-like rows (bench_score's), scored with a fine-tuned all-MiniLM-L6-v2 run (--run;
else one is trained here for 30 steps on the product reviews sample) four ways, each anew: in this process
with one torch thread and with all of them (what `score` does without a cluster), then through the Ray
Data pipeline on a local cluster (`ray.cluster_utils.Cluster`) of one node of one CPU and of two nodes of
one CPU each (a copy of the model each). Measured: the scoring phase alone (from its start to the join of
the parts; on the cluster that includes loading the model into each copy), the whole job, and rows per
second of the scoring phase. The cluster's own start (seconds, once per cluster) is shown apart.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))


def timed(run_dir: Path, source: Path, name: str, chunk_rows: int, where: str | None) -> tuple[float, float]:
    """(scoring-phase seconds, whole-job seconds) of one scoring, anew."""
    from trainer.apply.run_scoring import JOINING, run_scoring
    from trainer.runs import load_run
    from trainer.runs.predictor import RunModel
    from trainer.runs.scoring import Scoring, Spec

    scoring = Scoring(run_dir, name)
    shutil.rmtree(scoring.path, ignore_errors=True)  # anew, even with a --run scored by an earlier bench
    scoring.write_spec(Spec(str(source), "headline", "published", "topic", chunk_rows=chunk_rows))
    marks: dict[str, float] = {}

    def phase(p) -> None:
        if "Scoring the texts" in p.message:
            marks["scoring"] = time.time()
        elif p.message == JOINING.message:
            marks["joined"] = time.time()

    start = time.time()
    results = run_scoring(
        RunModel.load(run_dir), load_run(run_dir), scoring, None, None, phase, cluster=where
    )
    assert results["scored"] > 0
    return marks["joined"] - marks["scoring"], time.time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", help="a finished all-MiniLM-L6-v2 run folder (else one is trained here)")
    parser.add_argument("--rows", type=int, default=16000)
    parser.add_argument("--chunk-rows", type=int, default=1000)
    args = parser.parse_args()
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    import torch
    from bench_score import train, write_news
    from ray_kit import local_cluster

    work = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    runs = work / "runs"
    runs.mkdir()
    run_dir = Path(args.run).resolve() if args.run else runs / train(runs, "default", 30, "minilm")
    source = write_news(work / "news.csv", args.rows)
    threads = torch.get_num_threads()
    timed(run_dir, write_news(work / "warm.csv", 200), "warm", args.chunk_rows, None)  # trust thresholds kept
    rows = []
    torch.set_num_threads(1)
    rows.append(("here, 1 thread", "", *timed(run_dir, source, "one-thread", args.chunk_rows, None)))
    torch.set_num_threads(threads)
    rows.append(
        (f"here, {threads} threads", "", *timed(run_dir, source, "all-threads", args.chunk_rows, None))
    )
    for nodes in (1, 2):
        began = time.time()
        with local_cluster(nodes) as cluster:
            started = time.time() - began
            scoring, whole = timed(run_dir, source, f"nodes-{nodes}", args.chunk_rows, cluster.address)
        rows.append(
            (f"Ray cluster, {nodes} node{'s' * (nodes > 1)} x 1 CPU", f"{started:.0f}", scoring, whole)
        )
    flags = " ".join(sorted({f for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags")
                             for f in line.split(":")[1].split() if f.startswith(("avx", "amx"))}))  # fmt: skip
    print(f"machine: {os.cpu_count()} CPUs ({flags}), torch {torch.__version__}, {time.strftime('%Y-%m-%d')}; "
          f"{args.rows:,} rows in chunks of {args.chunk_rows}\n")  # fmt: skip
    print("| where | cluster start s | scoring s | whole job s | rows/s (scoring) | vs here, 1 thread |")
    print("|---|---|---|---|---|---|")
    base = rows[0][2]
    for where, started, scoring, whole in rows:
        print(f"| {where} | {started or '-'} | {scoring:.1f} | {whole:.1f} | {args.rows / scoring:.0f} | "
              f"{base / scoring:.2f}x |")  # fmt: skip
    print(f"\n(work folder {work})")


if __name__ == "__main__":
    main()
