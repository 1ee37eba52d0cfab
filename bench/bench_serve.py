"""The HTTP service under load, against a plain transformers.pipeline called in a loop, on the same texts.

    .venv/bin/python bench/bench_serve.py RUN [--requests 96] [--clients 1,8,32] [--sizes 1,16] [--variant int8]

Starts `python -m trainer serve RUN --no-tokens` on 127.0.0.1, then a bounded asyncio client (httpx) sends
`--requests` requests of 1 or 16 texts from 1, 8 and 32 concurrent clients. The baseline: the run's model
folder in `transformers.pipeline("text-classification", top_k=None)`, called once per request in one
process, one after another. Prints texts per second, p50 and p99 latency, and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def texts(count: int) -> list[str]:
    words = [
        "the",
        "order",
        "came",
        "late",
        "and",
        "the",
        "box",
        "was",
        "broken",
        "but",
        "support",
        "answered",
        "fast",
        "and",
        "kindly",
    ]
    rng = np.random.default_rng(0)
    return [" ".join(rng.choice(words, size=int(rng.integers(8, 30)))) for _ in range(count)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def load(url: str, clients: int, size: int, requests: int) -> tuple[float, list[float]]:
    import httpx

    pool = texts(size * requests)
    latencies: list[float] = []
    queue: asyncio.Queue = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(pool[i * size : (i + 1) * size])

    async def client(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            batch = queue.get_nowait()
            started = time.perf_counter()
            answer = await http.post(url + "/predict", json={"inputs": batch})
            answer.raise_for_status()
            latencies.append(time.perf_counter() - started)

    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(timeout=300, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        return time.perf_counter() - started, latencies


def baseline(model_dir: Path, size: int, requests: int) -> tuple[float, list[float]]:
    from transformers import pipeline

    pipe = pipeline("text-classification", model=str(model_dir), top_k=None)
    pool = texts(size * requests)
    pipe(pool[:size])  # warm
    latencies = []
    started = time.perf_counter()
    for i in range(requests):
        t = time.perf_counter()
        pipe(pool[i * size : (i + 1) * size])
        latencies.append(time.perf_counter() - t)
    return time.perf_counter() - started, latencies


def main() -> None:
    import httpx

    from trainer.runs.folder import RunFolder

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run")
    parser.add_argument("--requests", type=int, default=96)
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--sizes", default="1,16")
    parser.add_argument(
        "--variant", help="serve this accepted compressed variant of the run (see `compress`)"
    )
    args = parser.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "trainer", "serve", args.run, "--no-tokens", "--port", str(port),
                               *(["--variant", args.variant] if args.variant else [])],
                              cwd=ROOT, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        for _ in range(600):
            try:
                if httpx.get(url + "/health", timeout=2).json()["status"] == "ok":
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        info = httpx.get(url + "/info", timeout=10).json()
        print(
            f"run {info['run']}, {info['device']}, {info['precision']}, variant {info.get('variant')} "
            f"({info.get('engine')}), max batch {info['max_batch']}\n"
        )
        print("| texts per request | clients | requests | texts/s | p50 ms | p99 ms | vs pipeline loop |")
        print("|---|---|---|---|---|---|---|")
        for size in map(int, args.sizes.split(",")):
            base_seconds, base_lat = baseline(RunFolder(args.run).model_dir, size, args.requests)
            base_rate = size * args.requests / base_seconds
            print(f"| {size} | pipeline loop | {args.requests} | {base_rate:,.0f} | {np.percentile(base_lat, 50) * 1000:.0f} | "
                  f"{np.percentile(base_lat, 99) * 1000:.0f} | 1.00 |", flush=True)  # fmt: skip
            asyncio.run(load(url, 4, size, 8))  # warm
            for clients in map(int, args.clients.split(",")):
                seconds, lat = asyncio.run(load(url, clients, size, args.requests))
                rate = size * args.requests / seconds
                print(f"| {size} | {clients} | {args.requests} | {rate:,.0f} | {np.percentile(lat, 50) * 1000:.0f} | "
                      f"{np.percentile(lat, 99) * 1000:.0f} | {rate / base_rate:.2f} |", flush=True)  # fmt: skip
    finally:
        server.terminate()
        server.wait(60)


if __name__ == "__main__":
    main()
