"""Runs in MLflow when MLFLOW_TRACKING_URI is set, against a real `mlflow server` on 127.0.0.1: a fine-tune
logs its settings, the validation scores per epoch, the test scores with their intervals and the model; an
accepted variant is registered as a model version with its verdict; a server that cannot be reached never
fails a run; without the variable nothing is logged."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from browser_kit import free_port
from cli_kit import trainer_cli
from helpers import sentiment_csv

START_SECONDS = 180


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory):
    """`mlflow server` on 127.0.0.1 with a SQLite store and local artifacts; stopped after."""
    home = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    log = (home / "server.log").open("w+")
    proc = subprocess.Popen([sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
                             "--workers", "1", "--backend-store-uri", f"sqlite:///{home / 'db.sqlite'}",
                             "--artifacts-destination", str(home / "artifacts")], cwd=home, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + START_SECONDS
        while True:
            assert proc.poll() is None, log.seek(0) or log.read()[-3000:]
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.time() < deadline, "mlflow server did not start"
            time.sleep(0.5)
        yield url
    finally:
        import os
        import signal

        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)


@pytest.fixture(scope="module")
def tracked(mlflow_server, tmp_path_factory, tiny_model_dir):
    runs = tmp_path_factory.mktemp("tracked-runs")
    data = sentiment_csv(tmp_path_factory.mktemp("tracked-data") / "s.csv", n=120)
    env = {"MLFLOW_TRACKING_URI": mlflow_server, "MLFLOW_EXPERIMENT_NAME": "tests"}
    done = trainer_cli("fit", data, "--model", tiny_model_dir, "--epochs", "2", "--learning-rate", "1e-3",
                       "--name", "tracked", "--quiet", runs_dir=runs, env=env, timeout=900)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return runs, Path(done.stdout.strip().splitlines()[-1]), env, data


def test_a_finished_run_is_in_mlflow_with_its_settings_scores_per_epoch_intervals_and_model(
    mlflow_server, tracked
):
    import mlflow

    runs, run, _, _ = tracked
    record = json.loads((run / "mlflow.json").read_text())
    assert "error" not in record, record
    client = mlflow.MlflowClient(tracking_uri=mlflow_server)
    logged = client.get_run(record["run_id"])
    assert logged.info.run_name == "tracked" and logged.data.tags["insight.run"] == run.name
    assert logged.data.params["epochs"] == "2.0" and logged.data.params["learning_rate"] == "0.001"
    steps = [m.step for m in client.get_metric_history(record["run_id"], "validation_accuracy")]
    assert len(steps) == 2 and steps == sorted(steps), "one validation score per epoch"
    metrics = logged.data.metrics
    test = json.loads((run / "metrics.json").read_text())["test"]
    assert metrics["test_accuracy"] == pytest.approx(test["accuracy"])
    assert metrics["test_accuracy_low"] <= metrics["test_accuracy"] <= metrics["test_accuracy_high"]
    artifacts = {a.path for a in client.list_artifacts(record["run_id"], "model")}
    assert {"model/config.json", "model/model.safetensors"} <= artifacts


def test_an_accepted_variant_is_registered_with_its_verdict(mlflow_server, tracked):
    import mlflow

    runs, run, env, _ = tracked
    done = trainer_cli("compress", run, "--to", "onnx", "--json", runs_dir=runs, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    entry = json.loads(done.stdout)["variants"][0]
    assert entry["accepted"], entry["reason"]
    assert entry["registered"]["model"] == f"insight-{run.name}", entry
    client = mlflow.MlflowClient(tracking_uri=mlflow_server)
    (version,) = client.search_model_versions(f"name='insight-{run.name}'")
    assert version.tags["variant"] == "onnx" and version.tags["accepted"] == "true"
    assert float(version.tags["agreement"]) == pytest.approx(entry["agreement"], abs=1e-4)
    assert version.run_id == json.loads((run / "mlflow.json").read_text())["run_id"]
    assert "model.onnx" in {Path(a.path).name for a in client.list_artifacts(version.run_id, "variants/onnx")}


def test_a_server_out_of_reach_never_fails_a_run_and_no_variable_logs_nothing(
    tracked, tmp_path, tiny_model_dir
):
    from trainer.runs import RunFolder
    from trainer.train import tracking

    _, _, _, data = tracked
    closed = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    done = trainer_cli("fit", data, "--model", tiny_model_dir, "--max-steps", "2", "--quiet", runs_dir=tmp_path,
                       env={"MLFLOW_TRACKING_URI": closed}, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert time.monotonic() - started < 300, "an unreachable server is given up on in seconds, not retried"
    run = RunFolder(done.stdout.strip().splitlines()[-1])
    assert run.read_status().status == "finished"
    record = json.loads(run.tracking_file.read_text())
    assert (
        set(record) == {"error"}
        and "could not be reached" in record["error"]
        and closed[7:] in record["error"]
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        run.tracking_file.unlink()
        assert tracking.log_run(run) == {}
    assert not run.tracking_file.exists()
