"""Time per epoch: one training process against torchrun with several processes (DDP), same data.

    .venv/bin/python bench/bench_ddp.py [--data FILE] [--model M] [--processes 2] [--rounds 2] [--epochs 2]

Each round trains the same run twice through the command line users type: `python -m trainer fit`
(one process; on this machine the job runs in its own worker process) and `torchrun
--nproc_per_node N -m trainer fit ... --device cpu` (or cuda where there are GPUs). Rounds alternate the
order; the table gives the median seconds per epoch (from each run's metrics.json) and the ratio.
On a 2-core CPU no gain is expected: the point is that the distributed path works end to end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def train(command: list[str], runs_dir: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TOKENIZERS_PARALLELISM": "false"}
    started = time.time()
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=3600)
    if result.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{result.stderr[-2000:]}")
    run_dir = Path(result.stdout.strip().splitlines()[-1])
    summary = json.loads((run_dir / "metrics.json").read_text())["summary"]
    test = json.loads((run_dir / "metrics.json").read_text()).get("test", {})
    return {
        "per_epoch": summary["train_seconds"] / max(summary["epochs_run"], 1e-9),
        "wall": time.time() - started,
        "processes": summary.get("processes", 1),
        "macro_f1": test.get("macro_f1"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT / "sample_data" / "product_sentiment.csv"))
    parser.add_argument("--model", default="default")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--epochs", default="2")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    runs_dir = Path(tempfile.mkdtemp(prefix="bench-ddp-"))
    common = ["fit", args.data, "--model", args.model, "--epochs", args.epochs, "--patience", "0"]
    common += ["--device", args.device, "--runs-dir", str(runs_dir), "--quiet"]
    single = [sys.executable, "-m", "trainer", *common]
    multi = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc_per_node={args.processes}",
    ]
    multi += ["-m", "trainer", *common]
    results: dict[str, list[dict]] = {"1 process": [], f"torchrun, {args.processes} processes": []}
    for r in range(args.rounds):
        order = list(zip(results, (single, multi), strict=True))
        for name, command in order if r % 2 == 0 else order[::-1]:
            results[name].append(train(command, runs_dir))
            print(f"round {r + 1}: {name}: {results[name][-1]['per_epoch']:.1f} s/epoch", file=sys.stderr)
    base = statistics.median(x["per_epoch"] for x in results["1 process"])
    print(f"\ndata {Path(args.data).name}, model {args.model}, device {args.device}, {args.rounds} rounds\n")
    print("| setup | s / epoch (median) | ratio to 1 process | wall s (median) | test macro-F1 |")
    print("|---|---|---|---|---|")
    for name, rows in results.items():
        per_epoch = statistics.median(x["per_epoch"] for x in rows)
        wall = statistics.median(x["wall"] for x in rows)
        f1 = statistics.median(x["macro_f1"] for x in rows if x["macro_f1"] is not None)
        print(f"| {name} | {per_epoch:.1f} | {per_epoch / base:.2f} | {wall:.0f} | {f1:.3f} |")


if __name__ == "__main__":
    main()
