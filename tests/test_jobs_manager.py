"""JobManager: jobs in their own processes, the queue on disk, cancel, failures, restarts, SIGKILL."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from trainer import runs
from trainer.config import TrainConfig
from trainer.jobs.manager import JobManager
from trainer.jobs.threads import ComputationRegistry

FAKE = str(Path(__file__).resolve().parent / "fake_jobs.py")


class FakeSplit:
    def __init__(self, n, tag="text"):
        self.texts, self.labels, self.tokens = [f"{tag} {i}" for i in range(n)], ["a", "b"] * (n // 2), None

    def __len__(self):
        return len(self.texts)

    def to_frame(self):
        return pd.DataFrame({"text": self.texts, "label": self.labels})


def data(tag: str = "text") -> SimpleNamespace:
    return SimpleNamespace(
        task="text-classification",
        labels=["a", "b"],
        train=FakeSplit(8, tag),
        validation=FakeSplit(2, tag),
        test=FakeSplit(2, tag),
        report=SimpleNamespace(to_dict=lambda: {"rows_read": 12}),
    )


DATA = data()


def worker(mode: str = "stepping", **options) -> list[str]:
    """The command a manager runs: a stand-in fit through the real worker."""
    args = [sys.executable, FAKE, mode]
    for key, value in options.items():
        args += [f"--{key}", str(value)]
    return args


@pytest.fixture
def manager(tmp_path):
    managers = []

    def make(command, runs_dir=None):
        m = JobManager(runs_dir or tmp_path / "runs", worker=command, poll=0.1)
        managers.append(m)
        return m

    yield make
    for m in managers:
        m.shutdown(cancel=True)


def until(condition, timeout=30.0):
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, "timed out"
        time.sleep(0.05)


def test_a_job_runs_to_finished_in_its_own_process_and_its_folder_records_it(manager):
    m = manager(worker(steps=10))
    job = m.submit(TrainConfig(), DATA, name="my run")
    snap = m.wait(job, timeout=60)
    assert snap.status == runs.FINISHED and snap.progress == 1.0
    assert snap.metrics == {"macro_f1": 0.9}
    assert [e["kind"] for e in snap.history] == ["log", "log"]
    status = runs.RunFolder(snap.run_dir).read_status()
    assert status.pid != os.getpid(), "the job ran in another process"
    info = runs.list_runs(m.runs_dir)[0]
    assert info.status == runs.FINISHED and info.name == "my run"
    saved = runs.load_run(snap.run_dir)
    assert saved.labels == ["a", "b"] and saved.report == {"rows_read": 12}
    assert len(saved.split("train")) == 8


def test_snapshots_show_progress_while_it_runs(manager):
    m = manager(worker(steps=300, delay=0.01))
    job = m.submit(TrainConfig(), DATA)
    seen = []
    while (snap := m.snapshot(job)).active:
        seen.append(snap.step)
        time.sleep(0.05)
    assert snap.status == runs.FINISHED
    assert any(0 < s < 300 for s in seen), "progress should be visible while running"
    assert seen == sorted(seen)


def test_later_jobs_queue_behind_the_running_one_and_say_so(manager, tmp_path):
    gate = tmp_path / "gate"
    m = manager(worker(steps=5, gate=gate))
    first = m.submit(TrainConfig(), DATA, name="first")
    second = m.submit(TrainConfig(), DATA, name="second")
    until(lambda: m.snapshot(first).status == runs.RUNNING)
    time.sleep(0.5)
    queued = m.snapshot(second)
    assert queued.status == runs.QUEUED and queued.waiting_for == "first" and queued.queue_position == 1
    gate.touch()
    assert m.wait(second, 60).status == runs.FINISHED
    assert m.snapshot(first).finished <= m.snapshot(second).started


def test_cancel_stops_a_running_job_and_a_queued_one_never_starts(manager):
    m = manager(worker(steps=10_000, delay=0.01))
    running, queued = m.submit(TrainConfig(), DATA), m.submit(TrainConfig(), DATA)
    until(lambda: m.snapshot(running).step >= 3)
    assert m.cancel(queued) and m.cancel(running)
    assert m.wait(running, 60).status == runs.CANCELLED
    assert m.wait(queued, 60).status == runs.CANCELLED
    assert runs.RunFolder(m.runs_dir / queued).progress() == {}, "the queued one never started"
    assert runs.list_runs(m.runs_dir)[0].status == runs.CANCELLED


def test_a_failing_job_becomes_a_status_with_a_plain_message_and_the_next_job_runs(manager):
    m = manager(worker("oom"))
    job = m.submit(TrainConfig(), DATA)
    snap = m.wait(job, 60)
    assert snap.status == runs.FAILED
    assert snap.error.startswith("Ran out of memory") and "batch size" in snap.error
    assert "Traceback" in (snap.run_dir / "error.log").read_text()
    m.worker = worker(steps=2)  # the manager survived: the next job still runs
    assert m.wait(m.submit(TrainConfig(), DATA), 60).status == runs.FINISHED


def test_a_full_disk_fails_clearly(manager):
    m = manager(worker("disk"))
    snap = m.wait(m.submit(TrainConfig(), DATA), 60)
    assert snap.status == runs.FAILED and snap.error.startswith("The disk is full")
    assert not runs.RunFolder(snap.run_dir).has_model


def test_two_app_processes_on_one_runs_folder_train_one_at_a_time_and_never_mix(manager, tmp_path):
    gate = tmp_path / "gate"
    one, two = manager(worker(steps=5, gate=gate)), manager(worker(steps=5, gate=gate))
    first = one.submit(TrainConfig(), data("alpha"), name="visitor one")
    second = two.submit(TrainConfig(), data("beta"), name="visitor two")
    until(lambda: one.snapshot(first).status == runs.RUNNING or one.snapshot(second).status == runs.RUNNING)
    time.sleep(1.0)  # both schedulers have looked several times
    statuses = sorted(s.status for s in one.jobs())
    assert statuses == [runs.QUEUED, runs.RUNNING], "the device lock lets one job run at a time"
    waiting = next(s for s in two.jobs() if s.status == runs.QUEUED)
    assert waiting.waiting_for in ("visitor one", "visitor two") and waiting.waiting_for != waiting.name
    gate.touch()
    assert one.wait(first, 60).status == runs.FINISHED and two.wait(second, 60).status == runs.FINISHED
    for job, tag in ((first, "alpha"), (second, "beta")):
        split = runs.RunFolder(one.runs_dir / job).split("train")
        assert split["text"].str.startswith(tag).all(), "each run keeps its own data"


def test_a_job_outlives_its_manager_and_the_next_one_reattaches(manager, tmp_path):
    runs_dir = tmp_path / "runs"
    first = manager(worker(steps=600, delay=0.01), runs_dir)
    job = first.submit(TrainConfig(), DATA, name="long one")
    queued = first.submit(TrainConfig(), DATA, name="next one")
    until(lambda: first.snapshot(job).step > 0)
    first.shutdown()  # the app stops: its scheduler ends, the job's process does not
    step = first.snapshot(job).step
    later = manager(worker(steps=5), runs_dir)  # a new app on the same runs folder
    snap = later.snapshot(job)
    assert snap.status == runs.RUNNING and later.snapshot(queued).status == runs.QUEUED
    until(lambda: later.snapshot(job).step > step)
    assert later.wait(job, 60).status == runs.FINISHED
    assert later.wait(queued, 60).status == runs.FINISHED, "the queue on disk is picked up"


def test_a_killed_job_is_interrupted_and_keeps_its_files_and_other_runs_stay_intact(manager):
    m = manager(worker(steps=10_000, delay=0.01))
    m.worker = worker(steps=3)
    done = m.submit(TrainConfig(), DATA, name="done")
    assert m.wait(done, 60).status == runs.FINISHED
    before = {p.name: p.read_bytes() for p in (m.runs_dir / done).glob("*.json")}
    m.worker = worker(steps=10_000, delay=0.01)
    victim = m.submit(TrainConfig(), DATA, name="victim")
    until(lambda: len(m.snapshot(victim).history) >= 2)
    pid = runs.RunFolder(m.runs_dir / victim).read_status().pid
    os.kill(pid, signal.SIGKILL)
    until(lambda: m.snapshot(victim).status == runs.INTERRUPTED)
    assert len(runs.load_run(m.runs_dir / victim).history) >= 2, "what it wrote is kept"
    assert {p.name: p.read_bytes() for p in (m.runs_dir / done).glob("*.json")} == before
    assert m.snapshot(done).status == runs.FINISHED
    m.worker = worker(steps=2)
    assert m.wait(m.submit(TrainConfig(), DATA), 60).status == runs.FINISHED, "the device lock was released"


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
    m = manager(worker(steps=3))
    job = m.submit(TrainConfig(epochs=2), DATA, name="keep me")
    m.wait(job, 60)
    fresh = manager(worker(steps=3))  # a new process would start like this
    assert [(j.name, j.status) for j in fresh.jobs()] == [("keep me", runs.FINISHED)]
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

    tasks = ComputationRegistry()
    first = tasks.start("k", work, 5)
    first.finished.wait(5)
    again = tasks.start("k", work, 5)
    assert again is first and first.result == 10 and first.progress == 1.0 and calls == [5]


def test_a_gpu_computation_waits_for_the_device_lock_a_fine_tune_holds(tmp_path, monkeypatch):
    """Background computations on a GPU take their turn on the same lock as fine-tuning."""
    import threading

    from trainer.files import locks
    from trainer.jobs import worker
    from trainer.runs import RunFolder, create_run

    folder = RunFolder(create_run(tmp_path / "runs", "done"))
    ran = []
    monkeypatch.setattr(worker, "uses_accelerator", lambda: True)
    monkeypatch.setattr(worker, "DEVICE_WAIT_SECONDS", 0.05)
    monkeypatch.setitem(worker.COMPUTATIONS, "noop", lambda f, p, progress, stop: ran.append(time.time()))
    held = locks.try_lock(locks.device_lock_file(folder.path.parent))  # a fine-tune is training
    assert held is not None
    try:
        thread = threading.Thread(target=worker.run_computation, args=(folder, "noop", {}))
        thread.start()
        deadline = time.time() + 20
        while (
            getattr(folder.read_computation("noop"), "status", None) != runs.QUEUED and time.time() < deadline
        ):
            time.sleep(0.02)
        time.sleep(0.3)
        state = folder.read_computation("noop")
        assert state.status == runs.QUEUED and state.waiting == "another job is using the GPU"
        assert ran == [], "it must not touch the GPU while the fine-tune holds it"
    finally:
        released = time.time()
        os.close(held)
    thread.join(timeout=20)
    assert len(ran) == 1 and ran[0] >= released and folder.read_computation("noop").status == runs.FINISHED
    # stopped while it waits: cancelled, never run
    held = locks.try_lock(locks.device_lock_file(folder.path.parent))
    try:
        folder.computation_stop_file("noop").write_text("stop")
        assert worker.run_computation(folder, "noop", {}) == 0
        assert folder.read_computation("noop").status == runs.CANCELLED and len(ran) == 1
    finally:
        os.close(held)
