"""trainer.tasks: the adapter contract, for both tasks, and that a new task needs only a new adapter."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pytest

from trainer.prepare import prepare
from trainer.tasks import TASKS, TEXT_TASK, TOKEN_TASK, VIEWS, get_task, task_for_architecture, task_name
from trainer.tasks.base import MetricCard, Task


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


@dataclass
class PairPredictions:
    """The third task's predictions: a label per input, probabilities in `class_names` order."""

    labels: list[str]
    probabilities: np.ndarray
    class_names: list[str]

    @property
    def confidence(self) -> np.ndarray:
        return self.probabilities.max(axis=1)

    @property
    def predicted(self) -> list[str]:
        return self.labels


class SentencePairs(Task):
    """A third task, written as a new adapter would be: a `Task` (trainer/tasks/base.py) with every attribute
    and hook the base asks for, built from the floors below the adapters (data, model, evaluate,
    attribution) and from no other adapter. Two sentences in, one label for the pair.

    A row's text holds both sentences, "first ||| second"; the model reads them as a BERT pair (second
    sentence with token type 1). Explanations read the row as one text; an adapter meant for users would
    explain each segment with its token type too.
    """

    name = "sentence-pair-classification"
    title = "Sentence pairs (one label per pair)"
    short = report_title = "sentence pairs"
    cli_name = "pairs"
    unit = "pair"
    rows = "rows"
    class_word, label_word, class_title, balance_unit = "Class", "label", "Labels", "pairs"
    column_labels = ("Pair column", "Label column")
    column_things = ("sentence pairs", "the labels")
    reads_conll, stratify, inputs_are_words, sentence_head = False, True, False, True
    interval_unit = "text"
    auto_model, peft_task_type = "AutoModelForSequenceClassification", "SEQ_CLS"
    best_metric, headline_name, default_learning_rate = "macro_f1", "macro-F1", 1e-4
    headline_plain = "average over labels"
    metric_cards = (MetricCard("accuracy", "Accuracy", "The share of test pairs whose label is right."),
                    MetricCard("macro_f1", "Macro-F1", "F1 averaged over classes."))  # fmt: skip
    map_unit, map_points, map_intro = "pairs", "examples", ""
    map_colours = {"gold": "True label", "predicted": "Prediction", "outcome": "Right / wrong",
                   "confidence": "Confidence"}  # fmt: skip
    views = frozenset({"confusion_examples", "mistakes", "label_issues"})
    encoded = 0  # how many inputs went through this adapter's encoding (training and inference)

    # data
    def propose_columns(self, frame):
        from trainer.data.columns import propose_text_columns

        return propose_text_columns(frame)

    def parse_row(self, x, y, name, row):
        first, separator, second = str(x).partition("|||")
        return (f"{first.strip()} ||| {second.strip()}" if separator else None), y, False

    def clean(self, parts, report):
        from trainer.data.rows import merge_labels

        merge_labels(parts, report)

    def labels_of(self, y):
        return (y,)

    def classes(self, ys):
        return Counter(ys)

    def check_training(self, ys, report, read_only):
        from trainer.data.checks import check_balance, check_labels

        check_labels(self.classes(ys), report)
        check_balance(self.classes(ys), report, self.balance_unit)

    def label_names(self, ys, scheme):
        return sorted(set(ys))

    def count(self, report, splits):
        unique = list({id(ex): ex for part in splits.values() for ex in part}.values())
        report.label_counts = report.class_counts = dict(Counter(ex.y for ex in unique).most_common())
        report.split_counts = {
            n: dict(Counter(ex.y for ex in part).most_common()) for n, part in splits.items()
        }

    def to_split(self, examples):
        from trainer.data.splits import Split

        rows = [ex.row for ex in examples] if all(ex.row is not None for ex in examples) else None
        return Split([ex.x for ex in examples], [ex.y for ex in examples], rows=rows)

    # model
    def encode(self, tokenizer, inputs, max_length, targets=None):
        pairs = [text.split(" ||| ", 1) for text in inputs]
        enc = tokenizer([a for a, _ in pairs], [b for _, b in pairs], truncation=True, max_length=max_length)
        features = [{k: enc[k][i] for k in enc} for i in range(len(pairs))]
        for feature, target in zip(features, targets or [None] * len(features), strict=True):
            if target is not None:
                feature["labels"] = int(target)
        type(self).encoded += len(features)
        return features

    def target_ids(self, ys, label2id):
        return [label2id[y] for y in ys]

    def collator(self, tokenizer):
        from transformers import DataCollatorWithPadding

        return DataCollatorWithPadding(tokenizer)

    def scores(self, gold, predicted, labels):
        from trainer.evaluate.metrics import classification_scores

        return classification_scores(gold, predicted, labels)

    def trainer_metrics(self, labels):
        def compute(pred):
            logits = pred.predictions[0] if isinstance(pred.predictions, tuple) else pred.predictions
            s = self.scores(
                [labels[i] for i in pred.label_ids], [labels[i] for i in logits.argmax(-1)], labels
            )
            return {"accuracy": s["accuracy"], "macro_f1": s["macro_f1"]}

        return compute

    def _forward(self, owner, module, tokenizer, inputs, max_length, batch_size, width, read, progress, precision,
                 hidden_states=False):  # fmt: skip
        from trainer.model.inference import forward_passes

        features = self.encode(tokenizer, inputs, max_length)
        out = np.zeros((len(features), width), dtype=np.float32)
        for idx, batch, output in forward_passes(owner, module, tokenizer, features, batch_size, precision,
                                                  hidden_states):  # fmt: skip
            out[idx] = read(output, batch)
            if progress:
                progress(int(idx[-1]) + 1, len(features))
        return out

    def logits(self, model, tokenizer, inputs, max_length, batch_size=64, progress=None, precision=None):
        from trainer.model.inference import read_logits

        width = model.config.num_labels
        return self._forward(model, model, tokenizer, inputs, max_length, batch_size, width, read_logits, progress,
                             precision)  # fmt: skip

    def embed(self, encoder, tokenizer, inputs, max_length, batch_size=64, progress=None, precision=None):
        from trainer.model.inference import read_pooled

        base = getattr(encoder, "base_model", encoder)
        return self._forward(encoder, base, tokenizer, inputs, max_length, batch_size, base.config.hidden_size,
                             read_pooled, progress, precision)  # fmt: skip

    def outputs(self, model, tokenizer, inputs, max_length, batch_size=64, progress=None, precision=None):
        from trainer.model.inference import read_logits_and_pooled

        c = model.config.num_labels
        both = self._forward(model, model, tokenizer, inputs, max_length, batch_size, c + model.config.hidden_size,
                             read_logits_and_pooled, progress, precision, hidden_states=True)  # fmt: skip
        return both[:, :c], both[:, c:]

    def predictions(self, logits, labels):
        from trainer.model.inference import softmax

        probs = softmax(logits)
        return PairPredictions([labels[i] for i in probs.argmax(1)], probs, labels)

    def predictions_frame(self, inputs, preds, gold=None):
        import pandas as pd

        frame = pd.DataFrame({"text": list(inputs)})
        if gold is not None:
            frame["gold"] = list(gold)
        frame["predicted"], frame["confidence"] = preds.labels, np.round(preds.confidence, 6)
        if gold is not None:
            frame["correct"] = frame["gold"] == frame["predicted"]
        for j, name in enumerate(preds.class_names):
            frame[f"p_{name}"] = np.round(preds.probabilities[:, j], 6)
        return frame

    # new text
    def input_vectors(self, vectors):
        return np.asarray(vectors)

    def input_confidence(self, preds):
        return np.asarray(preds.confidence, dtype=np.float64)

    def stored_per_input(self, vectors, probs, split):
        return vectors, probs

    def trend_label(self, preds, i):
        return preds.labels[i]

    def input_probabilities(self, preds):
        return np.asarray(preds.probabilities, dtype=np.float64)

    def answer(self, text, item, preds, i):
        order = np.argsort(-preds.probabilities[i], kind="stable")
        return [{"label": preds.class_names[j], "score": float(preds.probabilities[i][j])} for j in order]

    def scored_columns(self, inputs, preds):
        import pandas as pd

        columns = {"predicted": preds.labels}
        for j, label in enumerate(preds.class_names):
            columns[f"p_{label}"] = np.round(preds.probabilities[:, j].astype(np.float64), 4)
        return pd.DataFrame(columns)

    def labelling_fields(self, inputs, preds, i):
        return {}

    def explain_plan(self, inputs, predict):
        return inputs, None

    # explanations
    def explain(self, model, tokenizer, labels, inputs, targets=None, words=None, **settings):
        from trainer.attribution import explain

        return explain(model, tokenizer, labels, inputs, targets, **settings)


class ShoutedLabels(SentencePairs):
    """Another task made the same way: pairs whose labels are shouted (upper case) when the data is read."""

    name = "shouted-labels"
    short = "shouted labels"

    def clean(self, parts, report):
        for part in parts:
            for example in part:
                example.y = example.y.upper()


def test_a_third_task_subclasses_the_base_and_asks_nothing_of_the_other_adapters():
    """The third task is written against the contract, not borrowed from text classification: it is a
    `Task`, no other adapter is among its bases, and it answers every hook the base leaves open."""
    assert issubclass(SentencePairs, Task) and SentencePairs.__mro__[1] is Task
    assert not any(issubclass(SentencePairs, type(adapter)) for adapter in TASKS.values())
    open_hooks = [
        name for name, value in vars(Task).items() if callable(value) and _raises_not_implemented(value)
    ]
    assert open_hooks, "the base leaves hooks to each task"
    assert [name for name in open_hooks if name not in vars(SentencePairs)] == []
    attributes = [name for name in Task.__annotations__ if name not in vars(Task)]
    assert [name for name in attributes if not hasattr(SentencePairs, name)] == []


def _raises_not_implemented(function) -> bool:
    import ast
    import inspect
    import textwrap

    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    return any(
        isinstance(node, ast.Raise) and "NotImplementedError" in ast.unparse(node) for node in ast.walk(tree)
    )


def test_a_new_task_is_one_adapter(tmp_path, monkeypatch):
    """A third task registered once is used by prepare without any other edit."""
    monkeypatch.setitem(TASKS, "shouted-labels", ShoutedLabels())
    data = prepare(pairs_csv(tmp_path / "p.csv", n=30), task="shouted-labels")
    assert data.task == "shouted-labels" and data.labels == ["AGREES", "CONTRADICTS"]
    assert get_task("shouted-labels").headline({"macro_f1": 1.0}) == ("macro-F1", 1.0)


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
