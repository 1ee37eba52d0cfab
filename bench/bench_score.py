"""Scoring new text (Apply / `python -m trainer score`): rows per second, and peak memory as the file grows.

    .venv/bin/python bench/bench_score.py [--run RUN_DIR] [--rows 1000000] [--speed-rows 4000]

Two tables. Speed: `python -m trainer score` on --speed-rows news-like rows with a fine-tuned
all-MiniLM-L6-v2 run (--run; else one is trained here for 30 steps on sample_data/product_sentiment.csv,
which is enough to time it). Memory: the same command on files of 10,000, 100,000 and --rows rows
with a tiny 2-layer BERT run (the model's own size aside, what grows with the file is the streaming),
each in a fresh process whose peak resident memory (ru_maxrss) is read by its parent.
Every command resumes nothing: each file is scored anew (--again).
"""

from __future__ import annotations

import argparse
import csv
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

WORDS = ("shares climb after strong results", "cuts jobs as sales fall", "holds its annual meeting",
         "wins a major contract", "faces a fraud probe", "names a new chief financial officer")  # fmt: skip
TOPICS = ("Energy", "Banking", "Retail", "Technology")


def write_news(path: Path, rows: int) -> Path:
    """`rows` dated headlines over four topics (about 60 bytes a row)."""
    rng = random.Random(rows)
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["published", "topic", "headline"])
        for i in range(rows):
            day = 1 + (i * 90 // rows)
            out.writerow([f"2026-{6 + (day - 1) // 30:02d}-{1 + (day - 1) % 30:02d}", rng.choice(TOPICS),
                          f"Company {rng.randrange(500)} {rng.choice(WORDS)} ({i})"])  # fmt: skip
    return path


def measured(command: list[str]) -> tuple[float, float]:
    """(seconds, peak resident MiB) of a command, run as the only child of a fresh process."""
    probe = (
        "import resource, subprocess, sys, time; t = time.time(); "
        "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode; "
        "print(time.time() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, code)"
    )
    out = subprocess.run([sys.executable, "-c", probe, *command], cwd=ROOT, capture_output=True, text=True)
    seconds, mib, code = out.stdout.split()
    if code != "0":
        raise SystemExit(f"{' '.join(command)} failed: {out.stderr[-2000:]}")
    return float(seconds), float(mib)


def train(runs: Path, model: str, steps: int, name: str) -> str:
    subprocess.run([sys.executable, "-m", "trainer", "fit", str(ROOT / "sample_data" / "product_sentiment.csv"),
                    "--model", model, "--max-steps", str(steps), "--runs-dir", str(runs), "--name", name,
                    "--quiet"], cwd=ROOT, check=True, capture_output=True)  # fmt: skip
    return sorted(p.name for p in runs.iterdir() if p.name.endswith(name))[-1]


def score(runs: Path, run: str, data: Path) -> list[str]:
    return [sys.executable, "-m", "trainer", "score", run, str(data), "--runs-dir", str(runs), "--text-column",
            "headline", "--time-column", "published", "--group-column", "topic", "--again", "--quiet"]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", help="a finished all-MiniLM-L6-v2 run folder (else one is trained here)")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--speed-rows", type=int, default=4000)
    args = parser.parse_args()
    import torch
    from conftest import build_tiny_model

    work = Path(tempfile.mkdtemp(prefix="bench-score-"))
    runs = work / "runs"
    runs.mkdir()
    if args.run:
        real_runs, real = Path(args.run).resolve().parent, Path(args.run).name
    else:
        real_runs, real = runs, train(runs, "default", 30, "minilm")
    speed_file = write_news(work / "speed.csv", args.speed_rows)
    seconds, mib = measured(score(real_runs, real, speed_file))
    from trainer.runs import RunFolder

    precision = (RunFolder(real_runs / real).inference().get("finetuned") or {}).get("precision", "fp32")
    print(f"machine: {torch.get_num_threads()} torch threads, torch {torch.__version__}, CUDA "
          f"{'yes' if torch.cuda.is_available() else 'no'}; {time.strftime('%Y-%m-%d')}\n")  # fmt: skip
    print(
        "| model | rows | precision | wall s (incl. start-up, trust calibration, alerts) | rows/s | peak MiB |"
    )
    print("|---|---|---|---|---|---|")
    print(f"| all-MiniLM-L6-v2 run | {args.speed_rows:,} | {precision} | {seconds:.1f} | "
          f"{args.speed_rows / seconds:.0f} | {mib:.0f} |\n")  # fmt: skip
    tiny = train(runs, str(build_tiny_model(work / "tiny")), 10, "tiny")
    print("| model | rows | file MiB | wall s | rows/s | peak MiB |")
    print("|---|---|---|---|---|---|")
    for rows in sorted({10_000, 100_000, args.rows}):
        data = write_news(work / f"news-{rows}.csv", rows)
        seconds, mib = measured(score(runs, tiny, data))
        size = data.stat().st_size / 2**20
        print(f"| tiny 2-layer BERT run | {rows:,} | {size:.0f} | {seconds:.0f} | {rows / seconds:.0f} | {mib:.0f} |",
              flush=True)  # fmt: skip
    print(f"\n(work folder {work})")


if __name__ == "__main__":
    main()
