"""The run folder's one owner: `RunFolder` names every path under a run and reads and writes its files
(JSON atomically: temp file + rename, so a crash never leaves half a file)."""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from trainer.files.atomic import read_json, replace_folder, temp_beside, write_json
from trainer.model.loading import RUN_MODEL_FOLDER
from trainer.runs.records import (  # noqa: F401 - the status names are the run folder's words too
    ACTIVE,
    CANCELLED,
    FAILED,
    FINISHED,
    INTERRUPTED,
    QUEUED,
    RUNNING,
    ComputationState,
    RunStatus,
)
from trainer.tasks import get_task

DEFAULT_RUNS_DIR = Path(os.environ.get("INSIGHT_RUNS_DIR", "runs"))
SPLITS = ("train", "validation", "test")
RESERVE_BYTES = 256 * 1024  # kept free by a running job for its last status (RunFolder.reserve_space)


# What a run's files are created with: folders 0700, files 0600 (the service's user only).
PRIVATE_UMASK = 0o077
_umask_lock = threading.Lock()
_umask_users = 0
_umask_before = 0


@contextlib.contextmanager
def private_files() -> Iterator[None]:
    """Files and folders created in this block are private to this user (folders 0700, files 0600).

    The umask is the process's, so other threads writing meanwhile create private files too (never less
    private); nested and concurrent blocks restore the umask when the last one ends."""
    global _umask_users, _umask_before
    with _umask_lock:
        if _umask_users == 0:
            _umask_before = os.umask(PRIVATE_UMASK)
        _umask_users += 1
    try:
        yield
    finally:
        with _umask_lock:
            _umask_users -= 1
            if _umask_users == 0:
                os.umask(_umask_before)


def monitors_dir(runs_dir: Path) -> Path:
    """Where the runs folder keeps its monitors, one DuckDB file each (trainer.monitor)."""
    return Path(runs_dir) / ".monitors"


def monitor_incoming_dir(runs_dir: Path) -> Path:
    """Where batches wait, uploaded, until a monitor has stored them (then they are deleted)."""
    return monitors_dir(runs_dir) / "incoming"


def access_dir(runs_dir: Path) -> Path:
    """Where the runs folder keeps its accounts, audit log and their locks (trainer.access)."""
    return Path(runs_dir) / ".access"


class RunFolder:
    """One run folder: every path under it, and reading and writing each of its files.

    Files: status.json, config.json (the TrainConfig as asked), resolved.json (what fine-tuning chose:
    max length, epochs, device), labels.json, report.json, data/<split>.jsonl, history.json,
    progress.json (the latest step), cancel (a cancel request), metrics.json, predictions.csv,
    error.log, worker.log, model/, checkpoints/, embeddings/, projections/, attributions/, computations/
    (background computations of this run: their progress and errors).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    # ------------------------------------------------------------ paths

    status_file = property(lambda self: self.path / "status.json")
    config_file = property(lambda self: self.path / "config.json")
    resolved_file = property(lambda self: self.path / "resolved.json")
    labels_file = property(lambda self: self.path / "labels.json")
    report_file = property(lambda self: self.path / "report.json")
    history_file = property(lambda self: self.path / "history.json")
    metrics_file = property(lambda self: self.path / "metrics.json")
    intervals_file = property(lambda self: self.path / "intervals.json")  # 95% bootstrap intervals (test)
    predictions_file = property(lambda self: self.path / "predictions.csv")
    error_log = property(lambda self: self.path / "error.log")
    worker_log = property(lambda self: self.path / "worker.log")
    progress_file = property(lambda self: self.path / "progress.json")
    cancel_file = property(lambda self: self.path / "cancel")
    cluster_dir = property(
        lambda self: self.path / "cluster-train"
    )  # Ray Train's own state (trainer.jobs.cluster_train)
    cluster_outcome_file = property(lambda self: self.path / "cluster-train.json")  # how its workers ended
    computations_dir = property(lambda self: self.path / "computations")  # background computations' states
    vectors_dir = property(lambda self: self.path / "vectors")
    inference_file = property(lambda self: self.path / "inference.json")
    issues_file = property(lambda self: self.path / "label_issues.csv")
    issues_meta_file = property(lambda self: self.path / "label_issues.json")
    corrections_file = property(lambda self: self.path / "corrections.json")  # Evaluate's label decisions
    access_file = property(lambda self: self.path / "access.json")  # owner and sharing (trainer.access)
    robustness_file = property(lambda self: self.path / "robustness.json")  # trainer.inspect.behaviour
    model_dir = property(lambda self: self.path / RUN_MODEL_FOLDER)
    weights_file = property(lambda self: self.model_dir / "model.safetensors")  # the model's weights, whole
    checkpoints_dir = property(lambda self: self.path / "checkpoints")
    embeddings_dir = property(lambda self: self.path / "embeddings")
    projections_dir = property(lambda self: self.path / "projections")
    top_words_file = property(lambda self: self.path / "attributions" / "top_words.csv")
    rank_speed_file = property(lambda self: self.path / "attributions" / "speed.json")  # seconds per text
    trust_file = property(lambda self: self.path / "trust.npz")  # Apply's trust thresholds
    scores_dir = property(lambda self: self.path / "scores")  # one folder per scoring (trainer.runs.scoring)
    uploads_dir = property(lambda self: self.scores_dir / "files")  # files uploaded to be scored
    vectors_lock = property(lambda self: self.vectors_dir / ".finetuned.lock")
    reserve_file = property(lambda self: self.path / ".reserve")  # room kept for the last status of a job
    tracking_file = property(
        lambda self: self.path / "mlflow.json"
    )  # its MLflow run (trainer.train.tracking)

    def scoring_dir(self, name: str) -> Path:
        return self.scores_dir / name

    def map_sample_file(self, subset: str) -> Path:
        """Which examples the embedding map's first sample holds."""
        return self.vectors_dir / f"sample-{subset}.json"

    def vector_file(self, model: str, split: str) -> Path:
        """Embeddings (float16, one row per text, or per word for the token task) of `model`
        ("finetuned" or "backbone") on a split, or on the map's sample ("sample")."""
        return self.vectors_dir / f"{model}-{split}.npy"

    def probs_file(self, split: str) -> Path:
        """The fine-tuned model's class probabilities (float16, one row per text or word) on a split."""
        return self.vectors_dir / f"probs-{split}.npy"

    def write_array(self, path: Path, values: Any) -> None:
        """Save an array as float16, whole or not at all."""
        import numpy as np

        path.parent.mkdir(exist_ok=True)
        tmp = temp_beside(path, ".tmp.npy")
        np.save(tmp, np.asarray(values, dtype=np.float16))
        os.replace(tmp, path)

    def read_array(self, path: Path) -> Any:
        """A saved array as float32, or None when it is not there (yet)."""
        import numpy as np

        return np.load(path).astype(np.float32) if path.exists() else None

    def issues(self) -> pd.DataFrame | None:
        """Likely label issues over every split (trainer.inspect.label_issues), most suspicious first."""
        path = self.issues_file
        return pd.read_csv(path, keep_default_na=False) if path.exists() else None

    def issues_meta(self) -> dict:
        return read_json(self.issues_meta_file, {}) or {}

    def robustness(self) -> dict | None:
        """The behavioural tests last run on the test split (trainer.inspect.behaviour), or None."""
        return read_json(self.robustness_file, None)

    def write_robustness(self, data: dict) -> None:
        write_json(self.robustness_file, data)

    def corrections(self) -> list[dict]:
        """The label decisions made on the Evaluate page (trainer.inspect.corrections reads them)."""
        data = read_json(self.corrections_file, []) or []
        return data if isinstance(data, list) else []

    def write_corrections(self, records: list[dict]) -> None:
        write_json(self.corrections_file, records)

    def write_issues(self, frame: pd.DataFrame, meta: dict) -> None:
        tmp = temp_beside(self.issues_file)
        frame.to_csv(tmp, index=False)
        os.replace(tmp, self.issues_file)
        write_json(self.issues_meta_file, meta)

    def inference(self) -> dict:
        """How this run's models run fastest and safely on the CPU (see trainer.model.bf16_check)."""
        return read_json(self.inference_file, {}) or {}

    def write_inference(self, model: str, check: dict) -> None:
        write_json(self.inference_file, {**self.inference(), model: check})

    def computation_file(self, name: str) -> Path:
        """The state of background computation `name` of this run (see trainer.jobs.worker.COMPUTATIONS).

        Runs written before the rename keep theirs in `tasks/`; they are read (and updated) there."""
        legacy = self.path / "tasks" / f"{name}.json"
        return legacy if legacy.exists() else self.computations_dir / f"{name}.json"

    def computation_stop_file(self, name: str) -> Path:
        """Its presence asks background computation `name` to stop."""
        return self.computation_file(name).with_suffix(".cancel")

    def split_file(self, name: str) -> Path:
        return self.path / "data" / f"{name}.jsonl"

    def embedding_files(self, subset: str) -> dict[str, Path]:
        """The embedding map of `subset` ("test", "all"): vectors after and before, the examples."""
        base = self.embeddings_dir
        return {
            "after": base / f"{subset}-finetuned.npy",
            "before": base / f"{subset}-backbone.npy",
            "before_error": base / f"{subset}-backbone-error.txt",
            "frame": base / f"{subset}-examples.csv",
        }

    @property
    def has_model(self) -> bool:
        return (self.model_dir / "config.json").exists()

    def model_files(self) -> list[tuple[Path, Path]]:
        """(file, its path inside model/) for every regular file of the saved model, sorted.

        A symbolic link (to a file or a folder) is never followed nor listed, and nothing that resolves
        outside model/ is: a link planted in a run's model folder cannot make a download carry another file.
        """
        root = self.model_dir
        if root.is_symlink() or not root.is_dir():
            return []
        real_root = root.resolve()
        found = []
        for folder, dirs, files in os.walk(root):  # os.walk does not descend into links to folders
            dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(folder, d))]
            for name in files:
                path = Path(folder) / name
                if path.is_symlink() or not path.is_file() or not path.resolve().is_relative_to(real_root):
                    continue
                found.append((path, path.relative_to(root)))
        return sorted(found, key=lambda pair: str(pair[1]))

    # ------------------------------------------------------------ status

    def read_status(self) -> RunStatus:
        return RunStatus.read(self.status_file)

    def write_status(self, status: str, **fields: Any) -> RunStatus:
        """Update status.json, keeping earlier fields; records the process running it (default: this one)."""
        record = self.read_status().moved_on(status, **fields)
        record.write(self.status_file)
        return record

    # ------------------------------------------------------------ the job's channel

    def request_cancel(self) -> None:
        """Ask the job to stop: it checks for this file at every optimisation step."""
        with private_files():
            self.cancel_file.write_text(str(time.time()), encoding="utf-8")

    def cancel_requested(self) -> bool:
        return self.cancel_file.exists()

    def clear_cancel(self) -> None:
        self.cancel_file.unlink(missing_ok=True)

    def progress(self) -> dict:
        """The latest step event (step, max_steps, epoch, speed, ETA)."""
        return read_json(self.progress_file, {}) or {}

    def write_progress(self, event: dict) -> None:
        write_json(self.progress_file, event)

    def read_computation(self, name: str) -> ComputationState | None:
        """A background computation's state, or None when it never started."""
        path = self.computation_file(name)
        return ComputationState.read(path) if path.exists() else None

    def write_computation(self, name: str, **fields: Any) -> ComputationState:
        """Update a background computation's state file, keeping earlier fields."""
        path = self.computation_file(name)
        path.parent.mkdir(exist_ok=True)
        record = (self.read_computation(name) or ComputationState()).with_fields(
            **fields, updated=time.time()
        )
        record.write(path)
        return record

    def latest_checkpoint(self) -> Path | None:
        """The newest complete checkpoint (saved at the end of an epoch), to resume from."""
        found = [p for p in self.checkpoints_dir.glob("checkpoint-*") if _complete(p)]
        return max(found, key=lambda p: int(p.name.rsplit("-", 1)[1]), default=None)

    def remove_partial_checkpoints(self) -> None:
        """Delete checkpoints whose saving never finished (the Trainer writes trainer_state.json last), and
        this process's half-written temporary files: what a full disk leaves behind."""
        for path in self.checkpoints_dir.glob("checkpoint-*") if self.checkpoints_dir.is_dir() else []:
            if not _complete(path) and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
        mine = f".{os.getpid()}."  # temp_beside's names: .<name>.<pid>.<thread>.tmp...
        for root, dirs, files in os.walk(self.path):  # links to folders are not followed
            for name in [*dirs, *files]:
                path = Path(root) / name
                if name.startswith(".") and mine in name and ".tmp" in name:
                    if path.is_dir() and not path.is_symlink():
                        shutil.rmtree(path, ignore_errors=True)
                    else:
                        path.unlink(missing_ok=True)

    def reserve_space(self, size: int = RESERVE_BYTES) -> None:
        """Keep `size` bytes for a job's last words: released when the disk fills (release_space), so the
        status that says so can still be written."""
        try:
            with open(self.reserve_file, "wb") as out:
                out.write(bytes(size))
        except OSError:
            self.reserve_file.unlink(missing_ok=True)

    def release_space(self) -> None:
        self.reserve_file.unlink(missing_ok=True)

    def load_split(self, name: str) -> Any:
        """One saved split as a trainer.data.Split (empty when the run has none)."""
        from trainer.data import Split

        frame = self.split(name)
        if frame is None or frame.empty:
            return Split([], [], [] if frame is not None and "tokens" in frame.columns else None, [])
        if "tokens" in frame.columns:
            tokens = [str(t).split() for t in frame["tokens"]]
            tags = [str(t).split() for t in frame["tags"]]
            return Split([" ".join(t) for t in tokens], tags, tokens, _rows(frame))
        texts, labels = frame["text"].astype(str).tolist(), frame["label"].astype(str).tolist()
        return Split(texts, labels, rows=_rows(frame))

    def load_data(self) -> Any:
        """The PreparedData saved at submit time (config, labels, report and the exact splits)."""
        from trainer.data import ValidationReport
        from trainer.prepare import PreparedData

        config = read_json(self.config_file, {}) or {}
        report_fields = {k: v for k, v in self.report().items() if k in ValidationReport.__dataclass_fields__}
        return PreparedData(
            task=get_task(config.get("task")).name,
            labels=self.labels(),
            report=ValidationReport(**report_fields),
            text_column=config.get("text_column"),
            label_column=config.get("label_column"),
            **{name: self.load_split(name) for name in SPLITS},
        )

    # ------------------------------------------------------------ inputs (written when a job is submitted)

    def write_inputs(self, config: dict, data: Any) -> None:
        """config.json, labels.json, report.json and the exact splits, before training starts."""
        write_json(self.config_file, {**config, "task": data.task})
        write_json(self.labels_file, list(data.labels))
        report = data.report.to_dict() if hasattr(data.report, "to_dict") else {}
        write_json(self.report_file, report)
        (self.path / "data").mkdir(exist_ok=True)
        for name in SPLITS:
            frame = getattr(data, name).to_frame()
            frame.to_json(self.split_file(name), orient="records", lines=True, force_ascii=False)

    def asked_config(self) -> dict:
        """The config as it was asked (config.json alone): what starting the same run again takes."""
        return read_json(self.config_file, {}) or {}

    def config(self) -> dict:
        """The config as asked, with what fine-tuning resolved (`resolved_max_length`, ...) merged in."""
        config = read_json(self.config_file, {}) or {}
        resolved = read_json(self.resolved_file, {}) or {}
        return {**config, **{f"resolved_{k}" if k != "device" else k: v for k, v in resolved.items()}}

    def write_resolved(self, **values: Any) -> None:
        """What fine-tuning chose: max_length, epochs, device, learning_rate, pooling."""
        write_json(self.resolved_file, values)

    def labels(self) -> list[str]:
        return read_json(self.labels_file, []) or []

    def report(self) -> dict:
        return read_json(self.report_file, {}) or {}

    def split(self, name: str) -> pd.DataFrame | None:
        """A data split ('train', 'validation', 'test') as saved at submit time."""
        path = self.split_file(name)
        return pd.read_json(path, lines=True, dtype=False) if path.exists() else None

    # ------------------------------------------------------------ outputs

    def history(self) -> list[dict]:
        return read_json(self.history_file, []) or []

    def write_history(self, events: list[dict]) -> None:
        write_json(self.history_file, events)

    def tracking(self) -> dict:
        return read_json(self.tracking_file, {}) or {}

    def write_tracking(self, record: dict) -> None:
        write_json(self.tracking_file, record)

    def metrics(self) -> dict:
        return read_json(self.metrics_file, {}) or {}

    def write_metrics(self, metrics: dict) -> None:
        write_json(self.metrics_file, metrics)

    def predictions(self) -> pd.DataFrame | None:
        """The test-split predictions table, if written."""
        path = self.predictions_file
        return pd.read_csv(path, keep_default_na=False) if path.exists() else None

    def predictions_stamp(self) -> int | None:
        """When predictions.csv last changed (ns), or None when there is none."""
        return self.predictions_file.stat().st_mtime_ns if self.predictions_file.exists() else None

    def intervals(self) -> dict:
        return read_json(self.intervals_file, {}) or {}

    def write_intervals(self, data: dict) -> None:
        write_json(self.intervals_file, data)

    def write_predictions(self, frame: pd.DataFrame) -> None:
        tmp = temp_beside(self.predictions_file)
        frame.to_csv(tmp, index=False)
        os.replace(tmp, self.predictions_file)

    def write_error_log(self, text: str) -> None:
        with private_files():
            self.error_log.write_text(text, encoding="utf-8")

    def save_model(self, model: Any, tokenizer: Any) -> None:
        """save_pretrained into model/ (loadable by transformers.pipeline), whole or not at all.

        The model is written to a temporary folder and swapped into place in one step, so a full disk or
        a crash while saving never leaves a half-written model/ that looks good, and a reader never finds
        no model while an older one is replaced.
        """
        tmp = temp_beside(self.model_dir)
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            model.save_pretrained(tmp, safe_serialization=True)
            tokenizer.save_pretrained(tmp)
            replace_folder(tmp, self.model_dir)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def top_words(self) -> pd.DataFrame | None:
        path = self.top_words_file
        return pd.read_csv(path, keep_default_na=False) if path.exists() else None

    def top_words_meta(self) -> dict:
        """How far the ranking got: explained, planned (the sample or the whole split), total."""
        return read_json(self.top_words_file.with_suffix(".json"), {}) or {}

    def write_top_words(self, frame: pd.DataFrame) -> None:
        """The ranking (and how many texts it rests on, from `frame.attrs`), replaced as it refines."""
        self.top_words_file.parent.mkdir(exist_ok=True)
        tmp = temp_beside(self.top_words_file)
        frame.to_csv(tmp, index=False)
        os.replace(tmp, self.top_words_file)
        write_json(self.top_words_file.with_suffix(".json"), {k: int(v) for k, v in frame.attrs.items()})

    def rank_speed(self) -> float | None:
        """The last measured seconds per text of explaining with this run's model here (None: never measured)."""
        value = (read_json(self.rank_speed_file, {}) or {}).get("seconds_per_text")
        return float(value) if isinstance(value, int | float) and value > 0 else None

    def write_rank_speed(self, seconds_per_text: float) -> None:
        """Keep the speed measured while explaining texts, for the next estimate before Start."""
        self.rank_speed_file.parent.mkdir(exist_ok=True)
        write_json(
            self.rank_speed_file, {"seconds_per_text": float(seconds_per_text), "measured": time.time()}
        )

    def forget_top_words(self) -> None:
        self.top_words_file.unlink(missing_ok=True)
        self.top_words_file.with_suffix(".json").unlink(missing_ok=True)


def _complete(checkpoint: Path) -> bool:
    """Whether a checkpoint was saved whole: its trainer_state.json (written last) reads as JSON."""
    return read_json(checkpoint / "trainer_state.json") is not None


def _rows(frame: pd.DataFrame) -> list[int] | None:
    return [int(r) for r in frame["row"]] if "row" in frame.columns else None
