"""Monitors: a stream of weekly files in DuckDB; dedupe, transactions, alerts when their week arrives,
the webhook, and the command line."""

from __future__ import annotations

import io
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pandas as pd
import pytest
from app_kit import open_app
from cli_kit import trainer_cli

from trainer.monitor import monitor as monitors
from trainer.monitor import reading

ROOT = Path(__file__).resolve().parent.parent
GROUPS = ("Banking", "Energy")


def keyword_scorer(texts: list[str]) -> tuple[list[str], list[float]]:
    """A stand-in model that reads the label off the text (the store and the alert rule are under test)."""
    return ["negative" if t.startswith("bad") else "positive" for t in texts], [0.9] * len(texts)


def weeks(
    folder: Path, count: int = 12, per_group: int = 60, surge_week: int = 9, seed: int = 0
) -> list[Path]:
    """One CSV per week; in `surge_week` Banking's negative share doubles (0.3 -> 0.6)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for week in range(count):
        monday = pd.Timestamp("2026-03-02") + pd.Timedelta(weeks=week)
        rows = []
        for group in GROUPS:
            share = 0.6 if (group == "Banking" and week == surge_week) else 0.3
            for i in range(per_group):
                day = monday + pd.Timedelta(days=rng.randrange(7), hours=rng.randrange(24))
                word = "bad" if rng.random() < share else "good"
                rows.append({"published": day.isoformat(), "topic": group,
                             "headline": f"{word} news {week}-{group}-{i} {rng.random():.6f}"})  # fmt: skip
        path = folder / f"week-{week:02d}.csv"
        pd.DataFrame(rows).to_csv(path, index=False)
        files.append(path)
    return files


def new_monitor(runs_dir: Path, name: str = "news", **extra) -> monitors.Monitor:
    settings = monitors.Settings(name, "unused", "headline", "published", "topic", owner="ana", **extra)
    return monitors.create(runs_dir, settings)


def keyed(alerts: list[dict]) -> set[tuple]:
    return {(a["bucket_start"], a["group"], a["label"], a["direction"]) for a in alerts}


def test_twelve_weekly_files_give_the_same_shares_and_alerts_as_the_glued_file(tmp_path):
    files = weeks(tmp_path / "weeks")
    one_by_one = new_monitor(tmp_path / "runs", "weekly")
    for path in files:
        one_by_one.add(path, keyword_scorer)
    glued = tmp_path / "all.csv"
    pd.concat([pd.read_csv(p) for p in files]).to_csv(glued, index=False)
    at_once = new_monitor(tmp_path / "runs", "glued")
    at_once.add(glued, keyword_scorer)
    pd.testing.assert_frame_equal(one_by_one.counts(), at_once.counts())
    assert one_by_one.row_count() == at_once.row_count() == 12 * 2 * 60
    assert keyed(one_by_one.alerts()) == keyed(at_once.alerts()) != set()


def test_a_planted_surge_is_alerted_when_its_week_arrives_and_not_before(tmp_path):
    files = weeks(tmp_path / "weeks")
    monitor = new_monitor(tmp_path / "runs")
    for path in files[:9]:
        assert monitor.add(path, keyword_scorer).new_alerts == [], path.name
    batch = monitor.add(files[9], keyword_scorer)
    surge = [a for a in batch.new_alerts if a["group"] == "Banking" and a["label"] == "negative"]
    assert surge and surge[0]["direction"] == "up" and surge[0]["bucket_start"] == "2026-05-04"
    assert surge[0]["share"] > 1.5 * surge[0]["baseline_share"] and surge[0]["new"] and surge[0]["partial"]
    assert keyed(monitor.alerts(new_only=True)) == keyed(batch.new_alerts)
    assert monitor.mark_seen() == len(batch.new_alerts) and monitor.alerts(new_only=True) == []
    later = monitor.add(files[10], keyword_scorer)
    assert not [a for a in later.new_alerts if a["bucket_start"] == "2026-05-04"], "raised once, not again"


def test_the_same_rows_twice_are_counted_once(tmp_path):
    files = weeks(tmp_path / "weeks", count=3)
    monitor = new_monitor(tmp_path / "runs")
    first = monitor.add(files[0], keyword_scorer)
    again = monitor.add(files[0], keyword_scorer)
    assert (first.added, again.added, again.duplicates) == (120, 0, 120)
    overlap = tmp_path / "overlap.csv"  # an export that repeats half of last week
    pd.concat([pd.read_csv(files[0]).iloc[60:], pd.read_csv(files[1])]).to_csv(overlap, index=False)
    both = monitor.add(overlap, keyword_scorer)
    assert (both.added, both.duplicates) == (120, 60) and monitor.row_count() == 240
    with_ids = new_monitor(tmp_path / "runs", "by-id", id_column="headline")
    assert (
        with_ids.add(files[0], keyword_scorer).added == 120
        and with_ids.add(files[0], keyword_scorer).added == 0
    )


def test_two_batches_of_the_same_rows_at_once_count_them_once(tmp_path):
    files = weeks(tmp_path / "weeks", count=1)
    monitor = new_monitor(tmp_path / "runs")
    other = monitors.Monitor(tmp_path / "runs", "news")  # a second caller (a double click, cron and the page)
    raced = []

    def racing(texts):  # the other batch lands while this one is being scored
        if not raced:
            raced.append(other.add(files[0], keyword_scorer))
        return keyword_scorer(texts)

    first = monitor.add(files[0], racing)
    assert raced[0].added == 120 and (first.added, first.duplicates) == (0, 120)
    assert monitor.row_count() == 120 and sum(b["rows_added"] for b in monitor.batches()) == 120


KILLER = """
import sys, time
from pathlib import Path
sys.path.insert(0, {tests!r})
from test_monitor import keyword_scorer
from trainer.monitor import monitor as monitors
from trainer.monitor import reading

real = monitors.Monitor._new_alerts
def slow(self, con, batch, touched):
    found = real(self, con, batch, touched)
    Path({marker!r}).write_text("inside the transaction")
    time.sleep(120)
    return found
monitors.Monitor._new_alerts = slow
monitors.Monitor(Path({runs!r}), "news").add(Path({file!r}), keyword_scorer)
"""


def test_a_batch_killed_half_way_leaves_nothing_and_adding_it_again_gives_every_row_once(tmp_path):
    files = weeks(tmp_path / "weeks", count=3)
    runs_dir = tmp_path / "runs"
    monitor = new_monitor(runs_dir)
    monitor.add(files[0], keyword_scorer)
    marker = tmp_path / "marker"
    script = KILLER.format(
        tests=str(ROOT / "tests"), marker=str(marker), runs=str(runs_dir), file=str(files[1])
    )
    child = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, start_new_session=True)
    deadline = time.time() + 120
    while not marker.exists() and time.time() < deadline:
        assert child.poll() is None, "the batch ended before it was killed"
        time.sleep(0.05)
    os.killpg(child.pid, signal.SIGKILL)
    child.wait(30)
    assert marker.exists()
    assert monitor.row_count() == 120 and len(monitor.batches()) == 1, "nothing of the killed batch is kept"
    again = monitor.add(files[1], keyword_scorer)
    assert again.added == 120 and monitor.row_count() == 240 and len(monitor.batches()) == 2


class Receiver(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):  # noqa: N802 - http.server's name
        length = int(self.headers["Content-Length"])
        Receiver.received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_the_webhook_receives_each_new_alert_once(tmp_path, monkeypatch):
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    monkeypatch.setenv("INSIGHT_WEBHOOK_ALLOW", f"127.0.0.1:{server.server_port}")  # an internal receiver
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Receiver.received = []
    try:
        files = weeks(tmp_path / "weeks")
        monitor = new_monitor(tmp_path / "runs")
        monitor.set_webhook(f"http://127.0.0.1:{server.server_port}/hook")
        for path in files[:10]:
            monitor.add(path, keyword_scorer)
        monitor.add(files[9], keyword_scorer)  # the surge week sent again: nothing new to say
    finally:
        server.shutdown()
    assert len(Receiver.received) == 1, Receiver.received
    posted = Receiver.received[0]
    assert posted["monitor"] == "news" and "negative up in Banking" in posted["text"]
    assert ("2026-05-04", "Banking", "negative", "up") in keyed(posted["alerts"])
    with pytest.raises(monitors.MonitorError, match="http"):
        monitor.set_webhook("file:///etc/passwd")


def probability_scorer(texts: list[str]) -> tuple:
    """A stand-in model with probabilities: surer of "bad" texts than of "good" ones."""
    labels, _ = keyword_scorer(texts)
    probs = [[0.8, 0.2] if label == "negative" else [0.3, 0.7] for label in labels]
    return labels, [max(p) for p in probs], probs


def test_with_the_models_probabilities_weekly_files_and_the_glued_file_agree_and_find_the_surge(tmp_path):
    files = weeks(tmp_path / "weeks")
    one_by_one = new_monitor(tmp_path / "runs", "weekly", labels=["negative", "positive"])
    for path in files:
        one_by_one.add(path, probability_scorer)
    glued = tmp_path / "all.csv"
    pd.concat([pd.read_csv(p) for p in files]).to_csv(glued, index=False)
    at_once = new_monitor(tmp_path / "runs", "glued", labels=["negative", "positive"])
    at_once.add(glued, probability_scorer)
    assert keyed(one_by_one.alerts()) == keyed(at_once.alerts())
    assert ("2026-05-04", "Banking", "negative", "up") in keyed(at_once.alerts())
    assert not [a for a in at_once.alerts() if a["label"] == "positive"], "one event, named once"


def test_a_stream_fed_day_by_day_is_alerted_in_the_surge_week_and_not_before(tmp_path):
    files = weeks(tmp_path / "weeks", count=11)
    frame = pd.concat([pd.read_csv(p) for p in files])
    days = pd.to_datetime(frame["published"]).dt.normalize()
    monitor = new_monitor(tmp_path / "runs")
    first_alert = None
    for day in sorted(days.unique()):
        path = tmp_path / f"day-{pd.Timestamp(day).date()}.csv"
        frame[days == day].to_csv(path, index=False)
        batch = monitor.add(path, keyword_scorer)
        if batch.new_alerts and first_alert is None:
            first_alert = pd.Timestamp(day), batch.new_alerts
    assert first_alert is not None
    when, raised = first_alert
    assert pd.Timestamp("2026-05-04") <= when < pd.Timestamp("2026-05-18"), (
        when
    )  # the surge week, or the day after it
    assert ("2026-05-04", "Banking", "negative", "up") in keyed(raised)


def test_retention_drops_old_texts_and_keeps_their_counts(tmp_path):
    files = weeks(tmp_path / "weeks", count=6)
    everything = new_monitor(tmp_path / "runs", "all")
    recent = new_monitor(tmp_path / "runs", "recent")
    recent.set_retention(14)
    last = pd.Timestamp(pd.read_csv(files[-1])["published"].max())
    recent.clock = last.timestamp  # now is the last row's time
    for path in files:
        everything.add(path, keyword_scorer)
        recent.add(path, keyword_scorer)
    pd.testing.assert_frame_equal(everything.counts(), recent.counts())
    kept, rows = reading.texts_kept(recent)
    assert rows == 720 and 0 < kept < rows / 2 and reading.texts_kept(everything) == (720, 720)
    exported = tmp_path / "recent.csv"
    recent.export(exported)
    table = pd.read_csv(exported)
    assert len(table) == 720 and table["text"].isna().sum() == rows - kept
    cutoff = pd.to_datetime(table["time"]).max() - pd.Timedelta(days=14)
    assert table.loc[pd.to_datetime(table["time"]) < cutoff, "text"].isna().all()
    with pytest.raises(monitors.MonitorError, match="at least 1 day"):
        recent.set_retention(0)


def test_another_run_rescores_the_history_beside_the_current_one_and_can_take_over(tmp_path):
    files = weeks(tmp_path / "weeks")
    monitor = new_monitor(tmp_path / "runs")
    for path in files:
        monitor.add(path, keyword_scorer)
    before = monitor.counts()

    def pessimist(texts):  # calls everything negative
        return ["negative"] * len(texts), [0.6] * len(texts)

    assert monitor.rescore("pessimist-run", pessimist) == 1440
    side = monitor.compare_counts()
    assert set(side["run"]) == {"current", "rescored"}
    overall = side[side["group"] == "(all)"]
    assert set(overall.loc[overall["run"] == "rescored", "label"]) == {"negative"}
    pd.testing.assert_frame_equal(monitor.counts(), before)  # nothing switched yet
    monitor.switch()
    assert monitor.settings.run == "pessimist-run" and set(monitor.counts()["label"]) == {"negative"}
    assert monitor.alerts(new_only=True) == [] and monitor.rescored_run() is None
    with pytest.raises(monitors.MonitorError, match="rescore"):
        monitor.switch()


def test_the_monitor_command_line(tmp_path, tiny_model_dir):
    runs_dir = tmp_path / "runs"
    sample = ROOT / "sample_data" / "product_sentiment.csv"

    fit = trainer_cli(
        "fit", sample, "--model", tiny_model_dir, "--max-steps", "3", "--quiet", runs_dir=runs_dir
    )
    assert fit.returncode == 0, fit.stderr[-2000:]
    run_dir = fit.stdout.strip().splitlines()[-1]
    files = weeks(tmp_path / "weeks", count=4)
    done = trainer_cli("monitor", "create", "news", "--run", run_dir, "--text-column", "headline", "--time-column",
                       "published", "--group-column", "topic", runs_dir=runs_dir, in_process=True)  # fmt: skip
    assert done.returncode == 0 and done.stdout.startswith("created monitor news"), done.stderr
    done = trainer_cli("monitor", "add", "news", tmp_path / "weeks", runs_dir=runs_dir, in_process=True)
    assert done.returncode == 0 and done.stdout.count("rows read") == 4, done.stderr
    assert (
        trainer_cli(
            "monitor", "add", "news", tmp_path / "weeks", runs_dir=runs_dir, in_process=True
        ).stdout.strip()
        == "nothing new to add"
    )
    with monitors.Monitor(runs_dir, "news").store.connect() as con:  # the run's label probabilities are kept
        assert con.execute("SELECT count(probs) FROM scored").fetchone()[0] == 480
    shown = json.loads(
        trainer_cli("monitor", "show", "news", "--json", runs_dir=runs_dir, in_process=True).stdout
    )
    assert shown["rows"] == 480 and len(shown["batches"]) == 4 and len(shown["buckets"]) == 4
    assert {s["label"] for s in shown["shares"]} <= {"negative", "neutral", "positive"}
    alerts = json.loads(
        trainer_cli("monitor", "alerts", "news", "--json", runs_dir=runs_dir, in_process=True).stdout
    )
    assert all({"bucket_start", "group", "label", "share", "baseline_share", "direction", "n", "new"} <= set(a)
               for a in alerts)  # fmt: skip
    rescored = trainer_cli(
        "monitor", "rescore", "news", "--run", run_dir, "--switch", runs_dir=runs_dir, in_process=True
    )
    assert rescored.returncode == 0 and "rescored 480 texts" in rescored.stdout, rescored.stderr
    assert "current run | rescored run" in rescored.stdout and "now uses" in rescored.stdout
    kept = trainer_cli("monitor", "set", "news", "--keep-days", "10", runs_dir=runs_dir, in_process=True)
    assert kept.returncode == 0 and "texts kept 10 days" in kept.stdout
    assert (
        trainer_cli(
            "monitor", "export", "news", "--out", tmp_path / "all.csv", runs_dir=runs_dir, in_process=True
        ).returncode
        == 0
    )
    assert len(pd.read_csv(tmp_path / "all.csv")) == 480
    assert "news  480 rows" in trainer_cli("monitor", "list", runs_dir=runs_dir, in_process=True).stdout
    bad = trainer_cli("monitor", "add", "nope", files[0], runs_dir=runs_dir, in_process=True)
    assert bad.returncode == 2 and bad.stderr.startswith("error: There is no monitor called nope")
    wrong = trainer_cli("monitor", "create", "other", "--run", run_dir, "--text-column", "headline",
                        "--time-column", "published", "--bucket", "year", runs_dir=runs_dir, in_process=True)  # fmt: skip
    assert wrong.returncode == 2 and wrong.stderr.startswith("error:")
    columns = trainer_cli("monitor", "create", "cols", "--run", run_dir, "--text-column", "body", "--time-column",
                          "published", runs_dir=runs_dir, in_process=True)  # fmt: skip
    assert columns.returncode == 0
    missing = trainer_cli("monitor", "add", "cols", files[0], runs_dir=runs_dir, in_process=True)
    assert (
        missing.returncode == 2
        and 'has no column "body"' in missing.stderr
        and missing.stderr.count("\n") == 1
    )
    assert (
        trainer_cli("monitor", "delete", "news", runs_dir=runs_dir, in_process=True).returncode == 0
        and "news" not in trainer_cli("monitor", "list", runs_dir=runs_dir, in_process=True).stdout
    )


NOW = pd.Timestamp("2026-12-06 12:00")  # the clock of the tests below


def dated(path: Path, when: list[str], prefix: str = "good") -> Path:
    """A file of one row per date in `when` (texts that differ, so each row is its own)."""
    rows = [
        {"published": w, "topic": "Banking", "headline": f"{prefix} news {i}"} for i, w in enumerate(when)
    ]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_retention_counts_back_from_the_clock_so_a_row_dated_in_the_future_erases_nothing(tmp_path):
    monitor = new_monitor(tmp_path / "runs")
    monitor.set_retention(365)
    monitor.clock = NOW.timestamp
    days = [str((NOW - pd.Timedelta(days=d)).date()) for d in range(361)]
    assert monitor.add(dated(tmp_path / "year.csv", days), keyword_scorer).added == 361
    batch = monitor.add(dated(tmp_path / "far.csv", ["2099-01-01"], "bad"), keyword_scorer)
    assert reading.texts_kept(monitor) == (361, 361), "no text dropped because of a row dated 2099"
    assert (batch.added, batch.future, batch.duplicates) == (0, 1, 0)
    monitor.clock = (NOW + pd.Timedelta(days=30)).timestamp  # 30 days later: 365 days back is NOW - 335 days
    monitor.add(dated(tmp_path / "later.csv", [str(NOW.date())], "later"), keyword_scorer)
    kept, rows = reading.texts_kept(monitor)
    assert rows == 362 and kept == 362 - 26, "the rows dated 335 to 360 days before NOW's day lose their text"


def test_rows_dated_in_the_future_are_refused_and_counted_on_their_own(tmp_path):
    from trainer.cli.monitor import _refused

    monitor = new_monitor(tmp_path / "runs")
    monitor.clock = NOW.timestamp
    when = ["2026-12-01"] * 7 + [
        str(NOW + pd.Timedelta(hours=12)),
        str(NOW + pd.Timedelta(days=3)),
        "2099-01-01",
    ]
    batch = monitor.add(dated(tmp_path / "mixed.csv", when), keyword_scorer)
    assert (batch.rows_read, batch.added, batch.future, batch.undated, batch.duplicates) == (10, 8, 2, 0, 0)
    assert monitor.row_count() == 8, "half a day ahead is within the clock's slack; further ahead is refused"
    last = monitor.batches()[-1]
    assert (last["rows_read"], last["rows_added"], last["rows_future"], last["rows_undated"]) == (10, 8, 2, 0)
    assert _refused(batch) == ["2 rows dated in the future (more than a day from now) refused"]


def test_rows_with_an_unreadable_date_are_counted_apart_from_rows_already_there(tmp_path):
    monitor = new_monitor(tmp_path / "runs")
    monitor.clock = NOW.timestamp
    when = ["2026-11-02", "2026-11-03", "not a date", "", "2026-11-04"]
    batch = monitor.add(dated(tmp_path / "undated.csv", when), keyword_scorer)
    assert (batch.added, batch.undated, batch.future, batch.duplicates) == (3, 2, 0, 0)
    again = monitor.add(dated(tmp_path / "undated.csv", when), keyword_scorer)
    assert (again.added, again.undated, again.duplicates) == (0, 2, 3)
    assert monitor.batches()[0]["rows_undated"] == 2


def victim_file(site: Path) -> Path:
    """A monitor's DuckDB file outside the runs folder `site / "runs"`: where ../../victim would lead."""
    victim = site / "victim.duckdb"
    settings = monitors.Settings("victim", "unused", "headline", "published", owner="bob")
    monitors.Store(victim).write_settings({"monitor": asdict(settings)})
    return victim


def test_a_name_that_leaves_the_monitors_folder_is_refused_by_every_command(tmp_path, capsys):
    from trainer.cli import main

    runs = tmp_path / "site" / "runs"
    new_monitor(runs, "real")
    victim = victim_file(tmp_path / "site")
    batch = weeks(tmp_path / "weeks", count=1)[0]
    (runs / ".monitors" / "link.duckdb").symlink_to(victim)  # a link inside the folder to a file outside it
    capsys.readouterr()
    commands = [["show", "../../victim"], ["delete", "../../victim"], ["add", "../../victim", batch],
                ["export", "../../victim", "--out", tmp_path / "out.csv"], ["set", "../../victim", "--keep-days", "1"],
                ["alerts", "../../victim"], ["show", "link"], ["delete", "link"]]  # fmt: skip
    for command in commands:
        code = main(["monitor", *map(str, command), "--runs-dir", str(runs)])
        said = capsys.readouterr()
        assert code == 2 and "cannot be a monitor name" in said.err, (command, code, said)
        assert "Traceback" not in said.err and said.out == ""
    assert victim.is_file() and not (tmp_path / "out.csv").exists()
    with monitors.Store(victim).connect() as con:
        assert con.execute("SELECT count(*) FROM batches").fetchone()[0] == 0
    assert monitors.names(runs) == ["real"]
    for name in ("../real", "real/..", "real\n", ".real", ""):
        with pytest.raises(monitors.MonitorError, match="cannot be a monitor name"):
            monitors.Monitor(runs, name)


def test_monitor_add_keeps_to_the_file_limits(tmp_path, monkeypatch):
    from trainer.data import DataError

    files = weeks(tmp_path / "weeks", count=1)  # 120 rows
    monitor = new_monitor(tmp_path / "runs")
    monkeypatch.setenv("INSIGHT_MAX_ROWS", "100")
    with pytest.raises(DataError, match="INSIGHT_MAX_ROWS"):
        monitor.add(files[0], keyword_scorer, chunk_rows=50)
    assert monitor.row_count() == 0 and monitor.batches() == []
    with monitor.store.connect() as con:
        assert con.execute("SELECT count(*) FROM pending").fetchone()[0] == 0, "nothing set aside is left"
    monkeypatch.delenv("INSIGHT_MAX_ROWS")
    monkeypatch.setenv("INSIGHT_MAX_CELL_CHARS", "20")
    with pytest.raises(DataError, match="INSIGHT_MAX_CELL_CHARS"):
        monitor.add(files[0], keyword_scorer)
    monkeypatch.delenv("INSIGHT_MAX_CELL_CHARS")
    assert monitor.add(files[0], keyword_scorer).added == 120


def test_a_batch_is_read_scored_and_set_aside_a_chunk_at_a_time_and_stored_at_once(tmp_path):
    files = weeks(tmp_path / "weeks", count=1)
    monitor = new_monitor(tmp_path / "runs")
    seen = []

    def counting(texts):  # what each call scores, and what the monitor shows meanwhile
        seen.append((len(texts), monitor.row_count()))
        return keyword_scorer(texts)

    batch = monitor.add(files[0], counting, chunk_rows=50)
    assert seen == [(50, 0), (50, 0), (20, 0)], (
        "a chunk at a time, and nothing shown before the batch is whole"
    )
    assert batch.added == 120 and monitor.row_count() == 120


def test_rows_scored_already_keep_the_results_they_were_served_with(tmp_path):
    """The HTTP service's answers (trainer.serve.feed): row i keeps result i (never looked up by its text),
    nothing is scored again, and the same rows twice are counted once."""
    monitor = new_monitor(tmp_path / "runs", labels=["negative", "positive"])
    monitor.clock = NOW.timestamp
    frame = pd.DataFrame({"published": ["2026-12-01", "2026-12-02", "2026-12-01"], "topic": ["", "", ""],
                          "headline": ["same text", "same text", "other"]}, index=[10, 5, 7])  # fmt: skip
    results = (["negative", "positive", "positive"], [0.8, 0.6, 0.9], [[0.8, 0.2], [0.4, 0.6], [0.1, 0.9]])
    batch = monitor.add_scored(frame, *results, "served", "served|1")
    assert (batch.rows_read, batch.added) == (3, 3)
    with monitor.store.connect() as con:
        stored = con.execute("SELECT CAST(happened AS DATE), body, predicted, confidence, probs FROM scored "
                             "ORDER BY happened, body").fetchall()  # fmt: skip
    assert [(str(d), b, p, c, list(q)) for d, b, p, c, q in stored] == [
        ("2026-12-01", "other", "positive", 0.9, [0.1, 0.9]),
        ("2026-12-01", "same text", "negative", 0.8, [0.8, 0.2]),
        ("2026-12-02", "same text", "positive", 0.6, [0.4, 0.6]),
    ]
    again = monitor.add_scored(frame, results[0], results[1], None, "served", "served|2")
    assert (again.added, again.duplicates) == (0, 3) and monitor.row_count() == 3
    with pytest.raises(ValueError, match="one result per row"):
        monitor.add_scored(frame, ["negative"], [0.8], None, "served", "served|3")
    monitor.set_labels(["positive", "negative"])
    assert monitors.Monitor(tmp_path / "runs", "news").settings.labels == ["positive", "negative"]


def test_a_monitors_folder_and_files_are_private_to_the_services_user(tmp_path):
    old = os.umask(0o022)
    try:
        monitor = new_monitor(tmp_path / "runs")
        monitor.add(weeks(tmp_path / "weeks", count=1)[0], keyword_scorer)
        monitor.export(tmp_path / "mine.csv")
    finally:
        os.umask(old)
    mode = lambda p: oct(p.stat().st_mode & 0o777)  # noqa: E731
    folder = tmp_path / "runs" / ".monitors"
    assert mode(folder) == "0o700"
    assert [mode(p) for p in (monitor.store.path, monitor.store.lock)] == ["0o600", "0o600"]
    assert mode(tmp_path / "mine.csv") == "0o600"


def test_the_export_is_made_in_memory_and_never_offered_to_the_next_monitor_of_that_name(
    tmp_path, monkeypatch
):
    """The Monitors page's export: nothing in the system's temp folder, and after the monitor is deleted and
    another person makes one of the same name, they are offered their own rows only."""
    import tempfile

    import streamlit
    import streamlit.testing.v1  # noqa: F401 - before the temp folder moves: it makes its own when first imported
    from helpers import LABELS, fake_run

    shared_tmp = tmp_path / "tmp"
    shared_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(shared_tmp))
    runs = tmp_path / "runs"
    run = fake_run(runs, "news-run", LABELS * 4, LABELS * 4)
    offered: dict[str, object] = {}
    real = streamlit.download_button

    def spy(label, data, *args, **kwargs):
        offered[kwargs.get("key") or label] = data
        return real(label, data, *args, **kwargs)

    monkeypatch.setattr(streamlit, "download_button", spy)
    monkeypatch.setenv("INSIGHT_RUNS_DIR", str(runs))
    monkeypatch.chdir(ROOT)

    def export_offered(owner: str, week: int) -> bytes:
        """Make a monitor of `owner`, open the page in a new visit, export; the bytes offered."""
        settings = monitors.Settings("shared", str(run), "headline", "published", "topic", owner=owner)
        monitors.create(runs, settings).add(weeks(tmp_path / owner, count=week + 1)[week], keyword_scorer)
        offered.clear()
        at = open_app()
        at = at.switch_page("insight_ui/pages/monitors.py").run()
        assert not at.exception, [e.value for e in at.exception]
        prepare = [b for b in at.button if b.key == "monitor_export"]  # a two-step export, where there is one
        if prepare:
            prepare[0].click().run()
        data = offered.get("monitor_export_dl")
        return data() if callable(data) else data

    first = export_offered("ana", 0)
    assert first is not None and len(pd.read_csv(io.BytesIO(first))) == 120
    assert [p.name for p in shared_tmp.iterdir()] == [], "nothing is left in the shared temp folder"
    monitors.delete(runs, "shared")
    again = export_offered("bob", 1)
    texts = set(pd.read_csv(io.BytesIO(again))["text"]) if again else set()
    assert not texts & set(pd.read_csv(io.BytesIO(first))["text"]), "bob is never offered ana's rows"
    assert [p.name for p in shared_tmp.iterdir()] == []
