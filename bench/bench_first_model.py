"""Time to a first model with the defaults, before and after the quick CPU defaults (issue 30, item 2).

"old": the longer default (`effort="best"`: `auto_epochs`, 10 epochs on a few hundred rows, early stopping,
no time budget), what `TrainConfig()` did before. "quick": `TrainConfig()` now on a CPU (`effort="auto"`
resolves to quick: `quick_epochs`, early stopping, a 3-minute training budget). Both use the same split of
the same file and are scored on the same test split. Also prints the estimate the Train page would have
shown before Start (from the speed measured by the earlier setting's run in the same runs folder, else
none), against the time it took.

    python bench/bench_first_model.py --setting quick|old [--data sample_data/product_sentiment.csv]
        [--runs-dir /tmp/bench-first-model]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SETTINGS = {"quick": {}, "old": {"effort": "best"}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setting", choices=list(SETTINGS), required=True)
    parser.add_argument("--data", default="sample_data/product_sentiment.csv")
    parser.add_argument("--model", default="default")
    parser.add_argument("--runs-dir", default="/tmp/bench-first-model")
    args = parser.parse_args()

    from trainer.config import TrainConfig
    from trainer.model.loading import load_tokenizer
    from trainer.prepare import prepare
    from trainer.runs import RunFolder, create_run, write_status
    from trainer.train.estimate import device_of, estimate
    from trainer.train.fit import fit

    config = TrainConfig(model=args.model, **SETTINGS[args.setting])
    data = prepare(args.data, tokenizer=load_tokenizer(args.model), seed=config.seed)
    runs_dir = Path(args.runs_dir)
    found = estimate(runs_dir, config, data, calibrate_now=False)
    effort = config.resolved_effort(found.accelerated)
    said = found.plans[effort].seconds
    run_dir = create_run(runs_dir, f"first model {args.setting}")
    RunFolder(run_dir).write_inputs(config.to_dict(), data)
    started = time.time()
    result = fit(config, data, run_dir)
    seconds = time.time() - started
    write_status(run_dir, "finished", name=f"first model {args.setting}", device=device_of(config.device)[0])
    summary, test = result.metrics["summary"], result.metrics["test"]
    print(
        f"setting={args.setting} effort={effort} device={summary['device']} "
        f"train={len(data.train)} epochs_run={summary['epochs_run']} steps={summary['steps']} "
        f"stopped_at_budget={summary['stopped_at_time_budget']} "
        f"train_s={summary['train_seconds']:.1f} first_model_s={seconds:.1f} "
        f"estimate_before_start_s={'none' if said is None else f'{said:.0f}'} "
        f"test_macro_f1={test['macro_f1']:.3f} test_accuracy={test['accuracy']:.3f}"
    )


if __name__ == "__main__":
    main()
