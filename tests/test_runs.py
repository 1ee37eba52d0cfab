"""trainer.runs: RunFolder names and writes every file of a run; listing, finding and interrupted runs."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest
from helpers import sentiment_csv

from trainer import runs
from trainer.config import TrainConfig
from trainer.prepare import prepare
from trainer.runs import RunFolder, create_run, find_run, list_runs, load_run


@pytest.fixture
def submitted(tmp_path):
    """A run folder as a job leaves it when submitted: status, config, labels, report, splits."""
    data = prepare(sentiment_csv(tmp_path / "s.csv", n=60))
    run_dir = create_run(tmp_path / "runs", "my first run")
    RunFolder(run_dir).write_inputs(TrainConfig(epochs=2).to_dict(), data)
    return run_dir, data


def test_every_path_is_named_by_the_folder_and_lies_inside_it(tmp_path):
    folder = RunFolder(tmp_path / "r")
    paths = [
        getattr(folder, name) for name in dir(RunFolder) if isinstance(getattr(RunFolder, name), property)
    ]
    paths = [p for p in paths if not isinstance(p, bool)]
    paths += [folder.split_file("test"), *folder.embedding_files("all").values()]
    assert len(paths) >= 16 and len(set(paths)) == len(paths)
    assert all(folder.path in p.parents for p in paths)


def test_inputs_written_at_submit_read_back(submitted):
    run_dir, data = submitted
    folder = RunFolder(run_dir)
    assert folder.labels() == data.labels and folder.report()["rows_read"] == 60
    assert len(folder.split("train")) == len(data.train) and folder.split("nope") is None
    config = folder.config()
    assert (
        config["epochs"] == 2
        and config["task"] == "text-classification"
        and "resolved_max_length" not in config
    )
    folder.write_resolved(max_length=24, epochs=2.0, device="CPU (2 cores)")
    assert folder.config()["resolved_max_length"] == 24 and folder.config()["device"] == "CPU (2 cores)"


def test_files_are_written_whole_and_read_back(submitted):
    run_dir, _ = submitted
    folder = RunFolder(run_dir)
    folder.write_metrics({"test": {"macro_f1": 0.5}})
    folder.write_history([{"kind": "log", "loss": 1.0}])
    folder.write_predictions(
        pd.DataFrame({"text": ["a"], "gold": ["x"], "predicted": ["x"], "confidence": [1.0]})
    )
    assert folder.metrics()["test"]["macro_f1"] == 0.5 and folder.history()[0]["loss"] == 1.0
    assert folder.predictions().iloc[0]["predicted"] == "x"
    assert not [p for p in run_dir.rglob("*") if p.name.endswith(".tmp")], "no temp file left behind"
    (run_dir / "metrics.json").write_text("{broken")
    assert folder.metrics() == {}, "a damaged file reads as empty, never raises"


def test_status_keeps_earlier_fields_and_a_dead_process_means_interrupted(submitted):
    run_dir, _ = submitted
    folder = RunFolder(run_dir)
    assert folder.read_status().status == "queued" and folder.read_status().name == "my first run"
    folder.write_status(runs.RUNNING, started=1.0)
    assert folder.read_status().name == "my first run" and folder.read_status().pid == os.getpid()
    assert runs.run_info(run_dir).status == runs.INTERRUPTED, "running in this process but not live"
    runs.mark_live(run_dir, True)
    try:
        assert runs.run_info(run_dir).status == runs.RUNNING
    finally:
        runs.mark_live(run_dir, False)
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    folder.write_status(runs.RUNNING)
    status = folder.read_status().with_fields(pid=int(gone.stdout))
    assert runs.effective_status(run_dir, status) == runs.INTERRUPTED
    folder.write_status(runs.FINISHED)
    assert runs.run_info(run_dir).status == runs.FINISHED


def test_liveness_names_the_host_so_another_machines_job_is_not_declared_dead(submitted):
    """A shared runs folder: a pid that does not exist here may run on the machine that wrote it."""
    from trainer.files import locks

    run_dir, _ = submitted
    folder = RunFolder(run_dir)
    gone = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True).stdout)  # fmt: skip
    folder.write_status(runs.RUNNING)
    assert folder.read_status().host == locks.this_host() and locks.this_host().strip()
    status = folder.read_status().with_fields(pid=gone)
    assert runs.effective_status(run_dir, status) == runs.INTERRUPTED, "this machine: the pid is gone"
    other = status.with_fields(host="gpu-box-7 0d3c1f2e-aaaa")
    assert runs.effective_status(run_dir, other) == runs.RUNNING, "only gpu-box-7 can tell"
    rebooted = status.with_fields(host=locks.this_host().split(" ")[0] + " an-earlier-boot")
    assert runs.effective_status(run_dir, rebooted) == runs.INTERRUPTED, "this machine before a reboot"


def test_listing_finding_and_loading(submitted, tmp_path):
    run_dir, _ = submitted
    second = create_run(tmp_path / "runs", "my first run")
    (tmp_path / "runs" / "not-a-run").mkdir()
    assert second != run_dir, "the same name twice gets two folders"
    listed = list_runs(tmp_path / "runs")
    assert [r.path for r in listed] == sorted(
        [run_dir, second], key=lambda p: -RunFolder(p).read_status().created
    )
    assert (
        find_run(run_dir, tmp_path / "runs") == run_dir
        and find_run(run_dir.name, tmp_path / "runs") == run_dir
    )
    assert find_run("my first run", tmp_path / "runs") in (run_dir, second), "by name"
    with pytest.raises(FileNotFoundError, match="not inside the runs folder"):
        find_run(run_dir, tmp_path / "elsewhere")
    (tmp_path / "runs" / "link").symlink_to(run_dir.parent.parent / "outside", target_is_directory=True)
    (run_dir.parent.parent / "outside").mkdir()
    (run_dir.parent.parent / "outside" / "status.json").write_text("{}")
    with pytest.raises(FileNotFoundError, match="not inside the runs folder"):
        find_run("link", tmp_path / "runs")
    with pytest.raises(FileNotFoundError, match="No run called nope"):
        find_run("nope", tmp_path / "runs")
    # a link in the runs folder to a real run elsewhere: not listed, not found by its name
    away = create_run(tmp_path / "away", "far away")
    (tmp_path / "runs" / "far").symlink_to(away, target_is_directory=True)
    assert away not in [r.path.resolve() for r in list_runs(tmp_path / "runs")]
    with pytest.raises(FileNotFoundError):
        find_run("far away", tmp_path / "runs")
    with pytest.raises(FileNotFoundError, match="not inside the runs folder"):
        find_run(tmp_path / "runs" / "far", tmp_path / "runs")
    # the command line: a run folder's own path works wherever it lies; a folder that is not a run does not
    RunFolder(away).config_file.write_text("{}")
    assert find_run(away, tmp_path / "runs", anywhere=True) == away
    with pytest.raises(FileNotFoundError):
        find_run(run_dir.parent.parent / "outside", tmp_path / "runs", anywhere=True)
    run = load_run(run_dir)
    assert run.adapter.name == "text-classification" and run.labels and not run.has_model
    with pytest.raises(FileNotFoundError, match="not a run folder"):
        load_run(tmp_path / "runs" / "not-a-run")


def test_slugify_keeps_run_names_folder_safe():
    assert runs.slugify(" my/../run: v2 ") == "my-..-run-v2"
    assert runs.slugify("////") == "run" and len(runs.slugify("x" * 200)) == 60


def test_status_records_keep_fields_they_do_not_know_and_read_a_missing_file_as_interrupted(tmp_path):
    folder = RunFolder(tmp_path)
    assert folder.read_status().status == runs.INTERRUPTED and folder.read_computation("embed-all") is None
    folder.status_file.write_text('{"status": "running", "pid": 1, "shard": 3}', encoding="utf-8")
    record = folder.read_status()
    assert (record.status, record.pid, record.extra) == ("running", 1, {"shard": 3})
    folder.write_status(runs.FINISHED, finished=5.0)
    saved = runs.read_json(folder.status_file)
    assert saved["shard"] == 3 and saved["status"] == "finished" and saved["pid"] == os.getpid()
    state = folder.write_computation("embed-all", kind="embed", done=2, total=4)
    assert folder.read_computation("embed-all") == state and state.status == runs.FAILED  # never started


def test_a_run_folder_written_before_computations_were_renamed_still_shows_its_computations(tmp_path):
    """Runs written before this layout kept computation states in tasks/: they are read from there."""
    from trainer.jobs.manager import JobManager

    run_dir = runs.create_run(tmp_path, "old")
    (run_dir / "tasks").mkdir()
    (run_dir / "tasks" / "embed-all.json").write_text(
        '{"kind": "embed", "status": "finished", "done": 120, "total": 120}', encoding="utf-8"
    )
    manager = JobManager(tmp_path, schedule=False)
    try:
        snap = manager.computation(run_dir, "embed-all")
    finally:
        manager.shutdown()
    assert (snap.status, snap.done, snap.total) == ("finished", 120, 120)
    assert not (run_dir / "computations").exists(), "nothing moved: the old file is the state"
