"""`python -m trainer fit | cancel | runs` as a user types them: jobs in their own processes, torchrun."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_kit import trainer_cli
from helpers import sentiment_csv
from test_jobs_manager import DATA, until, worker

from trainer import runs
from trainer.config import TrainConfig
from trainer.jobs.manager import JobManager

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fake_manager(tmp_path):
    m = JobManager(tmp_path / "runs", worker=worker(steps=100_000, delay=0.01), poll=0.1)
    yield m
    m.shutdown(cancel=True)


def test_cancel_stops_a_running_job_from_the_command_line(fake_manager):
    job = fake_manager.submit(TrainConfig(), DATA, name="long")
    until(lambda: fake_manager.snapshot(job).step > 0)
    done = trainer_cli("runs", "--runs-dir", fake_manager.runs_dir)
    assert done.returncode == 0 and "running" in done.stdout and "%" in done.stdout, (
        "a live job shows its progress"
    )
    done = trainer_cli("cancel", job, "--runs-dir", fake_manager.runs_dir, "--wait", "60")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{job}: cancelled" and fake_manager.snapshot(job).status == runs.CANCELLED
    done = trainer_cli("cancel", job, "--runs-dir", fake_manager.runs_dir)
    assert done.returncode == 2 and done.stderr.startswith("error:") and "nothing to cancel" in done.stderr


def test_a_run_is_only_ever_looked_for_inside_the_runs_folder(fake_manager, tmp_path):
    job = fake_manager.submit(TrainConfig(), DATA, name="x")
    fake_manager.cancel(job)
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "sneaky").mkdir(parents=True)
    (elsewhere / "sneaky" / "status.json").write_text('{"status": "finished"}')
    for ref in (elsewhere / "sneaky", "../elsewhere/sneaky", "../../etc"):
        done = trainer_cli("cancel", ref, "--runs-dir", fake_manager.runs_dir)
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
        assert "not inside the runs folder" in done.stderr or "No run called" in done.stderr


def test_a_cancelled_real_run_resumes_from_the_command_line(tmp_path, tiny_model_dir):
    from trainer.prepare import prepare

    manager = JobManager(tmp_path / "runs", poll=0.2)
    try:
        data = prepare(sentiment_csv(tmp_path / "s.csv", n=90))
        config = TrainConfig(model=str(tiny_model_dir), epochs=40, batch_size=4, early_stopping_patience=0)
        job = manager.submit(config, data, name="resume me")
        folder = runs.RunFolder(manager.runs_dir / job)
        until(lambda: folder.latest_checkpoint() is not None, timeout=300)
        manager.cancel(job)
        snap = manager.wait(job, 120)
        assert snap.status == runs.CANCELLED and snap.resumable
    finally:
        manager.shutdown()
    runs.write_json(folder.config_file, {**runs.read_json(folder.config_file), "epochs": 3})  # finish sooner
    done = trainer_cli("fit", "--resume", job, "--runs-dir", tmp_path / "runs", "--quiet")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == str(folder.path)
    metrics = folder.metrics()
    assert metrics["summary"]["resumed"] and metrics["test"]["n"] > 0 and folder.has_model
    assert any(e["kind"] == "eval" for e in folder.history())


def test_torchrun_with_two_processes_trains_one_run(tmp_path, tiny_model_dir):
    data = sentiment_csv(tmp_path / "s.csv", n=90)
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    command += ["-m", "trainer", "fit", str(data), "--device", "cpu", "--model", str(tiny_model_dir)]
    command += ["--epochs", "2", "--runs-dir", str(tmp_path / "runs"), "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.time()
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    (info,) = runs.list_runs(tmp_path / "runs")
    folder = runs.RunFolder(info.path)
    assert result.stdout.strip().splitlines()[-1] == str(info.path), "rank 0 alone prints the run folder"
    assert info.status == runs.FINISHED and folder.has_model and folder.predictions() is not None
    assert folder.metrics()["summary"]["processes"] == 2
    assert json.loads(folder.resolved_file.read_text())["max_length"] >= 8
    assert time.time() - started < 600
