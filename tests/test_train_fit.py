"""Fine-tuning end to end on a tiny random BERT (fast) and once on the real bundled model."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import conll_file, sentiment_csv

from trainer.config import TrainConfig
from trainer.model.loading import load_tokenizer
from trainer.prepare import prepare
from trainer.runs import RunFolder, create_run
from trainer.runs.predictor import RunModel
from trainer.tasks import TOKEN_TASK
from trainer.train.fit import Cancelled, class_weights, fit

# Numerics: `make test` runs this module again under the AVX2-only kernels (pyproject's `kernels`).
pytestmark = pytest.mark.kernels


@pytest.fixture
def tiny_data(tmp_path, tiny_model_dir):
    return prepare(sentiment_csv(tmp_path / "s.csv"), tokenizer=load_tokenizer(str(tiny_model_dir)))


def test_fit_writes_a_complete_run_and_events_in_order(tmp_path, tiny_model_dir, tiny_data):
    events = []
    run_dir = create_run(tmp_path, "tiny")
    config = TrainConfig(model=str(tiny_model_dir), epochs=2, batch_size=8, learning_rate=1e-3)
    result = fit(config, tiny_data, run_dir, on_event=events.append)

    kinds = [e.kind for e in events]
    assert kinds[0] == "start" and kinds[-1] == "end"
    assert kinds.count("eval") == 2, "one validation pass per epoch"
    steps = [e.step for e in events if e.kind == "step"]
    assert steps == sorted(steps) and steps[-1] == events[0].max_steps
    assert all(e.loss > 0 for e in events if e.kind == "log")
    assert any(e.samples_per_second for e in events if e.kind == "step")

    test = result.metrics["test"]
    assert set(test["per_class"]) == {"negative", "neutral", "positive"}
    assert np.array(test["confusion_matrix"]["matrix"]).sum() == len(tiny_data.test)
    for key in ("accuracy", "macro_f1", "micro_f1", "weighted_f1"):
        assert 0 <= test[key] <= 1
    assert result.metrics["validation"]["n"] == len(tiny_data.validation)
    assert len(result.metrics["history"]) == 2

    predictions = pd.read_csv(run_dir / "predictions.csv")
    assert list(predictions.columns[:4]) == ["text", "gold", "predicted", "confidence"]
    assert {"p_negative", "p_neutral", "p_positive"} <= set(predictions.columns)
    assert np.allclose(predictions[["p_negative", "p_neutral", "p_positive"]].sum(axis=1), 1, atol=1e-3)
    saved = RunFolder(run_dir).config()
    assert saved["resolved_max_length"] >= 8
    assert not (run_dir / "checkpoints").exists(), "checkpoints are cleaned up"


def test_saved_model_loads_in_a_pipeline_with_the_users_label_names(tmp_path, tiny_model_dir, tiny_data):
    from transformers import pipeline

    run_dir = create_run(tmp_path, "pipe")
    fit(TrainConfig(model=str(tiny_model_dir), epochs=1, batch_size=16), tiny_data, run_dir)
    classify = pipeline("text-classification", model=str(run_dir / "model"))
    (out,) = classify("I love it, excellent")
    assert out["label"] in {"negative", "neutral", "positive"}
    saved = RunFolder(run_dir).config()
    assert saved["resolved_pooling"] == "mean" and saved["resolved_learning_rate"] == 1e-4, "the defaults"
    assert classify.model.config.num_hidden_layers == 3, "the mean-pooling layer is saved with the model"


def test_cancel_is_honoured_within_one_step(tmp_path, tiny_model_dir, tiny_data):
    steps_after_request = []
    asked = {"at": None}

    def on_event(event):
        if event.kind == "step":
            if asked["at"] is None and event.step >= 2:
                asked["at"] = event.step
            elif asked["at"] is not None:
                steps_after_request.append(event.step)

    run_dir = create_run(tmp_path, "cancel")
    config = TrainConfig(model=str(tiny_model_dir), epochs=50, batch_size=4)
    with pytest.raises(Cancelled):
        fit(config, tiny_data, run_dir, on_event=on_event, should_stop=lambda: asked["at"] is not None)
    assert asked["at"] == 2 and steps_after_request == []
    assert not (run_dir / "model").exists()
    assert (run_dir / "history.json").exists(), "what was logged before the cancel is kept"


def test_lora_run_is_saved_as_a_plain_model(tmp_path, tiny_model_dir, tiny_data):
    from transformers import AutoModelForSequenceClassification

    run_dir = create_run(tmp_path, "lora")
    config = TrainConfig(model=str(tiny_model_dir), epochs=1, batch_size=16, lora=True, class_weights=True)
    fit(config, tiny_data, run_dir)
    model = AutoModelForSequenceClassification.from_pretrained(run_dir / "model")
    assert not any("lora" in name for name, _ in model.named_parameters())
    assert model.config.id2label[0] == "negative"


def test_class_weights_favour_rare_classes():
    weights = class_weights(["a"] * 8 + ["b"] * 2, ["a", "b"])
    assert weights[1] == pytest.approx(4 * weights[0])
    assert weights.mean() == pytest.approx(1.0)


def test_the_real_model_learns_well_above_chance(tmp_path, real_model_dir):
    data = prepare(sentiment_csv(tmp_path / "s.csv", n=150), tokenizer=load_tokenizer("default"))
    run_dir = create_run(tmp_path, "real")
    result = fit(
        TrainConfig(epochs=2, batch_size=16, early_stopping_patience=0, few_shot="off"), data, run_dir
    )
    assert result.metrics["test"]["macro_f1"] > 0.6, "three classes: chance is about 0.33"


def test_ner_run_is_loadable_by_the_token_classification_pipeline(tmp_path, tiny_model_dir):
    from transformers import pipeline

    data = prepare(conll_file(tmp_path / "ner.conll"), tokenizer=load_tokenizer(str(tiny_model_dir)))
    assert data.task == TOKEN_TASK and "B-PER" in data.labels
    run_dir = create_run(tmp_path, "ner")
    config = TrainConfig(
        model=str(tiny_model_dir), task=TOKEN_TASK, epochs=2, batch_size=8, learning_rate=5e-3
    )
    result = fit(config, data, run_dir)
    test = result.metrics["test"]
    assert {"f1", "micro_f1", "macro_f1", "token_accuracy", "per_class", "confusion_matrix"} <= set(test)
    assert "O" in test["confusion_matrix"]["labels"]
    frame = pd.read_csv(run_dir / "predictions.csv")
    assert list(frame.columns[:3]) == ["tokens", "gold", "predicted"]

    ner = pipeline("token-classification", model=str(run_dir / "model"), aggregation_strategy="simple")
    assert [ner.model.config.id2label[i] for i in range(len(data.labels))] == data.labels
    entities = ner("Anna Berg joined Acme in Oslo .")
    assert all(e["entity_group"] in {"PER", "ORG", "LOC"} for e in entities)

    model = RunModel.load(run_dir)
    tags = model.predict([["Anna", "Berg", "joined", "Acme"]]).tags[0]
    assert len(tags) == 4 and set(tags) <= set(data.labels)


def test_a_cancelled_run_resumes_from_its_last_epoch_and_ends_like_an_uninterrupted_one(
    tmp_path, tiny_model_dir, tiny_data
):
    config = TrainConfig(model=str(tiny_model_dir), epochs=3, batch_size=16, learning_rate=5e-4)
    whole = fit(config, tiny_data, create_run(tmp_path, "whole")).metrics
    epochs_seen = []

    def stop_after_first_epoch() -> bool:
        return bool(epochs_seen) and epochs_seen[-1] >= 1.0

    run_dir = create_run(tmp_path, "interrupted")
    with pytest.raises(Cancelled):
        fit(
            config,
            tiny_data,
            run_dir,
            on_event=lambda e: epochs_seen.append(e.epoch),
            should_stop=stop_after_first_epoch,
        )
    folder = RunFolder(run_dir)
    assert folder.latest_checkpoint() is not None and not folder.has_model
    first_attempt = len(folder.history())
    resumed = fit(config, tiny_data, run_dir, resume=True).metrics
    assert resumed["summary"]["resumed"] and folder.has_model and folder.latest_checkpoint() is None
    assert len(folder.history()) > first_attempt, "the first attempt's events are kept"
    for key in ("accuracy", "macro_f1"):
        assert resumed["test"][key] == pytest.approx(whole["test"][key], abs=0.05)
    with pytest.raises(ValueError, match="no saved epoch"):
        fit(config, tiny_data, create_run(tmp_path, "fresh"), resume=True)


def _nan_model(tiny_model_dir: Path, path: Path) -> Path:
    """A copy of the tiny backbone whose embedding norm is NaN: every loss it gives is NaN, on any CPU."""
    import torch
    from transformers import AutoTokenizer, BertModel

    model = BertModel.from_pretrained(tiny_model_dir)
    with torch.no_grad():
        model.embeddings.LayerNorm.weight.fill_(float("nan"))
    model.save_pretrained(path)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(path)
    return path


def test_a_loss_that_becomes_nan_stops_with_advice(tmp_path, tiny_model_dir, tiny_data):
    """Divergence by construction, through the real fit path: the first logged loss is NaN."""
    from trainer.train.fit import Diverged

    model_dir = _nan_model(tiny_model_dir, tmp_path / "nan-bert")
    run_dir = create_run(tmp_path, "nan")
    config = TrainConfig(
        model=str(model_dir), epochs=5, batch_size=4, learning_rate=0.9, early_stopping_patience=0
    )
    with pytest.raises(
        Diverged, match=r"the loss became NaN\. The learning rate \(0.9\) is probably too high"
    ):
        fit(config, tiny_data, run_dir)
    assert not RunFolder(run_dir).has_model
    steps = [e["step"] for e in RunFolder(run_dir).history() if e["kind"] == "log"]
    assert steps and max(steps) <= 2 * steps[0], "stopped at the first loss it logged, not at the end"


def test_a_loss_that_explodes_stops_with_advice(tmp_path, tiny_model_dir, tiny_data, monkeypatch):
    """Divergence by construction: each loss the Trainer computes is ten times the one before."""
    import itertools

    from transformers import Trainer

    from trainer.train.fit import Diverged

    computed = Trainer.compute_loss
    calls = itertools.count()

    def growing(self, *args, **kwargs):
        result = computed(self, *args, **kwargs)
        factor = 10.0 ** next(calls)
        return (result[0] * factor, *result[1:]) if isinstance(result, tuple) else result * factor

    monkeypatch.setattr(Trainer, "compute_loss", growing)
    run_dir = create_run(tmp_path, "explode")
    config = TrainConfig(
        model=str(tiny_model_dir), epochs=5, batch_size=4, learning_rate=0.9, early_stopping_patience=0
    )
    with pytest.raises(Diverged, match=r"learning rate \(0.9\) is probably too high") as caught:
        fit(config, tiny_data, run_dir)
    assert "loss exploded from" in str(caught.value) and not RunFolder(run_dir).has_model


def test_divergence_rules():
    from trainer.train.progress import divergence

    assert divergence(float("nan"), 1.0, 0.9, 7).startswith("Training stopped at step 7: the loss became NaN")
    assert "infinite" in divergence(float("inf"), None, None, 1)
    assert "exploded from 0.7 to 8" in divergence(8.0, 0.7, 1e-3, 40)
    assert divergence(6.0, 0.7, 1e-3, 40) is None and divergence(0.5, None, 1e-3, 1) is None


def test_a_model_replaced_by_a_newer_one_is_never_missing(tmp_path):
    """A reader polling while the model is saved again and again always finds a whole model/."""
    import threading

    class Fake:
        def __init__(self, version: int) -> None:
            self.version = version

        def save_pretrained(self, path, **kwargs):
            Path(path).mkdir(parents=True, exist_ok=True)
            (Path(path) / "weights.bin").write_bytes(bytes(200_000))
            (Path(path) / "config.json").write_text(json.dumps({"version": self.version}))

    folder = RunFolder(create_run(tmp_path, "swap"))
    folder.save_model(Fake(0), Fake(0))
    missing, seen, done = [], set(), threading.Event()

    def read() -> None:
        while not done.is_set():
            try:
                seen.add(json.loads((folder.model_dir / "config.json").read_text())["version"])
            except (OSError, ValueError) as exc:
                missing.append(repr(exc))

    reader = threading.Thread(target=read)
    reader.start()
    for version in range(1, 30):
        folder.save_model(Fake(version), Fake(version))
    done.set()
    reader.join()
    assert missing == []
    assert json.loads((folder.model_dir / "config.json").read_text()) == {"version": 29} and len(seen) > 1
    assert [p.name for p in folder.path.iterdir() if p.name.startswith(".model")] == [], "old copies deleted"


def test_a_model_is_saved_whole_or_not_at_all(tmp_path):
    import errno

    class FullDisk:
        def save_pretrained(self, path, **kwargs):
            Path(path).mkdir(parents=True, exist_ok=True)
            (Path(path) / "model.safetensors").write_bytes(b"half")
            raise OSError(errno.ENOSPC, "No space left on device")

    folder = RunFolder(create_run(tmp_path, "full"))
    with pytest.raises(OSError) as caught:
        folder.save_model(FullDisk(), None)
    assert not folder.model_dir.exists() and not list(folder.path.glob(".model*"))
    from trainer.errors import friendly_error

    assert friendly_error(caught.value).startswith("The disk is full")


def test_a_run_cancelled_before_its_first_epoch_says_it_starts_again_from_the_beginning(
    tmp_path, tiny_model_dir, tiny_data
):
    run_dir = create_run(tmp_path, "early")
    config = TrainConfig(model=str(tiny_model_dir), epochs=3, batch_size=4)
    with pytest.raises(Cancelled) as stopped:
        fit(config, tiny_data, run_dir, should_stop=lambda: True)
    assert RunFolder(run_dir).latest_checkpoint() is None
    said = str(stopped.value)
    assert "no epoch was finished, so it starts again from the beginning" in said
    assert "last saved epoch" not in said


def test_the_time_budget_stops_training_at_the_budget_and_says_so(tmp_path, tiny_model_dir, tiny_data):
    """A clock that moves 30 s a step (no waiting): a one-minute budget stops the run after step 2 of many."""
    from trainer.train.estimate import stopped_note

    now = {"t": 1000.0}
    events = []

    def on_event(event):
        events.append(event)
        if event.kind == "step":
            now["t"] += 30.0

    run_dir = create_run(tmp_path, "budget")
    config = TrainConfig(model=str(tiny_model_dir), epochs=20, batch_size=4, time_budget_minutes=1)
    result = fit(config, tiny_data, run_dir, on_event=on_event, clock=lambda: now["t"])

    summary = result.metrics["summary"]
    assert summary["stopped_at_time_budget"] is True and summary["time_budget_seconds"] == 60
    assert summary["steps"] == 2 < events[0].max_steps, "stopped at the step that spent the budget"
    assert [e.step for e in events if e.kind == "step"] == [1, 2]
    assert RunFolder(run_dir).has_model, "the model trained so far is kept"
    assert "time budget of 1 min" in events[-1].message and events[-1].kind == "end"
    assert "time budget of 1 min" in stopped_note(run_dir)
    assert RunFolder(run_dir).config()["resolved_time_budget_seconds"] == 60
