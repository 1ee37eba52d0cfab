"""Listing runs and the quota check stay cheap at scale without ever showing a stale status (issue 28, 12).

A second listing reads no file of a run folder that did not change; a changed one is read again at once,
and a live run's process is checked at every listing. No timing is asserted: what is counted is reads.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import time

import pytest

from trainer import runs
from trainer.access import owners, quotas
from trainer.access.people import Person
from trainer.runs import RunFolder, create_run, list_runs, listing


@pytest.fixture
def cache_at_once(monkeypatch):
    """Lines and sizes are kept as soon as they are read (not only once their files are 2 s old), so a
    test sees the cache itself at work."""
    monkeypatch.setattr(listing, "RACY_SECONDS", 0.0, raising=False)


@pytest.fixture
def reads(monkeypatch, tmp_path):
    """The files under tmp_path read as text (every JSON of a run folder is), and the folders walked."""
    seen: list[str] = []
    read_text, walk = pathlib.Path.read_text, os.walk

    def counting_read(self, *args, **kwargs):
        if str(self).startswith(str(tmp_path)):
            seen.append(str(self))
        return read_text(self, *args, **kwargs)

    def counting_walk(top, *args, **kwargs):
        if str(top).startswith(str(tmp_path)):
            seen.append(f"walk {top}")
        return walk(top, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "read_text", counting_read)
    monkeypatch.setattr(os, "walk", counting_walk)
    return seen


def finished_runs(runs_dir, n: int) -> list:
    made = []
    for i in range(n):
        run = create_run(runs_dir, f"run {i}")
        owners.set_owner(run, "ana")
        RunFolder(run).write_metrics({"test": {"accuracy": 0.5, "macro_f1": 0.5}})
        RunFolder(run).write_status(runs.FINISHED, finished=time.time())
        made.append(run)
    return made


def test_listing_again_reads_no_unchanged_run_and_shows_a_changed_status_at_once(
    tmp_path, cache_at_once, reads
):
    made = finished_runs(tmp_path, 5)
    assert {r.status for r in list_runs(tmp_path)} == {runs.FINISHED}
    reads.clear()
    again = list_runs(tmp_path)
    assert [r.path for r in again] == sorted(made, key=lambda p: p.name, reverse=True)
    assert {r.status for r in again} == {runs.FINISHED} and {r.metric for r in again} == {0.5}
    assert reads == [], "nothing of an unchanged run folder is read again"
    RunFolder(made[2]).write_status(runs.FAILED, error="It broke.")  # within the same clock tick, maybe
    changed = {r.path: r for r in list_runs(tmp_path)}
    assert (changed[made[2]].status, changed[made[2]].error) == (runs.FAILED, "It broke.")
    assert all(str(made[2]) in path for path in reads) and reads, "only the changed run was read again"
    RunFolder(made[3]).write_metrics({"test": {"accuracy": 0.9, "macro_f1": 0.8}})
    assert {r.path: r.metric for r in list_runs(tmp_path)}[made[3]] == 0.8, "new scores show at once"


def test_a_live_run_is_checked_at_every_listing_and_a_deleted_one_is_gone(tmp_path, cache_at_once):
    (done,) = finished_runs(tmp_path, 1)
    live = create_run(tmp_path, "live")
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        RunFolder(live).write_status(runs.RUNNING, pid=child.pid)
        time.sleep(0.05)  # the stamp is older than RACY_SECONDS (0 here): the line is cached
        assert {r.path: r.status for r in list_runs(tmp_path)}[live] == runs.RUNNING
        assert {r.path: r.status for r in list_runs(tmp_path)}[live] == runs.RUNNING
    finally:
        child.kill()
        child.wait(10)
    assert {r.path: r.status for r in list_runs(tmp_path)}[live] == runs.INTERRUPTED, "its process is gone"
    import shutil

    shutil.rmtree(done)
    assert [r.path for r in list_runs(tmp_path)] == [live]


def test_the_quota_check_counts_again_only_what_changed(tmp_path, cache_at_once, reads, monkeypatch):
    ana = Person("ana")
    made = finished_runs(tmp_path, 4)
    monkeypatch.setenv("INSIGHT_MAX_DISK_MB_PER_PERSON", "1")
    quotas.check(ana, tmp_path)
    reads.clear()
    quotas.check(ana, tmp_path)
    assert reads == [], "no run folder read or walked again when nothing changed"
    deep = RunFolder(made[1]).scoring_dir("big") / "parts"
    deep.mkdir(parents=True)
    (deep / "part-0.bin").write_bytes(bytes(600_000))
    time.sleep(0.01)
    quotas.check(ana, tmp_path)  # 0.6 MB of 1 MB
    (deep / "part-1.bin").write_bytes(bytes(600_000))  # a file added deep in one run is counted
    with pytest.raises(quotas.QuotaError, match="Your runs take 1.2 MB"):
        quotas.check(ana, tmp_path)
    assert all(str(made[1]) in path for path in reads), "only the run that changed was counted again"
    owners.set_owner(made[1], "bo")  # a run given to someone else no longer counts
    quotas.check(ana, tmp_path)
    monkeypatch.setenv("INSIGHT_MAX_JOBS_PER_PERSON", "1")
    RunFolder(made[0]).write_status(runs.QUEUED, queued_at=time.time())
    with pytest.raises(quotas.QuotaError, match="already have 1 job queued or running"):
        quotas.check(ana, tmp_path)


def test_a_new_process_lists_from_the_index_and_never_shows_a_stale_line(
    tmp_path, cache_at_once, reads, monkeypatch
):
    """The lines are kept on disk too (<runs>/.listing.json): a new process reads that one file, not every
    run, yet a run that changed since the index was written, or a damaged index, shows what its files say."""

    def new_process() -> None:
        monkeypatch.setattr(listing, "_lines", {})
        monkeypatch.setattr(listing, "_indexed", set())

    made = finished_runs(tmp_path, 4)
    list_runs(tmp_path)
    index = tmp_path / listing.INDEX_FILE
    assert index.exists() and index.stat().st_mode & 0o777 == 0o600
    new_process()
    reads.clear()
    again = list_runs(tmp_path)
    assert [r.path for r in again] == sorted(made, key=lambda p: p.name, reverse=True)
    assert {r.status for r in again} == {runs.FINISHED} and {r.metric for r in again} == {0.5}
    assert {r.name for r in again} == {f"run {i}" for i in range(4)}
    assert reads == [str(index)], "a new process reads the index, and no run folder"
    RunFolder(made[1]).write_status(runs.FAILED, error="It broke.")  # the index still says finished
    new_process()
    changed = {r.path: r for r in list_runs(tmp_path)}
    assert (changed[made[1]].status, changed[made[1]].error) == (runs.FAILED, "It broke.")
    assert {changed[p].status for p in made if p != made[1]} == {runs.FINISHED}
    index.write_text("{ not json", encoding="utf-8")
    new_process()
    assert {r.path: r.status for r in list_runs(tmp_path)}[made[1]] == runs.FAILED, (
        "a damaged index is ignored"
    )
    new_process()
    reads.clear()
    list_runs(tmp_path)
    assert reads == [str(index)], "and written again whole"
