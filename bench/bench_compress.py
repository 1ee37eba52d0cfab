"""Compressed variants against the same run's float32 model: speed, size, and what they answer.

    .venv/bin/python bench/bench_compress.py [--sets reviews cr trec] [--budget 4] [--rows 1500]

For each set, fine-tunes all-MiniLM-L6-v2 with `python -m trainer fit --time-budget MINUTES` (the product
reviews sample whole; a public set's training file, `--rows` of it drawn at random), then runs `compress`
(ONNX, int8, smaller) on it: the verdict of the run's own paired test on its test split, texts per second
at batch 64 and one text's latency (each the median of three rounds, timed in turn with the float32 model),
and the model's size. A public set's own test file is scored too, by the float32 model and by each variant
kept: its accuracy there and the share of the same answers. Prints one table per set.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "bench-data"
sys.path.insert(0, str(ROOT))

SETS = {"reviews": (ROOT / "sample_data" / "product_sentiment.csv", None),
        "cr": (BENCH / "cr_train.csv", BENCH / "cr_test.csv"),
        "trec": (BENCH / "trec_train.csv", BENCH / "trec_test.csv")}  # fmt: skip


def fit(data: Path, runs: Path, budget: float) -> Path:
    done = subprocess.run([sys.executable, "-m", "trainer", "fit", str(data), "--time-budget", str(budget), "--quiet",
                           "--runs-dir", str(runs)], cwd=ROOT, capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    return Path(done.stdout.strip().splitlines()[-1])


def public_test(run: Path, test: Path, names: list[str]) -> dict[str, tuple[float, float]]:
    """(accuracy on the public test file, the share of float32's answers) for float32 and each variant."""
    from trainer.runs.predictor import RunModel

    frame = pd.read_csv(test)
    texts, gold = [str(t) for t in frame["text"].fillna("")], [str(g) for g in frame["label"]]
    base = RunModel.load(run, device="cpu").predict(texts).labels
    found = {"float32": (sum(map(str.__eq__, base, gold)) / len(gold), 1.0)}
    for name in names:
        answers = RunModel.load(run, variant=name).predict(texts).labels
        found[name] = (sum(map(str.__eq__, answers, gold)) / len(gold),
                       sum(map(str.__eq__, answers, base)) / len(base))  # fmt: skip
    return found


def table(name: str, run: Path, report: dict, public: dict | None) -> None:
    print(f"\n### {name} (run {run.name})\n")
    print("| model | verdict | test-split score (paired test) | same answers | texts/s at 64 | one text ms "
          "| size MB | public test accuracy | same answers there |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    first = report["variants"][0]
    pub = public.get("float32") if public else None
    print(f"| float32 | - | {first['original_score']:.3f} | 100% | {first['original_texts_per_second']:.0f} | "
          f"{first['original_latency_ms']:.1f} | {first['original_size_mb']:.1f} | "
          f"{f'{pub[0]:.3f}' if pub else '-'} | {'100%' if pub else '-'} |")  # fmt: skip
    for v in report["variants"]:
        pub = public.get(v["name"]) if public else None
        verdict = "kept" if v["accepted"] else "refused"
        print(f"| {v['name']} | {verdict} | {v['score']:.3f} (p = {v['p_value']:.2g}, {v['speedup']:.2f}x) | "
              f"{v['agreement']:.1%} | {v['texts_per_second']:.0f} | {v['latency_ms']:.1f} | {v['size_mb']:.1f} | "
              f"{f'{pub[0]:.3f}' if pub else '-'} | {f'{pub[1]:.1%}' if pub else '-'} |", flush=True)  # fmt: skip


def main() -> None:
    from trainer.train.compress import compress

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    parser.add_argument("--budget", type=float, default=4.0, help="minutes of fine-tuning per set")
    parser.add_argument("--rows", type=int, default=1500, help="rows drawn from a public set's training file")
    parser.add_argument("--runs-dir", default=None, help="keep the runs here (default: a temporary folder)")
    args = parser.parse_args()
    runs = Path(args.runs_dir or tempfile.mkdtemp(prefix="bench-compress-"))
    for name in args.sets:
        train, test = SETS[name]
        if test is not None:
            sample = runs / f"{name}-train.csv"
            frame = pd.read_csv(train)
            frame.sample(min(args.rows, len(frame)), random_state=0).to_csv(sample, index=False)
            train = sample
        done = runs / f"{name}-run.txt"  # a set already fitted (and compressed) in this folder is reused
        run = Path(done.read_text().strip()) if done.exists() else fit(train, runs, args.budget)
        done.write_text(str(run))
        if (run / "compress.json").exists():
            report = json.loads((run / "compress.json").read_text())
        else:
            report = compress(run, say=lambda line: print(line, file=sys.stderr, flush=True))
            (run / "compress.json").write_text(json.dumps(report, indent=2))
        kept = [v["name"] for v in report["variants"] if v["accepted"]]
        table(name, run, report, public_test(run, test, kept) if test is not None else None)
    print(f"\nruns in {runs}")


if __name__ == "__main__":
    main()
