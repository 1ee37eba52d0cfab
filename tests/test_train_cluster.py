"""Fine-tuning on a Ray cluster of two nodes on this machine (a Ray Train job around the same fit): a job
started as the app starts one trains on two workers, survives a worker killed after its first epoch by
resuming from that epoch, and ends like a local run; a cancel stops it as a local one stops. The cluster
runs in a process of its own (tests/ray_kit.py); the job's process is Ray's driver."""

from __future__ import annotations

import os
import signal

import psutil
import pytest
from helpers import sentiment_csv
from ray_kit import local_cluster
from test_jobs_manager import until

from trainer import runs
from trainer.config import TrainConfig
from trainer.jobs.manager import JobManager


@pytest.fixture(scope="module")
def cluster():
    with local_cluster(2) as running:
        yield running


@pytest.fixture
def on_cluster(cluster, monkeypatch, tmp_path):
    """A job manager whose jobs train on the cluster (INSIGHT_RAY_ADDRESS, a CPU per worker)."""
    monkeypatch.setenv("INSIGHT_RAY_ADDRESS", cluster.address)
    monkeypatch.setenv("INSIGHT_RAY_CPUS_PER_COPY", "1")
    manager = JobManager(tmp_path / "runs", poll=0.2)
    yield manager
    manager.shutdown(cancel=True)


def training_workers() -> list[psutil.Process]:
    """The processes of Ray Train's workers on this machine (Ray titles them after the actor)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        line = " ".join(process.info["cmdline"] or [])
        if line.startswith("ray::RayTrainWorker"):
            found.append(process)
    return found


def test_a_fine_tune_on_the_cluster_survives_a_killed_worker_and_ends_like_a_local_run(
    on_cluster, tmp_path, tiny_model_dir
):
    from trainer.prepare import prepare

    data = prepare(sentiment_csv(tmp_path / "s.csv", n=90))
    config = TrainConfig(model=str(tiny_model_dir), epochs=4, batch_size=4, early_stopping_patience=0)
    job = on_cluster.submit(config, data, name="on the cluster")
    folder = runs.RunFolder(on_cluster.runs_dir / job)
    until(lambda: folder.latest_checkpoint() is not None, timeout=300)
    workers = training_workers()
    assert len(workers) == 2, "one worker per node"
    os.kill(workers[-1].pid, signal.SIGKILL)
    snap = on_cluster.wait(job, 420)
    assert snap.status == runs.FINISHED, snap.error
    summary = folder.metrics()["summary"]
    assert summary["processes"] == 2, "trained data-parallel over two workers"
    assert summary["resumed"], "the group started again from the last epoch, not from scratch"
    assert folder.has_model and folder.predictions() is not None and folder.metrics()["test"]["n"] > 0
    assert any(e["kind"] == "eval" for e in folder.history())


def test_a_fine_tune_on_the_cluster_is_cancelled_as_a_local_one_and_stays_resumable(on_cluster, tmp_path,
                                                                               tiny_model_dir):  # fmt: skip
    from trainer.prepare import prepare

    data = prepare(sentiment_csv(tmp_path / "s.csv", n=90))
    config = TrainConfig(model=str(tiny_model_dir), epochs=40, batch_size=4, early_stopping_patience=0)
    job = on_cluster.submit(config, data, name="cancel me")
    folder = runs.RunFolder(on_cluster.runs_dir / job)
    until(lambda: folder.latest_checkpoint() is not None, timeout=300)
    on_cluster.cancel(job)
    snap = on_cluster.wait(job, 180)
    assert snap.status == runs.CANCELLED and snap.resumable, snap.error
    until(lambda: not training_workers(), timeout=60)
