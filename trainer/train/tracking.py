"""Runs in MLflow, when MLFLOW_TRACKING_URI names a tracking server (nothing happens without it).

A finished run is logged once, from what its folder holds, so every way of training is logged alike (the
Trainer alone, under torchrun, on a Ray cluster, or the few-label path, which transformers' MLflow callback
never sees): its settings as parameters, the loss and each validation score per step, the test scores with
their 95% intervals, and the model folder as artifacts. An accepted compressed variant is logged into the
same MLflow run and registered as a version of the model `insight-<run>` with its verdict as tags.

Tracking never fails a run: a server that cannot be reached, or refuses, is said in one sentence in
`<run>/mlflow.json` (and by `compress`), and the run is finished as it would be without it.
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import urlparse

from trainer.i18n import tr
from trainer.runs import RunFolder

ENV = "MLFLOW_TRACKING_URI"
EXPERIMENT = "insight"  # unless MLFLOW_EXPERIMENT_NAME says otherwise
REACH_SECONDS = 5.0


def enabled() -> bool:
    return bool(os.environ.get(ENV, "").strip())


def _reachable(uri: str) -> None:
    """Raise ConnectionError with a sentence when an HTTP tracking server does not answer in a few seconds
    (MLflow's own client would retry for minutes)."""
    parsed = urlparse(uri)
    if parsed.scheme not in ("http", "https"):
        return
    import httpx

    try:
        httpx.get(f"{uri.rstrip('/')}/health", timeout=REACH_SECONDS)
    except httpx.HTTPError as exc:
        raise ConnectionError(tr("The MLflow server at {host} could not be reached ({error}).",
                                 host=parsed.netloc, error=type(exc).__name__)) from None  # fmt: skip


def _client() -> Any:
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")  # stdout is the commands' output
    import mlflow

    uri = os.environ[ENV].strip()
    _reachable(uri)
    mlflow.set_tracking_uri(uri)
    experiment = mlflow.set_experiment(os.environ.get("MLFLOW_EXPERIMENT_NAME") or EXPERIMENT)
    return mlflow, experiment


def _params(folder: RunFolder) -> dict[str, str]:
    """The settings as asked and as resolved, as MLflow parameters (strings of at most 500 characters)."""
    found = {k: v for k, v in folder.config().items() if v not in (None, "", [], {})}
    return {k: str(v)[:500] for k, v in found.items()}


def _history(mlflow: Any, folder: RunFolder) -> None:
    """The training loss per logged step and each validation score per evaluation, with their steps."""
    for event in folder.history():
        step = int(event.get("step") or 0)
        if event.get("kind") == "log" and event.get("loss") is not None:
            mlflow.log_metric("train_loss", float(event["loss"]), step=step)
        if event.get("kind") == "eval":
            for key, value in (event.get("metrics") or {}).items():
                if isinstance(value, int | float) and key != "epoch":
                    mlflow.log_metric(f"validation_{key}", float(value), step=step)


def _scores(folder: RunFolder) -> dict[str, float]:
    """The test scores, with `<score>_low` / `<score>_high` for the 95% interval of each headline score."""
    from trainer.evaluate.uncertainty import run_intervals
    from trainer.runs import load_run

    test = folder.metrics().get("test") or {}
    found = {f"test_{k}": float(v) for k, v in test.items() if isinstance(v, int | float) and k != "n"}
    for key, (low, high) in run_intervals(load_run(folder.path)).items():
        found[f"test_{key}_low"], found[f"test_{key}_high"] = float(low), float(high)
    return found


def log_run(folder: RunFolder) -> dict:
    """Log a finished run to MLflow (when enabled); the outcome is kept in the run's mlflow.json."""
    if not enabled():
        return {}
    try:
        mlflow, experiment = _client()
        with mlflow.start_run(run_name=folder.read_status().name or folder.path.name) as active:
            mlflow.set_tags(
                {"insight.run": folder.path.name, "insight.task": str(folder.config().get("task"))}
            )
            mlflow.log_params(_params(folder))
            _history(mlflow, folder)
            mlflow.log_metrics(_scores(folder))
            mlflow.log_artifacts(str(folder.model_dir), "model")
        record = {"run_id": active.info.run_id, "experiment_id": experiment.experiment_id,
                  "uri": os.environ[ENV].strip()}  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - tracking never fails a run; it says why it did not happen
        record = {"error": _sentence(exc)}
    folder.write_tracking(record)
    return record


def _sentence(exc: BaseException) -> str:
    if isinstance(exc, ConnectionError) and exc.args:
        return str(exc.args[0])
    return tr("MLflow refused the run ({error}).", error=f"{type(exc).__name__}: {str(exc)[:200]}")


def model_name(folder: RunFolder) -> str:
    """The registered model's name: `insight-<run folder name>`, in the characters MLflow takes."""
    return "insight-" + re.sub(r"[^A-Za-z0-9_.-]+", "-", folder.path.name)


def register_variant(folder: RunFolder, name: str, entry: dict, files: list[tuple[Any, str]]) -> dict:
    """Log an accepted variant's files into the run's MLflow run (logged first if it was not) and register
    them as a version of `insight-<run>`, its verdict in the version's tags; {} when tracking is off."""
    if not enabled():
        return {}
    run_id = folder.tracking().get("run_id") or log_run(folder).get("run_id")
    if not run_id:
        return {"error": folder.tracking().get("error", "")}
    try:
        mlflow, _ = _client()
        from mlflow.exceptions import MlflowException

        with mlflow.start_run(run_id=run_id):
            for path, inside in files:
                parent = os.path.dirname(inside)
                mlflow.log_artifact(str(path), f"variants/{name}" + (f"/{parent}" if parent else ""))
            source = f"{mlflow.get_artifact_uri()}/variants/{name}"
        client = mlflow.MlflowClient()
        registered = model_name(folder)
        try:
            client.create_registered_model(
                registered, description=tr("Insight run {run}", run=folder.path.name)
            )
        except MlflowException as exc:
            if "RESOURCE_ALREADY_EXISTS" not in str(exc.error_code):
                raise
        tags = {"variant": name, "accepted": str(entry["accepted"]).lower(), "metric": str(entry["metric"]),
                "score": f"{entry['score']:.4f}", "original_score": f"{entry['original_score']:.4f}",
                "agreement": f"{entry['agreement']:.4f}", "p_value": f"{entry['p_value']:.4g}",
                "speedup": f"{entry['speedup']:.2f}", "engine": str(entry.get("engine"))}  # fmt: skip
        version = client.create_model_version(registered, source, run_id=run_id, tags=tags,
                                              description=entry["reason"][:5000])  # fmt: skip
        return {"model": registered, "version": version.version}
    except Exception as exc:  # noqa: BLE001 - the variant is kept either way; the note says why it is not registered
        return {"error": _sentence(exc)}
