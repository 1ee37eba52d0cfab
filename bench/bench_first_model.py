"""Time to a first model with the defaults, before and after the quick CPU defaults (issue 30, item 2).

"old": the longer default (`effort="best"`: `auto_epochs`, 10 epochs on a few hundred rows, early stopping,
no time budget), what `TrainConfig()` did before. "quick": `TrainConfig()` now on a CPU (`effort="auto"`
resolves to quick: the same `auto_epochs`, early stopping, a 3-minute training budget). Extra settings
(`--epochs`, `--budget`) try a longer quick run. Every setting uses the same split of the same file and is
scored on the same test split. Also prints the estimate the Train page shows before Start, found as the
page finds it (`trainer.train.estimate.estimate`: the newest run of the model in the runs folder, else the
speed kept for this machine, else a calibration it waits for here), against the time it took.

    python bench/bench_first_model.py --setting quick|old [--data sample_data/product_sentiment.csv]
        [--runs-dir /tmp/bench-first-model] [--epochs N] [--budget MINUTES]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SETTINGS = {"quick": {}, "old": {"effort": "best"}}


def estimate_before_start(runs_dir: Path, config, data):
    """What the Train page says before Start (waiting for a calibration the page would not wait for)."""
    from trainer.train import estimate as timing
    from trainer.train import speed as speeds

    found = timing.estimate(runs_dir, config, data)
    while found.pending:
        time.sleep(0.2)
        if not speeds.calibrating():
            found = timing.estimate(runs_dir, config, data)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setting", choices=list(SETTINGS), required=True)
    parser.add_argument("--data", default="sample_data/product_sentiment.csv")
    parser.add_argument("--model", default="default")
    parser.add_argument("--runs-dir", default="/tmp/bench-first-model")
    parser.add_argument("--epochs", type=float, default=None, help="epochs instead of the effort's")
    parser.add_argument("--budget", type=float, default=None, help="time budget in minutes")
    args = parser.parse_args()

    from trainer.config import TrainConfig
    from trainer.model.loading import load_tokenizer
    from trainer.prepare import prepare
    from trainer.runs import RunFolder, create_run, write_status
    from trainer.train.estimate import device_of
    from trainer.train.fit import fit

    extra = {
        k: v for k, v in (("epochs", args.epochs), ("time_budget_minutes", args.budget)) if v is not None
    }
    config = TrainConfig(model=args.model, **SETTINGS[args.setting], **extra)
    data = prepare(args.data, tokenizer=load_tokenizer(args.model), seed=config.seed)
    runs_dir = Path(args.runs_dir)
    found = estimate_before_start(runs_dir, config, data)
    label, accelerated = device_of(config.device)
    effort = config.resolved_effort(accelerated)
    said = found.plans[effort].seconds
    name = f"first model {args.setting} {extra}".strip()
    run_dir = create_run(runs_dir, name)
    RunFolder(run_dir).write_inputs(config.to_dict(), data)
    started = time.time()
    result = fit(config, data, run_dir)
    seconds = time.time() - started
    write_status(run_dir, "finished", name=name, device=label)
    summary, test = result.metrics["summary"], result.metrics["test"]
    print(
        f"setting={args.setting} extra={extra} effort={effort} device={summary['device']} "
        f"train={len(data.train)} epochs_run={summary['epochs_run']} steps={summary['steps']} "
        f"stopped_at_budget={summary['stopped_at_time_budget']} "
        f"train_s={summary['train_seconds']:.1f} first_model_s={seconds:.1f} "
        f"estimate_before_start_s={'none' if said is None else f'{said:.0f}'} "
        f"estimate_source={found.speed.source if found.speed else 'none'} "
        f"test_macro_f1={test['macro_f1']:.3f} test_accuracy={test['accuracy']:.3f}"
    )


if __name__ == "__main__":
    main()
