"""Monitors in PostgreSQL (INSIGHT_DATABASE_URL set): a real server started by a fixture (Debian's
postgresql, initdb in a temporary folder, 127.0.0.1). The monitor tests of test_monitor.py run again here
unchanged, on the server (same rows, shares, alerts, batches killed half-way, retention, rescoring); then
what only a server brings: two processes adding to one monitor at once, a monitor moved from its DuckDB
file, and a server that cannot be reached said in one sentence."""

from __future__ import annotations

import socket
import subprocess
import sys

import pandas as pd
import pytest
from cli_kit import trainer_cli
from test_monitor import (  # noqa: F401 - collected again here, on PostgreSQL
    ROOT,
    keyed,
    keyword_scorer,
    new_monitor,
    test_a_batch_is_read_scored_and_set_aside_a_chunk_at_a_time_and_stored_at_once,
    test_a_batch_killed_half_way_leaves_nothing_and_adding_it_again_gives_every_row_once,
    test_a_planted_surge_is_alerted_when_its_week_arrives_and_not_before,
    test_another_run_rescores_the_history_beside_the_current_one_and_can_take_over,
    test_retention_drops_old_texts_and_keeps_their_counts,
    test_rows_scored_already_keep_the_results_they_were_served_with,
    test_the_same_rows_twice_are_counted_once,
    test_twelve_weekly_files_give_the_same_shares_and_alerts_as_the_glued_file,
    test_two_batches_of_the_same_rows_at_once_count_them_once,
    test_with_the_models_probabilities_weekly_files_and_the_glued_file_agree_and_find_the_surge,
    weeks,
)

from trainer.monitor import monitor as monitors
from trainer.monitor.pg_store import PostgresStore
from trainer.runs import postgres

pytestmark = pytest.mark.usefixtures("on_postgres")  # every test on a database of its own

ADDER = """
import sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from test_monitor import keyword_scorer
from trainer.monitor import monitor as monitors
from trainer.monitor.pg_store import PostgresStore
batch = monitors.Monitor(Path({runs!r}), "news").add(Path({file!r}), keyword_scorer, chunk_rows=40)
print(batch.added, batch.duplicates)
"""


def test_two_processes_adding_overlapping_batches_at_once_count_every_row_once(tmp_path):
    files = weeks(tmp_path / "weeks", count=3, per_group=150)
    runs_dir = tmp_path / "runs"
    monitor = new_monitor(runs_dir)
    frames = [pd.read_csv(p) for p in files]
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"  # both hold week 1
    pd.concat(frames[:2]).to_csv(first, index=False)
    pd.concat(frames[1:]).to_csv(second, index=False)
    children = [
        subprocess.Popen([sys.executable, "-c", ADDER.format(tests=str(ROOT / "tests"), runs=str(runs_dir),
                                                             file=str(path))],
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for path in (first, second)
    ]  # fmt: skip
    said = [child.communicate(timeout=300) for child in children]
    assert [c.returncode for c in children] == [0, 0], said
    added = [tuple(map(int, out.split())) for out, _ in said]
    assert sum(a for a, _ in added) == 900 and sum(d for _, d in added) == 300, added
    assert monitor.row_count() == 900
    assert sorted(b["id"] for b in monitor.batches()) == [1, 2]
    assert sum(b["rows_added"] for b in monitor.batches()) == 900


def test_a_monitor_moves_from_its_duckdb_file_to_the_server_with_everything_it_held(
    tmp_path, monkeypatch, on_postgres
):
    runs_dir, files = tmp_path / "runs", weeks(tmp_path / "weeks")
    monkeypatch.delenv(postgres.ENV)  # first a monitor in its DuckDB file, as every monitor began
    local = new_monitor(runs_dir, labels=["negative", "positive"])
    for path in files[:10]:
        local.add(path, keyword_scorer)
    before = (local.counts(), local.alerts(), local.batches(), local.settings)
    assert ("2026-05-04", "Banking", "negative", "up") in keyed(before[1])
    nowhere = trainer_cli("monitor", "move", "news", runs_dir=runs_dir, in_process=True)
    assert nowhere.returncode == 2 and "Set INSIGHT_DATABASE_URL" in nowhere.stderr, nowhere.stderr

    monkeypatch.setenv(postgres.ENV, on_postgres)
    moved = trainer_cli("monitor", "move", "news", runs_dir=runs_dir, in_process=True)
    assert moved.returncode == 0, moved.stderr
    assert "1,200 rows" in moved.stdout and "10 batches" in moved.stdout, moved.stdout
    remote = monitors.Monitor(runs_dir, "news")
    assert isinstance(remote.store, PostgresStore)
    pd.testing.assert_frame_equal(remote.counts(), before[0])
    assert (remote.alerts(), remote.batches(), remote.settings) == before[1:]
    for path in files[10:]:  # the stream goes on on the server where the file stopped
        remote.add(path, keyword_scorer)
    assert remote.row_count() == 1440 and [b["id"] for b in remote.batches()] == list(range(1, 13))
    twice = trainer_cli("monitor", "move", "news", runs_dir=runs_dir, in_process=True)
    assert twice.returncode == 2 and "already" in twice.stderr
    listed = trainer_cli("monitor", "list", runs_dir=runs_dir, in_process=True)
    assert listed.returncode == 0 and "news" in listed.stdout
    monkeypatch.delenv(postgres.ENV)
    assert monitors.Monitor(runs_dir, "news").row_count() == 1200, "the DuckDB file is left as it was"


def test_a_server_that_cannot_be_reached_is_said_in_one_sentence(tmp_path, monkeypatch):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv(postgres.ENV, f"postgresql://insight@127.0.0.1:{port}/insight")
    done = trainer_cli("monitor", "list", runs_dir=tmp_path / "runs", in_process=True)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith(
        f"error: Cannot reach the PostgreSQL server that INSIGHT_DATABASE_URL names (127.0.0.1, port {port}): "
    ), done.stderr


def test_a_text_with_a_nul_character_is_stored_with_the_replacement_character_not_refused(tmp_path):
    """PostgreSQL's text cannot hold NUL (DuckDB's can): one such row must not fail its whole batch."""
    monitor = new_monitor(tmp_path / "runs", labels=["negative", "positive"])
    frame = pd.DataFrame({"published": ["2026-03-02", "2026-03-03"], "topic": ["Banking", "Energy"],
                          "headline": ["bad\x00news", "good news"]})  # fmt: skip
    batch = monitor.add_scored(
        frame, ["negative", "positive"], [0.9, 0.8], [[0.9, 0.1], [0.2, 0.8]], "f", "f|1"
    )
    assert batch.added == 2
    assert sorted(monitor.store.rows_frame()["text"]) == ["bad\ufffdnews", "good news"]
