"""A run folder is its service user's only, and a model download carries the model's own files only
(issue 28, 11: run folder modes, model_zip and links)."""

from __future__ import annotations

import io
import os
import stat
import sys
import zipfile
from pathlib import Path

import pytest

from trainer import runs
from trainer.config import TrainConfig
from trainer.jobs.manager import JobManager
from trainer.runs import RunFolder, create_run

FAKE = str(Path(__file__).resolve().parent / "fake_jobs.py")


@pytest.fixture
def open_umask():
    """The usual umask (022), under which files are created readable by everyone unless made private."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def modes_under(folder: Path) -> dict[str, int]:
    found = {".": mode(folder)}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(root) / name
            found[str(path.relative_to(folder))] = mode(path)
    return found


def test_a_new_run_folder_and_what_is_submitted_to_it_are_private(tmp_path, open_umask):
    from test_jobs_manager import DATA

    m = JobManager(tmp_path / "runs", schedule=False)
    run = m.runs_dir / m.submit(TrainConfig(), DATA, name="private")
    found = modes_under(run)
    assert {"status.json", "config.json", "access.json", "data", "data/train.jsonl"} <= set(found)
    assert {name: oct(m) for name, m in found.items() if m & 0o077} == {}, "nothing readable by others"
    assert found["."] == 0o700 and found["data"] == 0o700 and found["status.json"] == 0o600
    assert mode(m.runs_dir) == 0o700, "a runs folder made here is private too"
    assert os.umask(0o022) == 0o022, "the process's umask is given back"
    other = create_run(tmp_path / "runs", "another")
    assert mode(other) == 0o700 and mode(other / "status.json") == 0o600


def test_what_a_job_writes_into_its_run_is_private(tmp_path, open_umask):
    from test_jobs_manager import DATA

    m = JobManager(tmp_path / "runs", worker=[sys.executable, FAKE, "stepping", "--steps", "5"], poll=0.1)
    try:
        job = m.submit(TrainConfig(), DATA, name="trained")
        assert m.wait(job, 60).status == runs.FINISHED
    finally:
        m.shutdown(cancel=True)
    found = modes_under(m.runs_dir / job)
    assert {"history.json", "progress.json", "worker.log", "model"} <= set(found)
    assert {name: oct(m) for name, m in found.items() if m & 0o077} == {}


def test_a_model_download_leaves_out_links_and_anything_outside_the_model_folder(tmp_path):
    from insight_ui.reports.run_report import model_zip

    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "deep").mkdir(parents=True)
    (elsewhere / "deep" / "key.pem").write_text("PRIVATE KEY")
    folder = RunFolder(create_run(tmp_path / "runs", "zip me"))
    (folder.model_dir / "sub").mkdir(parents=True)
    (folder.model_dir / "config.json").write_text("{}")
    (folder.model_dir / "sub" / "vocab.txt").write_text("[PAD]")
    (folder.model_dir / "passwd").symlink_to("/etc/passwd")
    (folder.model_dir / "secret.txt").symlink_to(secret)
    (folder.model_dir / "tokenizer.json").symlink_to(folder.model_dir / "config.json")  # inside, still a link
    (folder.model_dir / "linked").symlink_to(elsewhere, target_is_directory=True)
    archive = zipfile.ZipFile(io.BytesIO(model_zip(folder.path)))
    assert sorted(archive.namelist()) == ["model/config.json", "model/sub/vocab.txt"]
    assert b"root:" not in b"".join(archive.read(n) for n in archive.namelist())
    assert [str(name) for _, name in folder.model_files()] == ["config.json", "sub/vocab.txt"]
    folder.model_dir.rename(folder.path / "real-model")
    folder.model_dir.symlink_to(elsewhere, target_is_directory=True)  # model/ itself a link
    assert folder.model_files() == [] and zipfile.ZipFile(io.BytesIO(model_zip(folder.path))).namelist() == []
