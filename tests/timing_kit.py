"""A run folder whose measured training speed is known by construction (no training, no timing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trainer.config import TrainConfig
from trainer.runs import RunFolder, create_run


def measured_run(
    runs_dir: Path,
    data: Any,
    device_label: str,
    train_seconds: float,
    steps: int,
    model: str = "default",
    batch_size: int = 16,
    name: str = "measured",
) -> Path:
    """A finished run of `model` on `device_label` that trained `steps` steps of `batch_size` texts from
    `data`'s training split in `train_seconds` (its summary says so)."""
    run_dir = create_run(runs_dir, name)
    folder = RunFolder(run_dir)
    folder.write_inputs(TrainConfig(model=model, batch_size=batch_size).to_dict(), data)
    folder.write_resolved(device=device_label, epochs=3.0)
    folder.write_metrics(
        {"summary": {"train_seconds": train_seconds, "steps": steps, "device": device_label}}
    )
    folder.write_status("finished", name=name)
    return run_dir
