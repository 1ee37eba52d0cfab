"""Fine-tuning on a Ray cluster: with INSIGHT_RAY_ADDRESS set, a fine-tune job runs as a Ray Train job
(`TorchTrainer`) around the same `fit` (transformers.Trainer under DDP, as torchrun runs it): one worker per
GPU of the cluster, else one per INSIGHT_RAY_CPUS_PER_COPY CPUs of a node.

The job's own process is Ray's driver: it plans the workers, starts the Ray Train job and waits. Every worker
reads the run's settings and splits from the run folder (on storage every node shares, at the same path),
and the first one writes progress, the checkpoint of every epoch and the model there, as a local job does,
so the app and the command line show it the same way and cancel works the same way (every worker stops
within one step once the cancel file appears). A worker lost with its machine or its process: Ray Train
stops the others and starts the group again (at most FAILURES times), and each worker resumes from the
run's last epoch checkpoint. A failure of the training itself (bad data, divergence) is said in its own
sentence, not as a cluster failure.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trainer.errors import PLAIN, PlainError, friendly_error
from trainer.i18n import tr
from trainer.runs import RunFolder, cluster

FAILURES = 3  # times the worker group is started again after a lost worker, before the job fails


class ClusterTrainError(PlainError):
    """Training on the cluster failed for a reason of the cluster (said in words)."""


def _outcome(folder: RunFolder) -> Path:
    """How the workers' last attempt ended (cancelled, or the training's own error)."""
    return folder.cluster_outcome_file


def _loop(settings: dict) -> None:
    """One worker of the Ray Train job: `fit` on the run folder, resuming from its last epoch if it has one."""
    import ray.train

    from trainer import i18n
    from trainer.config import TrainConfig
    from trainer.jobs.events import ProgressWriter, quiet
    from trainer.runs.folder import PRIVATE_UMASK
    from trainer.train.fit import fit
    from trainer.train.progress import Cancelled

    os.umask(PRIVATE_UMASK)
    quiet()
    i18n.set_language(settings.get("lang"))
    folder, first = RunFolder(settings["run"]), ray.train.get_context().get_world_rank() == 0
    config = TrainConfig.from_dict(folder.asked_config())
    resume = bool(settings["resume"]) or folder.latest_checkpoint() is not None  # after a lost worker
    try:
        fit(config, folder.load_data(), folder.path, on_event=ProgressWriter(folder) if first else None,
            should_stop=folder.cancel_requested, resume=resume)  # fmt: skip
    except Cancelled:
        if first:
            _outcome(folder).write_text(json.dumps({"cancelled": True}))
        return
    except BaseException as exc:
        if _own_failure(exc):  # said in its own sentence; a lost peer is Ray Train's to restart
            _outcome(folder).write_text(json.dumps({"error": friendly_error(exc)}))
        raise


def _own_failure(exc: BaseException) -> bool:
    """A failure of the training itself (data, settings, divergence, disk), not of the workers' links."""
    import torch.distributed

    return isinstance(exc, PLAIN) and not isinstance(exc, torch.distributed.DistError)


def fit_on_cluster(where: str, folder: RunFolder, resume: bool, workers: int | None = None) -> int:
    """Run the fine-tune of `folder` as a Ray Train job on the cluster at `where`; returns the workers used.
    Raises Cancelled when the run was cancelled, PlainError with the training's own sentence when it failed,
    ClusterTrainError when the cluster kept losing its workers."""
    from ray.train import FailureConfig, RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    from trainer import i18n
    from trainer.train.progress import Cancelled

    _outcome(folder).unlink(missing_ok=True)
    with cluster.connected(where):
        plan = cluster.plan(where)
        count = max(1, min(workers or plan.copies, plan.copies))
        each = {"GPU": 1.0} if plan.gpus >= 1 else {"CPU": plan.cpus}
        trainer = TorchTrainer(
            _loop,
            train_loop_config={"run": str(folder.path), "resume": resume, "lang": i18n.language()},
            scaling_config=ScalingConfig(num_workers=count, use_gpu=plan.gpus >= 1, resources_per_worker=each),
            run_config=RunConfig(name="train", storage_path=str(folder.cluster_dir),
                                 failure_config=FailureConfig(max_failures=FAILURES)),
        )  # fmt: skip
        try:
            trainer.fit()
        except Exception as exc:  # noqa: BLE001 - Ray Train's TrainingFailedError and the cluster's own
            said = _read_outcome(folder)
            if said.get("error"):
                raise PlainError(said["error"]) from None
            error = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ClusterTrainError(tr("Training on the Ray cluster at {address} failed: {error}",
                                       address=where, error=error)) from None  # fmt: skip
    if _read_outcome(folder).get("cancelled"):
        raise Cancelled()
    return count


def _read_outcome(folder: RunFolder) -> dict:
    try:
        said = json.loads(_outcome(folder).read_text())
    except (OSError, ValueError):
        return {}
    return said if isinstance(said, dict) else {}


def fitter(where: str, folder: RunFolder) -> Callable[..., Any]:
    """A stand-in for `fit` with its signature (what the job worker calls) that trains on the cluster."""

    def fit_there(
        config: Any, data: Any, run_dir: Path, on_event=None, should_stop=None, resume=False
    ) -> int:
        return fit_on_cluster(where, folder, resume, config.devices or None)

    return fit_there
