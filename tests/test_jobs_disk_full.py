"""A full disk during fine-tuning, and a job's process that ends without saying how (issue 28, 10).

The full disk is made by construction: the Trainer's checkpoint save (real fit, tiny model, through the
worker) writes half a checkpoint and raises ENOSPC, and writing the traceback fails the same way.
"""

from __future__ import annotations

import errno
import sys
import time
from pathlib import Path

import pytest
from helpers import sentiment_csv

from trainer import runs
from trainer.config import TrainConfig
from trainer.jobs import worker
from trainer.jobs.manager import JobManager, snapshot_of
from trainer.model.loading import load_tokenizer
from trainer.prepare import prepare
from trainer.runs import RunFolder, create_run


def submitted(tmp_path, tiny_model_dir) -> RunFolder:
    data = prepare(sentiment_csv(tmp_path / "s.csv"), tokenizer=load_tokenizer(str(tiny_model_dir)))
    folder = RunFolder(create_run(tmp_path / "runs", "full disk"))
    config = TrainConfig(model=str(tiny_model_dir), epochs=2, batch_size=16, learning_rate=1e-3)
    folder.write_inputs(config.to_dict(), data)
    folder.write_status(runs.QUEUED, queued_at=time.time())
    return folder


def test_a_full_disk_while_saving_an_epoch_fails_with_what_to_do_and_the_run_resumes(
    tmp_path, tiny_model_dir, monkeypatch
):
    from transformers import Trainer

    folder = submitted(tmp_path, tiny_model_dir)
    original, saved = Trainer._save_checkpoint, []

    def save_until_the_disk_fills(self, model, trial):
        saved.append(self.state.global_step)
        if len(saved) == 1:
            return original(self, model, trial)
        half = Path(self.args.output_dir) / f"checkpoint-{self.state.global_step}"
        half.mkdir(parents=True)
        (half / "model.safetensors").write_bytes(b"half a model")
        raise OSError(errno.ENOSPC, "No space left on device")

    def no_room(self, text):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Trainer, "_save_checkpoint", save_until_the_disk_fills)
    monkeypatch.setattr(RunFolder, "write_error_log", no_room)  # the traceback does not fit either
    assert worker.run_fit(folder) == 1
    status = folder.read_status()
    assert status.status == runs.FAILED and status.error.startswith("The disk is full")
    assert f"Free space under {folder.path.parent}, then resume the run" in status.error
    assert len(saved) == 2 and saved[0] < saved[1]
    kept = sorted(p.name for p in folder.checkpoints_dir.iterdir())
    assert kept == [f"checkpoint-{saved[0]}"], "the half-saved epoch is deleted, the whole one kept"
    assert not folder.reserve_file.exists() and not list(folder.path.glob(".*.tmp*"))
    snap = snapshot_of(folder.path)
    assert snap.status == runs.FAILED and snap.resumable

    monkeypatch.setattr(Trainer, "_save_checkpoint", original)  # space was freed
    monkeypatch.undo()
    JobManager(folder.path.parent, schedule=False).resume(folder.path.name)
    assert worker.run_fit(folder) == 0, folder.read_status().error
    assert folder.read_status().status == runs.FINISHED and folder.has_model
    assert folder.metrics()["summary"]["resumed"] is True


def test_a_full_disk_is_known_however_a_library_words_it(tmp_path):
    from trainer.runs.space import disk_full

    assert disk_full(OSError(errno.ENOSPC, "No space left on device"), tmp_path)
    assert disk_full(OSError(errno.EDQUOT, "Disk quota exceeded"), tmp_path)
    wrapped = RuntimeError("saving failed")
    wrapped.__cause__ = OSError(errno.ENOSPC, "No space left on device")
    assert disk_full(wrapped, tmp_path)
    assert disk_full(Exception('IoError(Os { code: 28, kind: StorageFull, message: "No space" })'), tmp_path)
    assert not disk_full(
        RuntimeError("PytorchStreamWriter failed writing file data/0: file write failed"), tmp_path
    )
    assert not disk_full(OSError(errno.EACCES, "Permission denied"), tmp_path)
    folder = RunFolder(create_run(tmp_path, "advice"))
    assert worker.disk_full_advice(folder, False).endswith(
        f"Free space under {tmp_path}, then start the run again."
    )


ENDINGS = """
import os, signal, sys
from trainer.jobs.worker import main

def fit(config, data, run_dir, on_event=None, should_stop=None, resume=False):
    if sys.argv[1] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    print("Segmentation fault in a library", flush=True)
    os._exit(3)

sys.exit(main(sys.argv[2:], fit_fn=fit))
"""


@pytest.fixture
def manager(tmp_path):
    made = []

    def make(mode: str) -> JobManager:
        made.append(JobManager(tmp_path / "runs", worker=[sys.executable, "-c", ENDINGS, mode], poll=0.1))
        return made[-1]

    yield make
    for m in made:
        m.shutdown(cancel=True)


def submit(m: JobManager) -> str:
    from test_jobs_manager import DATA

    return m.submit(TrainConfig(), DATA, name="dies")


def test_a_job_process_that_exits_without_its_status_failed_and_says_why(manager):
    m = manager("exit")
    snap = m.wait(submit(m), 60)
    assert snap.status == runs.FAILED
    assert snap.error == (
        "The training process ended unexpectedly (exit code 3) before it recorded how it ended. "
        "Its log ends with: Segmentation fault in a library"
    )


def test_a_job_process_killed_before_its_status_says_so_and_stays_resumable(manager):
    m = manager("kill")
    job = submit(m)
    deadline = time.time() + 60
    while not (m.snapshot(job).error or time.time() > deadline):
        time.sleep(0.05)
    snap = m.snapshot(job)
    assert snap.status == runs.INTERRUPTED
    assert snap.error == (
        "The training process was stopped by SIGKILL (exit code -9) before it recorded how it ended. "
        "Its log is empty."
    )
    assert not RunFolder(snap.run_dir).reserve_file.exists()
