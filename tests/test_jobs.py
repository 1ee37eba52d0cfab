"""JobManager: queueing, status snapshots from other threads, cancel, failures, restarts."""

import threading
import time
from types import SimpleNamespace

import pandas as pd
import pytest

from trainer import runs
from trainer.config import TrainConfig
from trainer.fit import Cancelled, Event
from trainer.jobs import JobManager, TaskRegistry


class FakeSplit:
    def __init__(self, n):
        self.texts, self.labels, self.tokens = [f"text {i}" for i in range(n)], ["a", "b"] * (n // 2), None

    def __len__(self):
        return len(self.texts)

    def to_frame(self):
        return pd.DataFrame({"text": self.texts, "label": self.labels})


DATA = SimpleNamespace(
    task="text-classification",
    labels=["a", "b"],
    train=FakeSplit(8),
    validation=FakeSplit(2),
    test=FakeSplit(2),
    report=SimpleNamespace(to_dict=lambda: {"rows_read": 12}),
)


def stepping_fit(steps=50, delay=0.02, gate=None):
    """A stand-in for fit that emits step events and honours should_stop like the real callback."""

    def fit(config, data, run_dir, on_event, should_stop):
        if gate is not None:
            gate.wait(10)
        for step in range(1, steps + 1):
            on_event(Event("step", step, steps, step / steps, samples_per_second=100.0, eta_seconds=1.0))
            if step % 5 == 0:
                on_event(Event("log", step, steps, step / steps, loss=1.0 / step))
            if should_stop():
                raise Cancelled()
            time.sleep(delay)
        (run_dir / "model").mkdir()
        on_event(Event("end", steps, steps, 1.0, metrics={"macro_f1": 0.9}))

    return fit


@pytest.fixture
def manager(tmp_path):
    managers = []

    def make(fit_fn):
        m = JobManager(tmp_path / "runs", fit_fn=fit_fn)
        managers.append(m)
        return m

    yield make
    for m in managers:
        m.shutdown()


def test_a_job_runs_to_finished_and_its_folder_records_it(manager):
    m = manager(stepping_fit(steps=10, delay=0))
    job = m.submit(TrainConfig(), DATA, name="my run")
    snap = m.wait(job, timeout=30)
    assert snap.status == runs.FINISHED and snap.progress == 1.0
    assert snap.metrics == {"macro_f1": 0.9}
    assert [e["kind"] for e in snap.history] == ["log", "log"]
    info = runs.list_runs(m.runs_dir)[0]
    assert info.status == runs.FINISHED and info.name == "my run"
    saved = runs.load_run(snap.run_dir)
    assert saved.labels == ["a", "b"] and saved.report == {"rows_read": 12}
    assert len(saved.split("train")) == 8


def test_snapshots_from_another_thread_show_progress(manager):
    m = manager(stepping_fit(steps=200, delay=0.01))
    job = m.submit(TrainConfig(), DATA)
    seen = []
    while (snap := m.snapshot(job)).active:
        seen.append(snap.step)
        time.sleep(0.05)
    assert snap.status == runs.FINISHED
    assert any(0 < s < 200 for s in seen), "progress should be visible while running"
    assert seen == sorted(seen)


def test_later_jobs_queue_behind_the_running_one(manager):
    gate = threading.Event()
    m = manager(stepping_fit(steps=5, delay=0, gate=gate))
    first, second = m.submit(TrainConfig(), DATA), m.submit(TrainConfig(), DATA)
    time.sleep(0.2)
    assert m.snapshot(first).status == runs.RUNNING
    assert m.snapshot(second).status == runs.QUEUED
    gate.set()
    assert m.wait(second, 30).status == runs.FINISHED
    assert m.snapshot(first).finished <= m.snapshot(second).started


def test_cancel_stops_a_running_job_and_a_queued_one_never_starts(manager):
    m = manager(stepping_fit(steps=10_000, delay=0.01))
    running, queued = m.submit(TrainConfig(), DATA), m.submit(TrainConfig(), DATA)
    while m.snapshot(running).step < 3:
        time.sleep(0.01)
    assert m.cancel(queued) and m.cancel(running)
    assert m.wait(running, 30).status == runs.CANCELLED
    assert m.wait(queued, 30).status == runs.CANCELLED
    assert m.snapshot(queued).started is None
    assert runs.list_runs(m.runs_dir)[0].status == runs.CANCELLED


def test_a_failing_job_becomes_a_status_with_a_plain_message(manager):
    def oom(*args, **kwargs):
        raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")

    m = manager(oom)
    job = m.submit(TrainConfig(), DATA)
    snap = m.wait(job, 30)
    assert snap.status == runs.FAILED
    assert snap.error.startswith("Ran out of memory") and "batch size" in snap.error
    assert "Traceback" in (snap.run_dir / "error.log").read_text()
    # the worker thread survived: the next job still runs
    m._fit_fn = stepping_fit(steps=2, delay=0)
    assert m.wait(m.submit(TrainConfig(), DATA), 30).status == runs.FINISHED


def test_runs_left_running_by_a_dead_process_show_as_interrupted(tmp_path):
    run_dir = runs.create_run(tmp_path, "crashed")
    runs.write_status(run_dir, runs.RUNNING)
    (run_dir / "history.json").write_text('[{"kind": "log", "loss": 0.5}]')
    # a process id that cannot exist: the training process is gone
    status = runs.read_json(run_dir / "status.json")
    runs.write_json(run_dir / "status.json", {**status, "pid": 2**22 + 12345})
    info = runs.list_runs(tmp_path)[0]
    assert info.status == runs.INTERRUPTED
    assert runs.load_run(run_dir).history == [{"kind": "log", "loss": 0.5}], "nothing written is lost"


def test_a_run_of_this_process_that_no_manager_tracks_is_interrupted(tmp_path):
    run_dir = runs.create_run(tmp_path, "orphan")
    runs.write_status(run_dir, runs.RUNNING)
    assert runs.run_info(run_dir).status == runs.INTERRUPTED
    runs.mark_live(run_dir, True)
    assert runs.run_info(run_dir).status == runs.RUNNING
    runs.mark_live(run_dir, False)


def test_runs_reload_after_a_restart(manager, tmp_path):
    m = manager(stepping_fit(steps=3, delay=0))
    job = m.submit(TrainConfig(epochs=2), DATA, name="keep me")
    m.wait(job, 30)
    fresh = JobManager(tmp_path / "runs")  # a new process would start like this
    assert fresh.jobs() == []
    (info,) = runs.list_runs(tmp_path / "runs")
    assert (info.name, info.status) == ("keep me", runs.FINISHED)
    assert runs.load_run(info.path).config["epochs"] == 2


def test_task_registry_shares_one_computation_and_reports_progress():
    calls = []

    def work(n, progress, should_stop):
        calls.append(n)
        for i in range(n):
            progress(i + 1, n)
        return n * 2

    tasks = TaskRegistry()
    first = tasks.start("k", work, 5)
    first.finished.wait(5)
    again = tasks.start("k", work, 5)
    assert again is first and first.result == 10 and first.progress == 1.0 and calls == [5]
