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


def test_scoring_texts_gives_one_answer_per_text_in_the_models_label_order(text_model):
    """RunModel.score is the one path Apply, Monitors and the service read: its probabilities follow the
    model's labels, its answers are the pipeline's (best first), and nothing is untrusted without a rule."""
    from trainer.runs.trust import Trust

    texts = ["I love it", "I hate it", "it is a box"]
    scored = text_model.score(texts)
    preds = text_model.predict(texts)
    assert len(scored) == 3 and scored.labels == list(preds.labels)
    assert scored.probabilities.shape == (3, 3) and text_model.probability_labels == LABELS
    order = [list(preds.class_names).index(label) for label in LABELS]
    assert np.allclose(scored.probabilities, np.asarray(preds.probabilities)[:, order], atol=1e-5)
    assert np.allclose(scored.confidence, scored.probabilities.max(1), atol=1e-5)
    assert not scored.untrusted.any() and scored.vectors.shape == (3, 32)
    answers = scored.answers()
    assert [a[0]["label"] for a in answers] == scored.labels
    assert all([x["score"] for x in a] == sorted((x["score"] for x in a), reverse=True) for a in answers)
    # A rule that distrusts everything below a confidence no answer reaches flags every text.
    strict = Trust(
        confidence=1.1, distance=2.0, expected_untrusted=0.05, centres=np.ones((1, 32)) / np.sqrt(32)
    )
    assert text_model.score(texts, strict).untrusted.all()
    assert len(text_model.score([])) == 0


def test_scoring_a_sentence_finds_its_entities_where_they_are_in_the_text(tag_model):
    from types import SimpleNamespace

    text = "Anna  Berg joined Acme"
    scored = tag_model.score([text])
    assert scored.inputs == [["Anna", "Berg", "joined", "Acme"]] and scored.probabilities is None
    assert tag_model.probability_labels is None and len(scored.answers()) == 1
    # The answer's shape, on tags set by hand: each entity points at its own words in the text as typed.
    preds = SimpleNamespace(tags=[["B-PER", "I-PER", "O", "B-ORG"]], confidence=[[0.9, 0.7, 0.99, 0.6]])
    answer = tag_model.adapter.answer(text, scored.inputs[0], preds, 0)
    assert [(a["entity_group"], a["word"], a["start"], a["end"]) for a in answer] == [
        ("PER", "Anna  Berg", 0, 10), ("ORG", "Acme", 18, 22)]  # fmt: skip
    assert answer[0]["score"] == pytest.approx(0.8)
