"""Text classification: one label per text."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from trainer.tasks.base import MetricCard, Progress, Task

TEXT_TASK = "text-classification"


class TextClassification(Task):
    name = TEXT_TASK
    title = "Text classification (one label per text)"
    short = "text classification"
    report_title = "text classification"
    cli_name = "text"
    unit = "text"
    rows = "rows"
    class_word = "Class"
    label_word = "label"
    class_title = "Labels"
    balance_unit = "examples"
    column_labels = ("Text column", "Label column")
    column_things = ("text", "the labels")
    reads_conll = False
    stratify = True
    inputs_are_words = False
    auto_model = "AutoModelForSequenceClassification"
    peft_task_type = "SEQ_CLS"
    best_metric = "macro_f1"
    sentence_head = True
    default_learning_rate = 1e-4
    headline_name = "macro-F1"
    metric_cards = (
        MetricCard("accuracy", "Accuracy", "The share of test texts whose predicted label is right."),
        MetricCard("macro_f1", "Macro-F1", "F1 averaged over classes, each class counting the same: small classes matter."),
        MetricCard("weighted_f1", "Weighted F1", "F1 averaged over classes, weighted by how many texts each class has."),
        MetricCard("macro_recall", "Macro recall", "On average, the share of each class's texts that the model finds."),
    )  # fmt: skip
    map_unit = "examples"
    map_points = "examples"
    map_intro = ""
    map_colours = {"gold": "True label", "predicted": "Prediction", "outcome": "Right / wrong",
                   "confidence": "Confidence"}  # fmt: skip
    views = frozenset({"confusion_examples", "mistakes", "label_issues", "dataset_ranking"})

    def propose_columns(self, frame: Any) -> tuple[str | None, str | None]:
        from trainer.data.columns import propose_text_columns

        return propose_text_columns(frame)

    def parse_row(self, x: str, y: str, name: str, row: int) -> tuple[Any, Any, bool]:
        return x.strip(), y, False

    def clean(self, parts: list[list[Any]], report: Any) -> None:
        from trainer.data.rows import merge_labels

        merge_labels(parts, report)

    def labels_of(self, y: Any) -> Iterable[str]:
        return (y,)

    def classes(self, ys: Iterable[Any]) -> Counter[str]:
        return Counter(ys)

    def check_examples(self, ys: list[Any], report: Any) -> None:
        if len(set(ys)) == 1:  # say so before a split could fail for another reason
            self.check_training(ys, report, False)

    def check_training(self, ys: list[Any], report: Any, read_only: bool) -> None:
        from trainer.data.checks import check_balance, check_labels

        counts = self.classes(ys)
        check_labels(counts, report)
        check_balance(counts, report, self.balance_unit)

    def label_names(self, ys: list[Any], scheme: str | None) -> list[str]:
        names = set(ys)
        numeric = all(re.fullmatch(r"-?\d+", n) for n in names)
        return sorted(names, key=int) if numeric else sorted(names)

    def count(self, report: Any, splits: dict[str, list[Any]]) -> None:
        unique = list({id(ex): ex for part in splits.values() for ex in part}.values())
        report.label_counts = dict(Counter(ex.y for ex in unique).most_common())
        report.class_counts = report.label_counts
        report.split_counts = {
            name: dict(Counter(ex.y for ex in part).most_common()) for name, part in splits.items()
        }

    def encode(
        self, tokenizer: Any, inputs: list, max_length: int, targets: list | None = None
    ) -> list[dict]:
        from trainer.model.encoding import encode_texts

        return encode_texts(tokenizer, inputs, max_length, targets)

    def target_ids(self, ys: list, label2id: dict[str, int]) -> list:
        return [label2id[y] for y in ys]

    def collator(self, tokenizer: Any) -> Any:
        from transformers import DataCollatorWithPadding

        return DataCollatorWithPadding(tokenizer)

    def scores(self, gold: list, predicted: list, labels: list[str]) -> dict:
        from trainer.evaluate.metrics import classification_scores

        return classification_scores(gold, predicted, labels)

    def trainer_metrics(self, labels: list[str]) -> Callable[[Any], dict[str, float]]:
        def compute(pred: Any) -> dict[str, float]:
            logits = pred.predictions[0] if isinstance(pred.predictions, tuple) else pred.predictions
            predicted = logits.argmax(-1)
            s = self.scores([labels[i] for i in pred.label_ids], [labels[i] for i in predicted], labels)
            return {"accuracy": s["accuracy"], "macro_f1": s["macro_f1"]}

        return compute

    def logits(self, model: Any, tokenizer: Any, inputs: list, max_length: int, batch_size: int = 64,
               progress: Progress | None = None, precision: str | None = None) -> Any:  # fmt: skip
        from trainer.model.inference import text_logits

        return text_logits(model, tokenizer, inputs, max_length, batch_size, progress, precision)

    def embed(self, encoder: Any, tokenizer: Any, inputs: list, max_length: int, batch_size: int = 64,
              progress: Progress | None = None, precision: str | None = None) -> Any:  # fmt: skip
        from trainer.model.inference import text_embeddings

        return text_embeddings(encoder, tokenizer, inputs, max_length, batch_size, progress, precision)

    def outputs(self, model: Any, tokenizer: Any, inputs: list, max_length: int, batch_size: int = 64,
                progress: Progress | None = None, precision: str | None = None) -> tuple[Any, Any]:  # fmt: skip
        from trainer.model.inference import text_outputs

        return text_outputs(model, tokenizer, inputs, max_length, batch_size, progress, precision)

    def predictions(self, logits: Any, labels: list[str]) -> Any:
        from trainer.evaluate.predictions import Predictions
        from trainer.model.inference import softmax

        probs = softmax(logits)
        return Predictions([labels[i] for i in probs.argmax(1)], probs, labels)

    def predictions_frame(self, inputs: list, preds: Any, gold: list | None = None) -> Any:
        from trainer.evaluate.predictions import predictions_frame

        return predictions_frame(inputs, preds, gold)

    def explain(self, model: Any, tokenizer: Any, labels: list[str], inputs: list,
                targets: list | None = None, words: list[int] | None = None, **settings: Any) -> list:  # fmt: skip
        from trainer.attribution import explain

        return explain(model, tokenizer, labels, inputs, targets, **settings)
