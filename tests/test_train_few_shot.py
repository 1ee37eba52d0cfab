"""Few-label training (issue 32): SetFit's pairs train the body, a logistic regression is the head, and the
run is a run like any other: saved, scored, and loaded by `transformers.pipeline` with the user's labels."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from cli_kit import trainer_cli
from conftest import train_tiny_config
from helpers import sentiment_csv

from trainer.config import TrainConfig
from trainer.prepare import prepare
from trainer.runs import RunFolder
from trainer.train.few_shot import FEW_PER_LABEL, few_shot_choice


@pytest.fixture(scope="module")
def few_run(tmp_path_factory, tiny_model_dir) -> Path:
    """The tiny BERT trained the few-label way on 36 rows of a 3-label sentiment file (12 per label)."""
    tmp = tmp_path_factory.mktemp("few")
    data_file = sentiment_csv(tmp / "few.csv", n=60)
    return train_tiny_config(tmp, data_file, tiny_model_dir, "few", few_shot="on", learning_rate=2e-4,
                             max_steps=40, time_budget_minutes=0)  # fmt: skip


def test_a_few_label_run_is_saved_scored_and_says_how_it_trained(few_run):
    folder = RunFolder(few_run)
    metrics = json.loads((few_run / "metrics.json").read_text())
    assert metrics["summary"]["few_shot"] is True
    assert metrics["summary"]["steps"] == 40  # the pairs' steps, stopped at max_steps as asked
    assert json.loads(folder.resolved_file.read_text())["few_shot"] is True
    predictions = folder.predictions()
    assert predictions is not None and len(predictions) >= 5
    # the classes are told apart by their words: the logistic-regression head finds them
    assert metrics["test"]["accuracy"] >= 0.8


def test_a_few_label_run_loads_through_the_pipeline_and_predicts_what_the_run_wrote(few_run):
    from transformers import pipeline

    folder = RunFolder(few_run)
    predictions = folder.predictions()
    classify = pipeline("text-classification", model=str(folder.model_dir), device="cpu")
    got = [r["label"] for r in classify(predictions["text"].tolist())]
    assert set(got) <= {"positive", "negative", "neutral"}
    assert got == predictions["predicted"].tolist()


def test_auto_turns_to_the_few_label_way_for_few_labels_on_a_sentence_transformer(tmp_path, tiny_model_dir):
    few = prepare(sentiment_csv(tmp_path / "few.csv", n=60), task="text")
    many = prepare(sentiment_csv(tmp_path / "many.csv", n=3 * int(FEW_PER_LABEL * 1.4)), task="text")
    used, said = few_shot_choice(TrainConfig(), few)
    assert used and "few-label way" in said and "per label" in said
    assert few_shot_choice(TrainConfig(), many) == (False, "")
    # a plain BERT (not a sentence-transformer) keeps the ordinary fine-tune unless asked
    assert few_shot_choice(TrainConfig(model=str(tiny_model_dir)), few) == (False, "")
    assert few_shot_choice(TrainConfig(model=str(tiny_model_dir), few_shot="on"), few)[0]
    assert few_shot_choice(TrainConfig(few_shot="off"), few) == (False, "")


def test_entity_runs_keep_the_ordinary_fine_tune_and_say_so(tmp_path):
    from helpers import conll_file

    data = prepare(conll_file(tmp_path / "n.conll", n=30))
    used, said = few_shot_choice(TrainConfig(task=data.task, few_shot="on"), data)
    assert not used and "ordinary way" in said


def test_the_command_line_trains_the_few_label_way_and_says_so(tmp_path, tiny_model_dir):
    data_file = sentiment_csv(tmp_path / "s.csv", n=45)
    done = trainer_cli("fit", data_file, "--model", tiny_model_dir, "--few-shot", "--max-steps", "6",
                       "--quiet", "--name", "few", runs_dir=tmp_path / "runs", timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "trains the few-label way (SetFit), as asked" in done.stderr
    run_dir = Path(done.stdout.strip().splitlines()[-1])
    assert json.loads((run_dir / "metrics.json").read_text())["summary"]["few_shot"] is True
    refused = trainer_cli("fit", data_file, "--few-shot", "--no-few-shot", runs_dir=tmp_path / "runs")
    assert refused.returncode != 0 and "not allowed with argument" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert isinstance(pd.read_csv(run_dir / "predictions.csv"), pd.DataFrame)
