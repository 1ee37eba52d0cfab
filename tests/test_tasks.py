"""trainer.tasks: the adapter contract, for both tasks, and that a new task needs only a new adapter."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import sentiment_csv

from trainer.prepare import prepare
from trainer.tasks import (
    TASKS,
    TEXT_TASK,
    TOKEN_TASK,
    VIEWS,
    TextClassification,
    get_task,
    task_for_architecture,
    task_name,
)


class FakeEval:
    def __init__(self, predictions, label_ids):
        self.predictions, self.label_ids = predictions, label_ids


def test_names_aliases_and_the_registry():
    assert task_name("ner") == task_name("token") == TOKEN_TASK and task_name("text") == TEXT_TASK
    assert task_name(None) is None and get_task(None).name == TEXT_TASK  # old run folders say nothing
    with pytest.raises(ValueError, match='Unknown task "regression"'):
        task_name("regression")
    assert task_for_architecture("BertForTokenClassification").name == TOKEN_TASK
    assert task_for_architecture("DistilBertForSequenceClassification").name == TEXT_TASK
    assert set(TASKS) == {TEXT_TASK, TOKEN_TASK}


def test_each_task_says_which_views_it_supports():
    text, token = get_task(TEXT_TASK), get_task(TOKEN_TASK)
    assert text.supports("label_issues") and text.supports("mistakes") and not text.supports("entity_spans")
    assert (
        token.supports("entity_spans") and token.supports("label_issues") and not token.supports("mistakes")
    )
    assert all(isinstance(t.supports(v), bool) for t in TASKS.values() for v in VIEWS)
    with pytest.raises(ValueError, match="unknown view"):
        text.supports("sparkles")


def test_words_inputs_and_units():
    text, token = get_task(TEXT_TASK), get_task(TOKEN_TASK)
    assert text.read_input("Great, thanks!") == "Great, thanks!"
    assert token.read_input("Anna  lives in Oslo") == ["Anna", "lives", "in", "Oslo"]
    assert token.read_input("张三在北京") == list("张三在北京")
    assert text.spans("Great, thanks!") == [(0, 5), (5, 6), (7, 13), (13, 14)]
    assert token.spans(["Anna", "Berg"]) == [(0, 4), (5, 9)]
    assert (text.units(1), text.units(3), token.units(2)) == ("text", "texts", "sentences")


def test_label_names_and_headline():
    text, token = get_task(TEXT_TASK), get_task(TOKEN_TASK)
    assert text.label_names(["10", "-2", "3"], None) == ["-2", "3", "10"]  # numbers in number order
    assert text.label_names(["b", "a"], None) == ["a", "b"]
    assert token.label_names([("B-PER", "O"), ("I-LOC",)], "BIO") == ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]
    assert text.headline({"macro_f1": 0.5, "f1": 0.9}) == ("macro-F1", 0.5)
    assert token.headline({"macro_f1": 0.5, "f1": 0.9}) == ("entity F1", 0.9)
    assert token.headline({}) == ("entity F1", None)


def test_encoding_puts_labels_where_each_task_needs_them(tokenizer):
    text, token = get_task(TEXT_TASK), get_task(TOKEN_TASK)
    (feature,) = text.encode(tokenizer, ["good film"], 16, text.target_ids(["pos"], {"neg": 0, "pos": 1}))
    assert feature["labels"] == 1 and feature["input_ids"][0] == tokenizer.cls_token_id
    tags = token.target_ids([["B-ORG", "O"]], {"O": 0, "B-ORG": 1})
    (window,) = token.encode(tokenizer, [["Nordwindbank", "hired"]], 16, tags)
    assert [t for t in window["labels"] if t != -100] == [1, 0]
    assert window["labels"][0] == -100 and len(window["labels"]) > 4  # [CLS] and later pieces are ignored


def test_trainer_metrics_from_logits_for_both_tasks():
    text = get_task(TEXT_TASK).trainer_metrics(["neg", "pos"])
    logits = np.array([[2.0, 0.0], [0.0, 1.0], [3.0, 1.0]])
    assert text(FakeEval(logits, np.array([0, 1, 1]))) == pytest.approx(
        {"accuracy": 2 / 3, "macro_f1": 2 / 3}
    )
    token = get_task(TOKEN_TASK).trainer_metrics(["O", "B-PER", "I-PER"])
    logits = np.zeros((1, 4, 3))
    logits[0, [1, 2, 3], [1, 2, 0]] = 5.0  # [CLS] ignored; "Anna Berg ." tagged B-PER I-PER O
    scores = token(FakeEval(logits, np.array([[-100, 1, 2, 0]])))
    assert scores == pytest.approx({"f1": 1.0, "macro_f1": 1.0, "accuracy": 1.0})


def test_predictions_from_logits():
    preds = get_task(TEXT_TASK).predictions(np.array([[0.0, 2.0], [1.0, 1.0]]), ["neg", "pos"])
    assert preds.predicted == ["pos", "neg"] and np.allclose(preds.probabilities.sum(1), 1)
    tags = get_task(TOKEN_TASK).predictions([np.array([[0.0, 3.0], [2.0, 0.0]])], ["O", "B-PER"])
    assert tags.predicted == [["B-PER", "O"]] and len(tags.confidence[0]) == 2


def test_a_new_task_is_one_adapter(tmp_path, monkeypatch):
    """A third task registered once is used by prepare without any other edit."""

    class ShoutedLabels(TextClassification):
        name = "shouted-labels"
        short = "shouted labels"

        def clean(self, parts, report):
            for part in parts:
                for example in part:
                    example.y = example.y.upper()

    monkeypatch.setitem(TASKS, "shouted-labels", ShoutedLabels())
    data = prepare(sentiment_csv(tmp_path / "s.csv", n=30), task="shouted-labels")
    assert data.task == "shouted-labels" and data.labels == ["NEGATIVE", "NEUTRAL", "POSITIVE"]
    assert get_task("shouted-labels").headline({"macro_f1": 1.0}) == ("macro-F1", 1.0)


class SentencePairs(TextClassification):
    """A third task, written as a new adapter would be: two sentences in, one label for the pair.

    A row's text holds both sentences, "first ||| second"; the model reads them as a BERT pair (second
    sentence with token type 1). Explanations read the row as one text (the inherited rule); an adapter
    meant for users would explain each segment with its token type too.
    """

    name = "sentence-pair-classification"
    title = "Sentence pairs (one label per pair)"
    short = "sentence pairs"
    cli_name = "pairs"
    unit = "pair"
    encoded = 0  # how many inputs went through this adapter's encoding (training and inference)

    def parse_row(self, x, y, name, row):
        first, separator, second = str(x).partition("|||")
        return (f"{first.strip()} ||| {second.strip()}" if separator else None), y, False

    def encode(self, tokenizer, inputs, max_length, targets=None):
        pairs = [text.split(" ||| ", 1) for text in inputs]
        enc = tokenizer([a for a, _ in pairs], [b for _, b in pairs], truncation=True, max_length=max_length)
        features = [{k: enc[k][i] for k in enc} for i in range(len(pairs))]
        for feature, target in zip(features, targets or [None] * len(features), strict=True):
            if target is not None:
                feature["labels"] = int(target)
        type(self).encoded += len(features)
        return features


def pairs_csv(path, n=60):
    import pandas as pd
    from helpers import NEGATIVE, POSITIVE

    rows = []
    for i in range(n):
        first = f"{POSITIVE[i % len(POSITIVE)]} screen and {POSITIVE[(i + 3) % len(POSITIVE)]} sound"
        agree = i % 2 == 0
        second = f"it was {(POSITIVE if agree else NEGATIVE)[i % 8]} number {i}"
        rows.append({"text": f"{first} ||| {second}", "label": "agrees" if agree else "contradicts"})
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_a_third_task_runs_prepare_fit_predict_and_explain_through_its_adapter_alone(
    tmp_path, tiny_model_dir, monkeypatch
):
    """No file of trainer/ knows this task: registering its adapter is all it takes."""
    from trainer.config import TrainConfig
    from trainer.runs import RunFolder, create_run, load_run
    from trainer.runs.predictor import RunModel
    from trainer.train.fit import fit

    adapter = SentencePairs()
    monkeypatch.setitem(TASKS, adapter.name, adapter)
    monkeypatch.setattr(SentencePairs, "encoded", 0)
    data = prepare(pairs_csv(tmp_path / "pairs.csv"), task=adapter.name)
    assert data.task == adapter.name and data.labels == ["agrees", "contradicts"]
    assert all(" ||| " in text for text in data.train.texts)

    run_dir = create_run(tmp_path / "runs", "pairs")
    config = TrainConfig(
        model=str(tiny_model_dir), task=adapter.name, epochs=1, batch_size=8, learning_rate=1e-3
    )
    RunFolder(run_dir).write_inputs(config.to_dict(), data)
    result = fit(config, data, run_dir)
    trained = SentencePairs.encoded
    assert trained >= len(data.train) + len(data.test), "training and its evaluation pass read pairs"
    assert set(result.metrics["test"]) >= {"accuracy", "macro_f1"}
    assert load_run(run_dir).adapter is adapter

    model = RunModel.load(run_dir)
    assert model.adapter is adapter, "the run's own task, not the architecture's"
    texts = [
        "great screen and perfect sound ||| it was awful number 99",
        "love it ||| it was superb number 7",
    ]
    preds = model.predict(texts)
    assert SentencePairs.encoded == trained + 2 and set(preds.labels) <= set(data.labels)
    (features,) = adapter.encode(model.tokenizer, texts[:1], 64)
    assert 1 in features["token_type_ids"], "the second sentence is the pair's second segment"
    frame = model.frame(texts, preds)
    assert list(frame["text"]) == texts and {"p_agrees", "p_contradicts"} <= set(frame.columns)

    (exp,) = adapter.explain(model.model, model.tokenizer, model.labels, texts[:1], max_length=64)
    assert exp.predicted in data.labels and "awful" in exp.words and np.isfinite(exp.delta)
