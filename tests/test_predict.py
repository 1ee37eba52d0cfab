"""trainer.runs.predictor: a saved run's model predicts and embeds new inputs for either task."""

from __future__ import annotations

import numpy as np
import pytest

from trainer.runs import RunFolder, create_run
from trainer.runs.predictor import RunModel, backbone_embeddings

LABELS = ["negative", "neutral", "positive"]
TAGS = ["O", "B-PER", "I-PER"]


def saved_run(root, tiny_model_dir, auto: str, labels: list[str]):
    """A run folder holding a (random) fine-tuned model, as fit leaves it."""
    import transformers

    run_dir = create_run(root, auto)
    model = getattr(transformers, auto).from_pretrained(
        tiny_model_dir, num_labels=len(labels), id2label=dict(enumerate(labels)),
        label2id={x: i for i, x in enumerate(labels)},
    )  # fmt: skip
    folder = RunFolder(run_dir)
    folder.save_model(model, transformers.AutoTokenizer.from_pretrained(tiny_model_dir))
    folder.write_resolved(max_length=24, epochs=1.0, device="cpu")
    return run_dir


@pytest.fixture(scope="module")
def text_model(tmp_path_factory, tiny_model_dir):
    return RunModel.load(
        saved_run(tmp_path_factory.mktemp("r"), tiny_model_dir, "AutoModelForSequenceClassification", LABELS)
    )


@pytest.fixture(scope="module")
def tag_model(tmp_path_factory, tiny_model_dir):
    return RunModel.load(
        saved_run(tmp_path_factory.mktemp("r"), tiny_model_dir, "AutoModelForTokenClassification", TAGS)
    )


def test_a_text_run_predicts_with_the_users_labels(text_model):
    assert text_model.task == "text-classification" and text_model.labels == LABELS
    assert text_model.max_length == 24, "the max length fine-tuning chose"
    preds = text_model.predict(["I love it", "I hate it", "it is a box"])
    assert set(preds.labels) <= set(LABELS) and preds.probabilities.shape == (3, 3)
    assert np.allclose(preds.probabilities.sum(1), 1) and np.all(preds.confidence >= 1 / 3)
    frame = text_model.frame(
        ["I love it", "I hate it", "it is a box"], preds, ["positive", "negative", "neutral"]
    )
    assert list(frame.columns[:5]) == ["text", "gold", "predicted", "confidence", "correct"]
    assert {f"p_{x}" for x in LABELS} <= set(frame.columns)
    assert text_model.embed(["I love it"]).shape == (1, 32)


def test_a_token_run_tags_every_word(tag_model):
    assert tag_model.task == "token-classification"
    preds = tag_model.predict([["Anna", "Berg", "joined", "Acme"], ["Hi"]])
    assert [len(t) for t in preds.tags] == [4, 1] and set(preds.tags[0]) <= set(TAGS)
    frame = tag_model.frame([["Anna", "Berg", "joined", "Acme"], ["Hi"]], preds)
    assert frame["tokens"].tolist() == ["Anna Berg joined Acme", "Hi"]
    assert [v.shape for v in tag_model.embed([["Anna", "Berg"]])] == [(2, 32)]


def test_a_folder_without_a_model_says_so(tmp_path):
    run_dir = create_run(tmp_path, "empty")
    with pytest.raises(FileNotFoundError, match="has no saved model"):
        RunModel.load(run_dir)


def test_the_backbone_before_fine_tuning(tiny_model_dir):
    vectors = backbone_embeddings(str(tiny_model_dir), "text-classification", ["a", "b c"], 16)
    assert vectors.shape == (2, 32)
    words = backbone_embeddings(str(tiny_model_dir), "token-classification", [["a", "b"]], 16)
    assert words[0].shape == (2, 32)
