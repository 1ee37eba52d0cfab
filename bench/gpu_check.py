"""The CUDA path: device choice, mixed precision, and a short fine-tune (run on a GPU machine).

python bench/gpu_check.py --model PATH [--data sample_data/product_sentiment.csv]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="default")
    parser.add_argument("--data", default="sample_data/product_sentiment.csv")
    args = parser.parse_args()
    import torch
    import transformers
    from transformers.utils import logging as hf_logging

    from trainer.config import TrainConfig
    from trainer.model.loading import load_tokenizer, pick_device
    from trainer.prepare import prepare
    from trainer.runs import create_run
    from trainer.runs.predictor import RunModel
    from trainer.train.fit import fit

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    choice = pick_device()
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, cuda {torch.version.cuda}")
    print(f"pick_device(): device={choice.device} name={choice.name} precision={choice.precision}")
    data = prepare(args.data, tokenizer=load_tokenizer(args.model))
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = create_run(Path(tmp), "gpu")
        events = []
        start = time.time()
        result = fit(TrainConfig(model=args.model), data, run_dir, on_event=events.append)
        wall = time.time() - start
        m = result.metrics
        model = RunModel.load(run_dir)
        dtype_inside = {}

        def hook(module, inputs, output):
            dtype_inside["logits"] = str(output.dtype)

        handle = model.model.classifier.register_forward_hook(hook)
        model.predict(data.test.texts[:8])
        handle.remove()
        print(
            f"device used: {m['summary']['device']}; train {m['summary']['train_seconds']} s, "
            f"{m['summary']['train_samples_per_second']} samples/s, epochs run {m['summary']['epochs_run']}"
        )
        print(
            f"test macro-F1 {m['test']['macro_f1']:.3f}, accuracy {m['test']['accuracy']:.3f}; wall {wall:.1f} s"
        )
        print(
            f"inference on {next(model.model.parameters()).device}, classifier output dtype under autocast: "
            f"{dtype_inside.get('logits')}"
        )
        peak = torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else 0
        print(f"peak CUDA memory: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
