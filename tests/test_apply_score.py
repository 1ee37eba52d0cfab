"""Scoring new text with a run: the scored rows, flat memory while streaming, resume after a kill, drift on
shifted text, entity runs, and the `python -m trainer score` contract."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_kit import trainer_cli
from helpers import NEGATIVE, NEUTRAL, POSITIVE, conll_file, news_file

from trainer.runs import RunFolder, create_run, load_run

ROOT = Path(__file__).resolve().parent.parent
CHINESE = ["快递很慢包装也破了", "客服态度非常差", "味道不错价格合理", "房间干净早餐丰富", "再也不会买了"]


@pytest.fixture
def text_run(tiny_text_run) -> Path:
    return tiny_text_run


def score(run_dir: Path, source: Path, chunk_rows: int = 2000, **columns):
    from trainer.apply.run_scoring import run_scoring
    from trainer.runs.predictor import RunModel
    from trainer.runs.scoring import Scoring, Spec

    spec = Spec(str(source), chunk_rows=chunk_rows, **columns)
    scoring = Scoring(run_dir, f"{source.stem}-{chunk_rows}")
    scoring.write_spec(spec)
    return scoring, run_scoring(RunModel.load(run_dir), load_run(run_dir), scoring)


def test_scored_rows_keep_the_input_columns_and_add_the_predictions(text_run, tmp_path):
    source = news_file(tmp_path / "new.csv", 700)
    scoring, results = score(text_run, source, chunk_rows=300, text_column="message", time_column="when",
                             group_column="channel")  # fmt: skip
    scored = pd.read_csv(scoring.scored_file, keep_default_na=False)
    labels = load_run(text_run).labels
    assert list(scored.columns) == ["when", "channel", "message", "predicted", "confidence", "trusted"] + [
        f"p_{label}" for label in labels
    ]
    original = pd.read_csv(source, keep_default_na=False)
    assert scored["message"].tolist() == original["message"].tolist()  # every row once, in order
    probs = scored[[f"p_{label}" for label in labels]].to_numpy()
    assert np.allclose(probs.sum(1), 1, atol=2e-3)
    assert (scored["confidence"] == probs.max(1)).all()
    assert set(scored["predicted"]) <= set(labels) and set(scored["trusted"]) <= {True, False}
    assert results["scored"] == 700 and results["bucket"] == "week"
    per_bucket = pd.DataFrame(results["counts"]).query("group == '(all)'").groupby("bucket")["n"].sum()
    assert per_bucket.sum() == 700
    assert {"(all)", "web", "app", "mail"} == {c["group"] for c in results["counts"]}
    assert len(results["to_label"]) > 0 and all(
        "text" in r and "confidence" in r for r in results["to_label"]
    )


def test_memory_stays_flat_while_a_file_much_larger_than_a_chunk_streams(text_run, tmp_path):
    peaks = {}
    for rows in (800, 6_400):
        source = news_file(tmp_path / f"big-{rows}.csv", rows, seed=rows)
        tracemalloc.start()
        _, results = score(text_run, source, chunk_rows=200, text_column="message", time_column="when")
        peaks[rows] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert results["scored"] == rows
    assert peaks[6_400] < 1.5 * peaks[800], peaks  # 8x the rows (32 chunks), about the same memory


def test_a_killed_scoring_resumes_where_it_stopped(text_run, tmp_path):
    source = news_file(tmp_path / "long.csv", 14_000)
    command = [sys.executable, "-m", "trainer", "score", text_run.name, str(source), "--runs-dir",
               str(text_run.parent), "--text-column", "message", "--out", str(tmp_path / "out.csv")]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    first = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             start_new_session=True)  # fmt: skip
    parts = text_run / "scores"
    deadline = time.time() + 300
    try:
        while time.time() < deadline and len(list(parts.glob("long-*/parts/part-*.csv"))) < 2:
            assert first.poll() is None, first.communicate()[1].decode()[-2000:]
            time.sleep(0.1)
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(30)
    on_disk = len(list(parts.glob("long-*/parts/part-*.csv")))
    done = json.loads(next(parts.glob("long-*/state-0.json")).read_text())["written"]
    assert 2 <= on_disk < 7, "the kill came before two chunks or after the last"
    assert len(done) >= on_disk - 1, "each part written is recorded (one may have been mid-write)"
    second = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr[-2000:]
    after = json.loads(next(parts.glob("long-*/state-0.json")).read_text())
    assert sorted(after["chunks"]) == list(range(7)) and len(after["written"]) == 7
    assert {i: after["written"][i] for i in done} == done, "scored chunks were not scored again"
    assert list(parts.glob("long-*/parts/*")) == [], "the parts are deleted once joined"
    out = pd.read_csv(tmp_path / "out.csv", keep_default_na=False)
    assert out["message"].tolist() == pd.read_csv(source, keep_default_na=False)["message"].tolist()


def test_shifted_text_reads_as_drift_and_in_domain_text_does_not(text_run, tmp_path):
    _, same = score(text_run, news_file(tmp_path / "same.csv", 400, seed=5), text_column="message")
    _, other = score(text_run, news_file(tmp_path / "zh.csv", 400, words=[CHINESE]), text_column="message")
    assert same["drift"]["verdict"] == "similar", same["drift"]
    assert other["drift"]["verdict"] == "strong drift", other["drift"]
    assert other["drift"]["unknown_token_share"] > 0.3 > same["drift"]["unknown_token_share"]
    assert other["untrusted"] / other["scored"] > 2 * same["untrusted"] / same["scored"]


def test_an_entity_run_scores_words_only_conll_into_spans(tmp_path, tiny_model_dir):
    from trainer.config import TrainConfig
    from trainer.prepare import prepare
    from trainer.train.fit import fit

    data = prepare(conll_file(tmp_path / "ner.conll", n=60))
    run_dir = create_run(tmp_path / "runs", "ner")
    config = TrainConfig(model=str(tiny_model_dir), epochs=1, batch_size=16, learning_rate=1e-3)
    RunFolder(run_dir).write_inputs(config.to_dict(), data)
    fit(config, data, run_dir)
    words = tmp_path / "new.conll"
    words.write_text("Anna\nBerg\nvisited\nOslo\n.\n\nAcme\nopened\n.\n", encoding="utf-8")
    scoring, results = score(run_dir, words)
    scored = pd.read_csv(scoring.scored_file, keep_default_na=False)
    assert scored["tokens"].tolist() == ["Anna Berg visited Oslo .", "Acme opened ."]
    assert [len(t.split()) for t in scored["tags"]] == [5, 3]
    assert {"predicted", "confidence", "trusted"} <= set(scored.columns)
    assert results["scored"] == 2


def test_cli_writes_scored_rows_and_an_alerts_array(text_run, tmp_path):
    # ten weeks of mixed texts in three channels, then a week of only negative ones on the web (an alert by
    # construction), then a formula
    source = news_file(tmp_path / "cli.csv", 300)
    planted = "".join(
        f"2026-07-21T{h % 24:02d}:00:00,web,awful hate item number {h} terrible\n" for h in range(60)
    )
    source.write_text(
        source.read_text() + planted + "2026-05-05T10:00:00,web,=HYPERLINK(1) awful\n", encoding="utf-8"
    )
    out, alerts = tmp_path / "scored.csv", tmp_path / "alerts.json"
    done = trainer_cli("score", text_run.name, str(source), "--runs-dir", str(text_run.parent), "--time-column",
                       "when", "--group-column", "channel", "--bucket", "week", "--out", str(out), "--alerts", str(alerts), in_process=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    scored = pd.read_csv(out, keep_default_na=False)
    labels = load_run(text_run).labels
    assert list(scored.columns)[:6] == ["when", "channel", "message", "predicted", "confidence", "trusted"]
    assert list(scored.columns)[6:] == [f"p_{label}" for label in labels]
    assert (
        len(scored) == 361 and scored["message"].iloc[-1] == "'=HYPERLINK(1) awful"
    )  # a formula neutralised
    listed = json.loads(alerts.read_text())
    assert isinstance(listed, list) and listed, "the planted week raises an alert"
    assert any(a["bucket_start"] == "2026-07-20" and a["group"] == "web" for a in listed), listed
    for alert in listed:
        assert {"bucket_start", "group", "label", "share", "baseline_share", "direction", "n"} <= set(alert)
        assert alert["direction"] in ("up", "down") and alert["label"] in labels
        pd.Timestamp(alert["bucket_start"])
    assert "rows scored" in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope.csv"], "File not found"),
        (["{source}", "--time-column", "published"], 'no time column "published"'),
        (["{source}", "--text-column", "body"], "body"),
        (["{source}", "--alerts", "a.json"], "--alerts needs --time-column"),
    ],
)
def test_cli_bad_input_exits_2_with_one_error_line(text_run, tmp_path, args, message):
    source = news_file(tmp_path / "bad.csv", 20)
    args = [a.format(source=source) for a in args]
    done = trainer_cli("score", text_run.name, *args, "--runs-dir", str(text_run.parent))
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], done.stderr
    assert "Traceback" not in done.stderr


def test_cli_unknown_run_exits_2(tmp_path):
    done = trainer_cli(
        "score",
        "no-such-run",
        str(news_file(tmp_path / "x.csv", 5)),
        "--runs-dir",
        str(tmp_path),
        in_process=True,
    )
    assert done.returncode == 2 and done.stderr.startswith("error:")


def test_a_quoted_header_with_a_line_break_joins_into_one_header_and_every_row_once(text_run, tmp_path):
    source = tmp_path / "odd-header.csv"
    pd.DataFrame({"the\nmessage": [f"great item number {i}" for i in range(5)]}).to_csv(source, index=False)
    scoring, _ = score(text_run, source, chunk_rows=2, text_column="the\nmessage")  # three parts
    scored = pd.read_csv(scoring.scored_file, keep_default_na=False)
    assert scored["the\nmessage"].tolist() == [f"great item number {i}" for i in range(5)]
    from trainer.apply.run_scoring import _join_parts

    assert not scoring.parts_dir.exists(), "one copy of the output: the parts went after the join"
    before = scoring.scored_file.read_bytes()
    _join_parts(scoring)  # a job restarted after the join finds no parts: scored.csv stays whole
    assert scoring.scored_file.read_bytes() == before


def rising_file(path: Path, seed: int = 0) -> Path:
    """Eight weeks of mixed texts, then a week of angry ones: the negative label rises in the last week."""
    rng = np.random.default_rng(seed)
    rows = []
    for day in range(63):
        pools = [NEGATIVE] if day >= 56 else [POSITIVE, NEGATIVE, NEUTRAL]
        for i in range(12):
            p = pools[(day + i) % len(pools)]
            when = pd.Timestamp("2026-05-04") + pd.Timedelta(days=day, hours=int(rng.integers(0, 24)))
            rows.append(
                (when.isoformat(), f"{rng.choice(p)} {rng.choice(p)} order {day}-{i} {rng.choice(p)}")
            )
    pd.DataFrame(rows, columns=["when", "message"]).to_csv(path, index=False)
    return path


def test_the_scoring_job_says_each_phase_after_the_rows_are_scored(text_run, tmp_path, monkeypatch):
    """Through the worker's real path: after the last row, the state file names each phase (joining, trends,
    the alerts' words counted in alerts, drift, saving) instead of leaving "Scoring (n of n)" on the page."""
    from trainer.apply.run_scoring import DRIFT, JOINING, SAVING, TRENDS, WORDS_ONE
    from trainer.apply.score import SCORING
    from trainer.jobs import worker
    from trainer.runs import ComputationState
    from trainer.runs.scoring import Scoring, Spec

    source = rising_file(tmp_path / "rising.csv")
    scoring = Scoring(text_run, "rising-phases")
    scoring.write_spec(
        Spec(str(source), chunk_rows=200, text_column="message", time_column="when", bucket="week")
    )
    written: list[dict] = []
    real = RunFolder.write_computation

    def recording(self, name, **fields):
        record = real(self, name, **fields)
        written.append(record.to_dict())
        return record

    monkeypatch.setattr(RunFolder, "write_computation", recording)
    assert worker.run_computation(RunFolder(text_run), "score", {"name": "rising-phases"}) == 0
    phases = [w["phase"]["message"] for w, before in zip(written[1:], written, strict=False)
              if w.get("phase") and w["phase"] != before.get("phase")]  # fmt: skip
    after = phases[phases.index(SCORING.message) + 1 :]
    assert after[:2] == [JOINING.message, TRENDS.message] and after[-2:] == [DRIFT.message, SAVING.message], (
        phases
    )
    assert WORDS_ONE in after, phases  # the rising label is an alert, and its words are looked for
    words = [
        ComputationState.from_dict(w) for w in written if (w.get("phase") or {}).get("message") == WORDS_ONE
    ]
    n = words[0].phase["n"]
    assert n >= 1 and any(s.done == n and s.total == n for s in words), [(s.done, s.total) for s in words]
    results = scoring.results()
    assert sum("words" in a for a in results["alerts"]) == n
    assert written[-1]["status"] == "finished"


def test_after_the_rows_are_scored_the_bar_names_the_phase_not_the_frozen_count(tmp_path):
    from insight_ui.components.background import snapshot_label
    from trainer.apply.run_scoring import words_phase
    from trainer.files import locks
    from trainer.jobs.manager import JobManager

    run_dir = create_run(tmp_path / "runs", "phased")
    folder = RunFolder(run_dir)
    folder.write_computation("score-x", kind="score", status="running", **locks.stamp(), done=1, total=3,
                             eta_seconds=40.0, phase=words_phase(3).to_dict())  # fmt: skip
    snapshot = JobManager(tmp_path / "runs", schedule=False).computation(run_dir, "score-x")
    label = snapshot_label("Scoring", snapshot)
    assert label.startswith("Finding the words behind 3 alerts (1 of 3), about ") and label.endswith(" left")
    assert "Scoring" not in label
    folder.write_computation("score-x", phase=None, done=1783, total=1783, eta_seconds=None)  # no phase said
    snapshot = JobManager(tmp_path / "runs", schedule=False).computation(run_dir, "score-x")
    assert snapshot_label("Scoring", snapshot) == "Scoring (1,783 of 1,783)"
