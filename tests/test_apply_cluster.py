"""Scoring on a Ray cluster of two nodes on this machine: the rows and results of local scoring, stop and
resume, a monitor's batch and rescoring, `score --ray`, an Apply job, and a machine lost half-way losing no row.
The cluster and every driver on it run in processes of their own (why: tests/ray_kit.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from cli_kit import trainer_cli
from helpers import news_file
from ray_kit import local_cluster

from trainer.runs import load_run

COLUMNS = {"text_column": "message", "time_column": "when", "group_column": "channel"}
DRIVER = Path(__file__).resolve().parent / "cluster_driver.py"


@pytest.fixture(scope="module")
def cluster():
    with local_cluster(2) as running:
        yield running


def on_cluster(*args) -> subprocess.Popen:
    """tests/cluster_driver.py started with `args`: a driver of the cluster in a process of its own."""
    return subprocess.Popen([sys.executable, str(DRIVER), *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip


def answer(child: subprocess.Popen, timeout: float = 420) -> dict:
    """What the driver printed last (a JSON line), once it has finished well."""
    out, err = child.communicate(timeout=timeout)
    assert child.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def score(run_dir: Path, source: Path, name: str, where: str | None, chunk_rows: int = 100,
          stop_after: int | None = None, started: subprocess.Popen | None = None):  # fmt: skip
    """Score `source` as scoring `name` of the run, here (where=None) or on the cluster at `where` through a
    child driver (or the one already `started`); returns (scoring, results, phases, model)."""
    from trainer.apply.run_scoring import run_scoring
    from trainer.runs.predictor import RunModel
    from trainer.runs.scoring import Scoring, Spec

    scoring, model = Scoring(run_dir, name), RunModel.load(run_dir)
    if where is None:
        scoring.write_spec(Spec(str(source), chunk_rows=chunk_rows, **COLUMNS))
        phases = []
        results = run_scoring(model, load_run(run_dir), scoring, None, None, phases.append)
        return scoring, json.loads(json.dumps(results, default=str)), phases, model
    child = started or on_cluster("score", run_dir, source, name, where, chunk_rows, json.dumps(COLUMNS),
                                  *([stop_after] if stop_after else []))  # fmt: skip
    done = answer(child)
    return scoring, done["results"], [SimpleNamespace(**p) for p in done["phases"]], model


def tolerance(model) -> float:
    """How far two processes' probabilities of one text may be apart: float32 sums in another order and the
    four decimals the file keeps, or bfloat16 where the run was checked safe for it."""
    return 1e-2 if model.precision == "bf16" else 2e-4


def assert_same_rows(local: pd.DataFrame, remote: pd.DataFrame, labels: list[str], atol: float) -> None:
    assert list(remote.columns) == list(local.columns)
    text = ["when", "channel", "message"]
    assert remote[text].equals(local[text]), "every row once, in the file's order"
    probs = [f"p_{label}" for label in labels]
    near = local[probs].astype(float).to_numpy(), remote[probs].astype(float).to_numpy()
    apart = float(np.abs(near[0] - near[1]).max())
    assert apart <= atol
    ordered = np.sort(near[0], axis=1)
    # a label can only change where its lead over the next is within twice the probabilities' difference
    decided = ordered[:, -1] - ordered[:, -2] > 2 * apart
    assert decided.sum() >= len(local) // 10
    assert (remote["predicted"][decided] == local["predicted"][decided]).all()


def test_a_file_scored_on_the_cluster_stops_resumes_and_gives_the_rows_and_results_of_local_scoring(
    tiny_text_run, tmp_path, cluster
):
    source = news_file(tmp_path / "news.csv", 900)
    local, here, _, model = score(tiny_text_run, source, "local", None)
    first, stopped, phases, _ = score(tiny_text_run, source, "remote", cluster.address, stop_after=2)
    assert stopped == {} and 2 <= len(first.state().chunks) < 9, "stopped after two chunks, before the end"
    written = dict(first.state().written)
    said = [p.values for p in phases if "Ray cluster" in p.message]
    assert said == [{"nodes": 2, "copies": 2}], phases
    remote, there, _, _ = score(tiny_text_run, source, "remote", cluster.address)
    after = remote.state()
    assert sorted(after.chunks) == list(range(9))
    assert {i: after.written[i] for i in written} == written, (
        "chunks scored before the stop are not scored again"
    )
    assert_same_rows(local.scored(), remote.scored(), model.labels, tolerance(model))
    assert there["rows"] == here["rows"] == there["scored"] == 900
    assert there["bucket"] == here["bucket"]
    totals = {(c["bucket"], c["group"]): c["total"] for c in here["counts"]}
    assert {(c["bucket"], c["group"]): c["total"] for c in there["counts"]} == totals
    assert not list(remote.parts_dir.glob("*")), "the parts are joined into one file, as here"


def test_a_monitor_batch_and_a_rescoring_on_the_cluster_store_what_local_scoring_stores(tiny_text_run, tmp_path,
                                                                                        cluster, monkeypatch):  # fmt: skip
    from trainer.monitor import monitor as monitors

    source = news_file(tmp_path / "feed.csv", 700)
    stored = {}
    for where in ("", cluster.address):
        monkeypatch.setenv("INSIGHT_RAY_ADDRESS", where)
        settings = monitors.Settings(
            f"feed{len(stored)}", str(tiny_text_run), "message", "when", "channel", owner="ana"
        )
        monitor = monitors.create(tmp_path / "runs", settings)
        if where:  # the batch and the rescoring by a driver of the cluster
            done = answer(on_cluster("monitor", tmp_path / "runs", settings.name, source))
            assert done == {"added": 700, "rescored": 700}
        else:
            assert monitor.add(source).added == 700
            assert monitor.rescore(str(tiny_text_run)) == 700
        with monitor.store.connect() as con:
            stored[where] = con.execute(
                "SELECT s.body, s.predicted, s.probs, r.probs FROM scored s JOIN rescored r USING (row_key) "
                "ORDER BY s.body"
            ).df()  # fmt: skip
    local, remote = stored[""], stored[cluster.address]
    assert remote["body"].tolist() == local["body"].tolist()
    for column in (2, 3):
        near = np.stack(local.iloc[:, column]), np.stack(remote.iloc[:, column])
        assert np.allclose(*near, atol=2e-2)


def test_score_on_the_cluster_from_the_command_line_and_a_wrong_address_in_one_line(tiny_text_run, tmp_path,
                                                                                     cluster):  # fmt: skip
    source = news_file(tmp_path / "cli.csv", 300)
    out = tmp_path / "scored.csv"
    done = trainer_cli("score", str(tiny_text_run), str(source), "--text-column", "message", "--ray",
                       cluster.address, "--out", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (
        pd.read_csv(out, keep_default_na=False)["message"].tolist() == pd.read_csv(source)["message"].tolist()
    )
    wrong = trainer_cli("score", str(tiny_text_run), str(source), "--text-column", "message", "--ray",
                        "127.0.0.1:9", "--again", in_process=True)  # fmt: skip
    lines = [line for line in wrong.stderr.splitlines() if line.strip()]
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr, wrong.stderr
    assert lines[-1].startswith("error:") and "127.0.0.1:9" in lines[-1], wrong.stderr


def test_an_apply_job_scores_on_the_cluster_the_environment_names_and_says_so(tiny_text_run, tmp_path, cluster,
                                                                              monkeypatch):  # fmt: skip
    """What the Apply page starts: a background job (its own process) reads INSIGHT_RAY_ADDRESS, says on
    its progress that it scores on the cluster, and finishes like a local job."""
    from trainer.jobs.manager import JobManager
    from trainer.runs.scoring import Scoring, Spec

    monkeypatch.setenv("INSIGHT_RAY_ADDRESS", cluster.address)
    source = news_file(tmp_path / "job.csv", 400)
    Scoring(tiny_text_run, "job").write_spec(Spec(str(source), chunk_rows=100, **COLUMNS))
    manager = JobManager(tiny_text_run.parent)
    try:
        name = manager.start_computation(tiny_text_run, "score", name="job")
        said, deadline = set(), time.time() + 300
        while (now := manager.computation(tiny_text_run, name)) is None or now.status in (
            "queued",
            "running",
        ):
            if now is not None and now.phase is not None:
                said.add(now.phase.text())
            assert time.time() < deadline, "the job did not finish in five minutes"
            time.sleep(0.1)
    finally:
        manager.shutdown()
    assert now.status == "finished", now.error
    assert any("Ray cluster (machines: 2; copies of the model: 2)" in p for p in said), said
    scored = Scoring(tiny_text_run, "job").scored()
    assert scored["message"].tolist() == pd.read_csv(source)["message"].tolist()


def test_a_machine_lost_half_way_loses_no_row_and_scores_none_twice(tiny_text_run, tmp_path, cluster):
    """Last in the file: the module's cluster gets a third machine, which is killed after two chunks."""
    source = news_file(tmp_path / "long.csv", 1200)
    victim, parts, killed = cluster.add_node(), [], threading.Event()
    folder = tiny_text_run / "scores" / "lost"

    def kill_after_two_parts() -> None:
        deadline = time.time() + 300
        while time.time() < deadline and len(list(folder.glob("parts/part-*.csv"))) < 2:
            time.sleep(0.02)
        parts.append(len(list(folder.glob("parts/part-*.csv"))))
        cluster.kill_node(victim)
        killed.set()

    driver = on_cluster("score", tiny_text_run, source, "lost", cluster.address, 100, json.dumps(COLUMNS))
    killer = threading.Thread(target=kill_after_two_parts, daemon=True)
    killer.start()
    scoring, results, phases, model = score(tiny_text_run, source, "lost", cluster.address, started=driver)
    killer.join(60)
    assert killed.is_set() and parts[0] < 12, "the machine was lost before the last chunk was scored"
    said = [p.values["nodes"] for p in phases if "Ray cluster" in p.message]
    assert said[0] == 3, "started on three machines"
    local, _, _, _ = score(tiny_text_run, source, "lost-local", None, chunk_rows=100)
    assert results["scored"] == 1200
    assert_same_rows(local.scored(), scoring.scored(), model.labels, tolerance(model))
