"""Stand-in fine-tunes run through the real worker (`python tests/fake_jobs.py MODE [options] RUN_DIR`).

They emit progress like the real fit, honour the cancel file within one step, and fail on demand, so
the job machinery (processes, queue, locks, statuses) is tested in seconds without a model.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from trainer.jobs.worker import main
from trainer.runs import RunFolder
from trainer.train.progress import Cancelled, Event, History


def stepping(steps: int, delay: float, gate: str | None):
    def fit(config, data, run_dir, on_event=None, should_stop=None, resume=False):
        history = History(RunFolder(run_dir), on_event, resume=resume)
        while gate and not Path(gate).exists():
            time.sleep(0.02)
        for step in range(1, steps + 1):
            history(Event("step", step, steps, step / steps, samples_per_second=100.0, eta_seconds=1.0))
            if step % 5 == 0:
                history(Event("log", step, steps, step / steps, loss=1.0 / step))
            if should_stop():
                raise Cancelled()
            time.sleep(delay)
        RunFolder(run_dir).model_dir.mkdir()
        history(Event("end", steps, steps, 1.0, metrics={"macro_f1": 0.9}))

    return fit


def failing(message: str):
    def fit(*args, **kwargs):
        raise RuntimeError(message)

    return fit


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["stepping", "oom", "disk"])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--gate")
    known, rest = parser.parse_known_args()
    if known.mode == "stepping":
        fit_fn = stepping(known.steps, known.delay, known.gate)
    elif known.mode == "oom":
        fit_fn = failing("CUDA out of memory. Tried to allocate 2.00 GiB")
    else:

        def fit_fn(*args, **kwargs):
            import errno

            raise OSError(errno.ENOSPC, "No space left on device")

    sys.exit(main(rest, fit_fn=fit_fn))
