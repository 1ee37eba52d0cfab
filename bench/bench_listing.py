"""Listing runs and the quota check at scale: 200 and 2,000 synthetic run folders, cold and warm.

    .venv/bin/python bench/bench_listing.py [--sizes 200 2000] [--repeat 5]

Each run folder is written by the real writers (create_run, set_owner, RunFolder.write_inputs,
write_resolved, write_history, write_metrics, write_predictions, write_array, save_model,
write_status): the files a real run has, small. One run in a hundred is left running (its process
is this one, alive), one in fifty failed, the rest finished; half belong to "ana", half to "bo".

Times, each in a fresh Python process (imports not counted):
- first: the first listing ever of that runs folder;
- cold: a later process's first call (what the command line and a restarted app pay);
- warm: the median of --repeat further calls in the same process (what every page and submit pays).
The quota check is `trainer.access.quotas.check` for "ana" (limits set high so it never refuses).

To time another version of the code, put it first on PYTHONPATH, e.g.
    git archive f7d4fd2 | tar -x -C /tmp/old && PYTHONPATH=/tmp/old .venv/bin/python bench/bench_listing.py
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
from types import SimpleNamespace

# appended, not inserted: a PYTHONPATH given on the command line (another version of the code) wins
sys.path.append(str(Path(__file__).resolve().parents[1]))

LABELS = ["negative", "neutral", "positive"]


class _Split:
    def __init__(self, n: int, seed: int):
        self.texts = [f"text {seed}-{i} about something rather {LABELS[i % 3]}" for i in range(n)]
        self.labels = [LABELS[i % 3] for i in range(n)]
        self.tokens = None

    def __len__(self) -> int:
        return len(self.texts)

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame({"text": self.texts, "label": self.labels, "row": range(len(self.texts))})


class _FakeModel:
    """Stands in for a transformers model/tokenizer: save_pretrained writes small files."""

    def save_pretrained(self, path, **kwargs) -> None:
        Path(path).mkdir(parents=True, exist_ok=True)
        (Path(path) / "config.json").write_text(
            json.dumps({"architectures": ["BertForSequenceClassification"]})
        )
        (Path(path) / "model.safetensors").write_bytes(bytes(4096))


def _metrics() -> dict:
    """A real metrics dict (the task's own scores), reused for every run."""
    from trainer.tasks import get_task

    gold = [LABELS[i % 3] for i in range(60)]
    predicted = [LABELS[(i * 7) % 3] for i in range(60)]
    task = get_task("text-classification")
    scores = task.scores(gold, predicted, LABELS)
    history = [{"kind": "eval", "step": 10 * e, "epoch": e, "macro_f1": 0.5 + e / 10} for e in range(1, 4)]
    return {
        "validation": scores,
        "test": scores,
        "summary": {"steps": 30, "train_seconds": 12.3},
        "history": history,
    }


def make_runs(runs_dir: Path, n: int) -> None:
    """n run folders written by the real writers."""
    import pandas as pd

    from trainer.access.owners import set_owner
    from trainer.runs import FAILED, FINISHED, QUEUED, RUNNING, RunFolder, create_run

    metrics = _metrics()
    events = [{"kind": "log", "step": s, "epoch": s / 10, "loss": 1.0 / s} for s in range(1, 31)]
    frame = pd.DataFrame({"text": ["a"] * 20, "gold": ["neutral"] * 20, "predicted": ["neutral"] * 20})
    for i in range(n):
        run = create_run(runs_dir, f"run {i}")
        set_owner(run, "ana" if i % 2 == 0 else "bo")
        folder = RunFolder(run)
        data = SimpleNamespace(
            task="text-classification", labels=LABELS, train=_Split(40, i), validation=_Split(10, i),
            test=_Split(10, i), report=SimpleNamespace(to_dict=lambda: {"rows_read": 60}),
        )  # fmt: skip
        folder.write_inputs({"model": "models/bert-tiny", "epochs": 3, "batch_size": 16}, data)
        folder.write_status(QUEUED, queued_at=time.time() - 3600)
        folder.write_resolved(max_length=64, epochs=3, device="CPU", learning_rate=5e-5, pooling="mean")
        if i % 100 == 50:
            folder.write_status(RUNNING, started=time.time() - 60)  # this process: alive while it times
            folder.write_history(events[:10])
            continue
        folder.write_history(events)
        if i % 50 == 7:
            folder.write_status(FAILED, finished=time.time() - 3000, error="Ran out of memory.")
            continue
        folder.write_metrics(metrics)
        folder.write_predictions(frame)
        folder.write_array(folder.probs_file("test"), [[0.2, 0.3, 0.5]] * 20)
        folder.save_model(_FakeModel(), _FakeModel())
        folder.write_status(FINISHED, finished=time.time() - 3000, resume=False)


def measure(runs_dir: Path, repeat: int) -> dict:
    """In this (fresh) process: the first call and the median of `repeat` more, of each."""
    os.environ["INSIGHT_MAX_JOBS_PER_PERSON"] = "1000000"
    os.environ["INSIGHT_MAX_DISK_MB_PER_PERSON"] = "1000000"
    from trainer.access import quotas
    from trainer.access.people import Person
    from trainer.runs import list_runs

    out: dict = {}
    for name, call in (
        ("list_runs", lambda: list_runs(runs_dir)),
        ("quota check", lambda: quotas.check(Person("ana"), runs_dir)),
    ):
        times = []
        for _ in range(repeat + 1):
            started = time.perf_counter()
            result = call()
            times.append(time.perf_counter() - started)
        out[name] = {"cold": times[0], "warm": statistics.median(times[1:])}
        if name == "list_runs":
            out["runs listed"] = len(result)
            out["running"] = sum(r.status == "running" for r in result)
    return out


def child(runs_dir: Path, repeat: int) -> dict:
    command = [sys.executable, __file__, "--measure", str(runs_dir), "--repeat", str(repeat)]
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=os.environ.copy())
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 2000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(Path(args.measure), args.repeat)))
        return
    import trainer

    print(f"code: {Path(trainer.__file__).resolve().parent.parent}")
    rows = []
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            runs_dir = Path(tmp) / "runs"
            started = time.perf_counter()
            make_runs(runs_dir, n)
            made = time.perf_counter() - started
            first = child(runs_dir, args.repeat)
            later = child(runs_dir, args.repeat)
            assert later["runs listed"] == n and later["running"] == n // 100, later
            for what in ("list_runs", "quota check"):
                rows.append((n, what, first[what]["cold"], later[what]["cold"], later[what]["warm"]))
            print(f"{n} runs written in {made:.1f} s", file=sys.stderr)
    print("| runs | call | first (s) | cold (s) | warm (s) |")
    print("|---:|---|---:|---:|---:|")
    for n, what, first_s, cold, warm in rows:
        print(f"| {n:,} | {what} | {first_s:.3f} | {cold:.3f} | {warm:.3f} |")


if __name__ == "__main__":
    main()
