"""`serve --ray` under load: one replica against autoscaling to two, with 16 and 64 concurrent clients, and
the replicas over time.

    .venv/bin/python bench/bench_serve_cluster.py [--run RUN_DIR] [--seconds 40]

A local Ray cluster of two nodes of one CPU each (tests/ray_kit.py) serves the run (--run; else an
all-MiniLM-L6-v2 run trained here for 30 steps) twice: with one replica (--min-replicas 1 --max-replicas 1)
and autoscaling from one to two (--target-ongoing-requests 2 --upscale-delay 2 --downscale-delay 30). For
each, 16 then 64 clients post one news-like text per request for --seconds each; printed: requests per
second, median and 95th percentile latency, errors, and the replicas running (Ray's replica processes) every
5 seconds.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))


def replicas() -> int:
    import psutil

    return sum(" ".join(p.info["cmdline"] or []).startswith("ray::ServeReplica")
               for p in psutil.process_iter(["cmdline"]))  # fmt: skip


def load(url: str, clients: int, seconds: float) -> tuple[list[float], int, list[int]]:
    """(latencies of the answered requests, errors, replicas seen every 5 s) of `clients` posting in a loop."""
    import httpx

    latencies, errors, stop = [], [0], threading.Event()

    def client(i: int) -> None:
        with httpx.Client(timeout=120) as http:
            n = 0
            while not stop.is_set():
                began = time.perf_counter()
                try:
                    ok = (
                        http.post(
                            url + "/predict", json={"inputs": f"Bank {i} shares fall {n} after results"}
                        ).status_code
                        == 200
                    )
                except httpx.HTTPError:
                    ok = False
                if ok:
                    latencies.append(time.perf_counter() - began)
                else:
                    errors[0] += 1
                n += 1

    seen = []
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(client, i) for i in range(clients)]
        end = time.time() + seconds
        while time.time() < end:
            seen.append(replicas())
            time.sleep(5)
        stop.set()
        for future in futures:
            future.result()
    return latencies, errors[0], seen


def serve(run_dir: Path, address: str, port: int, options: list[str], log: Path) -> subprocess.Popen:
    import httpx

    proc = subprocess.Popen([sys.executable, "-m", "trainer", "serve", str(run_dir), "--ray", address, "--port",
                             str(port), "--no-tokens", *options], cwd=ROOT, stdout=log.open("w"),
                            stderr=subprocess.STDOUT, start_new_session=True,
                            env={**os.environ, "INSIGHT_RAY_CPUS_PER_COPY": "1"})  # fmt: skip
    deadline = time.time() + 300
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).json().get("status") == "ok":
                return proc
        except (httpx.HTTPError, ValueError):
            pass
        assert proc.poll() is None, log.read_text()[-3000:]
        time.sleep(1)
    raise RuntimeError(log.read_text()[-3000:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", help="a finished run folder (else an all-MiniLM-L6-v2 run is trained here)")
    parser.add_argument("--seconds", type=float, default=40)
    args = parser.parse_args()
    from bench_score import train
    from ray_kit import local_cluster
    from test_serve_cluster import free_port

    work = Path(tempfile.mkdtemp(prefix="bench-serve-cluster-"))
    (work / "runs").mkdir()
    run_dir = (
        Path(args.run).resolve()
        if args.run
        else work / "runs" / train(work / "runs", "default", 30, "minilm")
    )
    shapes = {"1 replica": ["--min-replicas", "1", "--max-replicas", "1"],
              "autoscaling 1-2": ["--min-replicas", "1", "--max-replicas", "2", "--target-ongoing-requests", "2",
                                  "--upscale-delay", "2", "--downscale-delay", "30"]}  # fmt: skip
    rows = []
    with local_cluster(2) as cluster:
        for name, options in shapes.items():
            port = free_port()
            proc = serve(run_dir, cluster.address, port, options, work / f"serve-{port}.log")
            try:
                for clients in (16, 64):
                    latencies, errors, seen = load(f"http://127.0.0.1:{port}", clients, args.seconds)
                    ordered = sorted(latencies)
                    rows.append((name, clients, len(latencies) / args.seconds, statistics.median(ordered),
                                 ordered[int(0.95 * (len(ordered) - 1))], errors, seen))  # fmt: skip
            finally:
                proc.terminate()
                proc.wait(120)
    print(f"{args.seconds:.0f} s per load, one text per request, a local cluster of 2 nodes x 1 CPU")
    print("| replicas | clients | requests/s | median ms | p95 ms | errors | replicas every 5 s |")
    print("|---|---|---|---|---|---|---|")
    for name, clients, rate, median, p95, errors, seen in rows:
        print(f"| {name} | {clients} | {rate:.1f} | {median * 1000:.0f} | {p95 * 1000:.0f} | {errors} | "
              f"{' '.join(map(str, seen))} |")  # fmt: skip


if __name__ == "__main__":
    main()
