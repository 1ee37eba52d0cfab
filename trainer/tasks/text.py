"""Text classification: one label per text."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from trainer.i18n import N_
from trainer.tasks.base import MetricCard, Progress, Task, register

if TYPE_CHECKING:
    from transformers import DataCollator, PreTrainedModel, PreTrainedTokenizerBase

    from trainer.attribution.engine import Explanation
    from trainer.data.report import ValidationReport
    from trainer.data.rows import Example
    from trainer.data.splits import Split

TEXT_TASK = "text-classification"


@dataclass
class Predictions:
    """Text-task predictions in input order."""

    labels: list[str]  # predicted label per text
    probabilities: np.ndarray  # (N, C), columns in `class_names` order
    class_names: list[str]

    @property
    def confidence(self) -> np.ndarray:
        return self.probabilities.max(axis=1)

    @property
    def predicted(self) -> list[str]:
        """What is scored against the gold labels: a label per text."""
        return self.labels


def encode_texts(
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    max_length: int,
    labels: Sequence[int] | None = None,
) -> list[dict[str, list[int]]]:
    """One unpadded feature dict per text (dynamic padding happens in the collator)."""
    enc = tokenizer(list(texts), truncation=True, max_length=max_length)
    features = [{k: enc[k][i] for k in enc} for i in range(len(texts))]
    if labels is not None:
        for feature, label in zip(features, labels, strict=True):
            feature["labels"] = int(label)
    return features


def _forward(owner: Any, module: Any, tokenizer: PreTrainedTokenizerBase, features: list[dict], batch_size: int, width: int,
             read: Callable[[Any, dict], np.ndarray], progress: Progress | None = None,
             precision: str | None = None, hidden_states: bool = False) -> np.ndarray:  # fmt: skip
    """Run `module` over encoded texts in length-sorted batches; `read(output, batch)` gives (B, width) rows."""
    from trainer.model.inference import forward_passes

    out = np.zeros((len(features), width), dtype=np.float32)
    done = 0
    for idx, batch, output in forward_passes(
        owner, module, tokenizer, features, batch_size, precision, hidden_states
    ):
        out[idx] = read(output, batch)
        done += len(idx)
        if progress:
            progress(done, len(features))
    return out


class TextClassification(Task):
    name = TEXT_TASK
    title = N_("Text classification (one label per text)")
    short = N_("text classification")
    report_title = N_("text classification")
    cli_name = "text"
    unit = "text"
    rows = "rows"
    class_word = N_("Class")
    label_word = N_("label")
    class_title = N_("Labels")
    balance_unit = N_("examples")
    column_labels = (N_("Text column"), N_("Label column"))
    column_things = (N_("text"), N_("the labels"))
    reads_conll = False
    stratify = True
    inputs_are_words = False
    interval_unit = "text"
    auto_model = "AutoModelForSequenceClassification"
    peft_task_type = "SEQ_CLS"
    best_metric = "macro_f1"
    sentence_head = True
    default_learning_rate = 1e-4
    headline_name = N_("macro-F1")
    headline_plain = N_("average over labels")
    metric_cards = (
        MetricCard("accuracy", N_("Accuracy"), N_("The share of test texts whose predicted label is right.")),
        MetricCard("macro_f1", N_("Macro-F1"), N_("F1 averaged over classes, each class counting the same: small classes matter.")),
        MetricCard("weighted_f1", N_("Weighted F1"), N_("F1 averaged over classes, weighted by how many texts each class has.")),
        MetricCard("macro_recall", N_("Macro recall"), N_("On average, the share of each class's texts that the model finds.")),
    )  # fmt: skip
    map_unit = N_("examples")
    map_points = "examples"
    map_intro = ""
    map_colours = {"gold": N_("True label"), "predicted": N_("Prediction"), "outcome": N_("Right / wrong"),
                   "confidence": N_("Confidence")}  # fmt: skip
    views = frozenset(
        {"confusion_examples", "mistakes", "label_issues", "dataset_ranking", "alert_words", "small_changes"}
    )

    def propose_columns(self, frame: pd.DataFrame) -> tuple[str | None, str | None]:
        from trainer.data.columns import propose_text_columns

        return propose_text_columns(frame)

    def parse_row(self, x: str, y: str, name: str, row: int) -> tuple[Any, Any, bool]:
        return x.strip(), y, False

    def clean(self, parts: list[list[Example]], report: ValidationReport) -> None:
        from trainer.data.rows import merge_labels

        merge_labels(parts, report)

    def labels_of(self, y: Any) -> Iterable[str]:
        return (y,)

    def classes(self, ys: Iterable[Any]) -> Counter[str]:
        return Counter(ys)

    def check_examples(self, ys: list[Any], report: ValidationReport) -> None:
        if len(set(ys)) == 1:  # say so before a split could fail for another reason
            self.check_training(ys, report, False)

    def check_training(self, ys: list[Any], report: ValidationReport, read_only: bool) -> None:
        from trainer.data.checks import check_balance, check_labels

        counts = self.classes(ys)
        check_labels(counts, report)
        check_balance(counts, report, self.balance_unit)

    def label_names(self, ys: list[Any], scheme: str | None) -> list[str]:
        names = set(ys)
        numeric = all(re.fullmatch(r"-?\d+", n) for n in names)
        return sorted(names, key=int) if numeric else sorted(names)

    def count(self, report: ValidationReport, splits: dict[str, list[Example]]) -> None:
        unique = list({id(ex): ex for part in splits.values() for ex in part}.values())
        report.label_counts = dict(Counter(ex.y for ex in unique).most_common())
        report.class_counts = report.label_counts
        report.split_counts = {
            name: dict(Counter(ex.y for ex in part).most_common()) for name, part in splits.items()
        }

    def encode(
        self, tokenizer: PreTrainedTokenizerBase, inputs: list, max_length: int, targets: list | None = None
    ) -> list[dict]:
        return encode_texts(tokenizer, inputs, max_length, targets)

    def target_ids(self, ys: list, label2id: dict[str, int]) -> list:
        return [label2id[y] for y in ys]

    def collator(self, tokenizer: PreTrainedTokenizerBase) -> DataCollator:
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

    def logits(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, inputs: list, max_length: int, batch_size: int = 64,
               progress: Progress | None = None, precision: str | None = None) -> np.ndarray:  # fmt: skip
        """(N, C) float32 logits, in the order of `inputs`."""
        from trainer.model.inference import read_logits

        features, width = self.encode(tokenizer, inputs, max_length), model.config.num_labels
        return _forward(
            model, model, tokenizer, features, batch_size, width, read_logits, progress, precision
        )

    def embed(self, encoder: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, inputs: list, max_length: int, batch_size: int = 64,
              progress: Progress | None = None, precision: str | None = None) -> np.ndarray:  # fmt: skip
        """(N, H) mean-pooled last hidden states of `encoder` (a base model or a classifier)."""
        from trainer.model.inference import read_pooled

        base = getattr(encoder, "base_model", encoder)
        features, width = self.encode(tokenizer, inputs, max_length), base.config.hidden_size
        return _forward(
            encoder, base, tokenizer, features, batch_size, width, read_pooled, progress, precision
        )

    def outputs(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, inputs: list, max_length: int, batch_size: int = 64,
                progress: Progress | None = None, precision: str | None = None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """((N, C) logits, (N, H) mean-pooled embeddings) of a classifier, from one forward pass."""
        from trainer.model.inference import read_logits_and_pooled

        c = model.config.num_labels
        features, width = self.encode(tokenizer, inputs, max_length), c + model.config.hidden_size
        both = _forward(model, model, tokenizer, features, batch_size, width, read_logits_and_pooled, progress,
                        precision, hidden_states=True)  # fmt: skip
        return both[:, :c], both[:, c:]

    def predictions(self, logits: np.ndarray, labels: list[str]) -> Predictions:
        from trainer.model.inference import softmax

        probs = softmax(logits)
        return Predictions([labels[i] for i in probs.argmax(1)], probs, labels)

    def predictions_frame(self, inputs: list, preds: Predictions, gold: list | None = None) -> pd.DataFrame:
        """The predictions.csv table: text, [gold], predicted, confidence, p_<label>..."""
        frame = pd.DataFrame({"text": list(inputs)})
        if gold is not None:
            frame["gold"] = list(gold)
        frame["predicted"] = preds.labels
        frame["confidence"] = np.round(preds.confidence, 6)
        if gold is not None:
            frame["correct"] = frame["gold"] == frame["predicted"]
        for j, name in enumerate(preds.class_names):
            frame[f"p_{name}"] = np.round(preds.probabilities[:, j], 6)
        return frame

    def to_split(self, examples: Sequence[Example]) -> Split:
        from trainer.data.splits import Split

        rows = [ex.row for ex in examples] if all(ex.row is not None for ex in examples) else None
        return Split([ex.x for ex in examples], [ex.y for ex in examples], rows=rows)

    def input_vectors(self, vectors: Any) -> np.ndarray:
        return np.asarray(vectors)

    def input_confidence(self, preds: Predictions) -> np.ndarray:
        return np.asarray(preds.confidence, dtype=np.float64)

    def stored_per_input(self, vectors: Any, probs: Any, split: Split) -> tuple[Any, Any]:
        return vectors, probs

    def trend_label(self, preds: Predictions, i: int) -> str:
        return preds.labels[i]

    def input_probabilities(self, preds: Predictions) -> np.ndarray:
        return np.asarray(preds.probabilities, dtype=np.float64)

    def answer(self, text: str, item: Any, preds: Predictions, i: int) -> list[dict]:
        probs = np.asarray(preds.probabilities[i], dtype=np.float64)
        order = np.argsort(-probs, kind="stable")
        return [{"label": preds.class_names[j], "score": float(probs[j])} for j in order]

    def scored_columns(self, inputs: list, preds: Predictions) -> pd.DataFrame:
        columns = {"predicted": preds.labels}
        for j, label in enumerate(preds.class_names):
            columns[f"p_{label}"] = np.round(np.asarray(preds.probabilities[:, j], dtype=np.float64), 4)
        return pd.DataFrame(columns)

    def labelling_fields(self, inputs: list, preds: Predictions, i: int) -> dict[str, str]:
        return {}

    def explain_plan(self, inputs: list, predict: Callable[[list], Any]) -> tuple[list, list[int] | None]:
        return inputs, None

    def explain(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, labels: list[str], inputs: list,
                targets: list | None = None, words: list[int] | None = None, **settings: Any) -> list[Explanation]:  # fmt: skip
        from trainer.attribution import explain

        return explain(model, tokenizer, labels, inputs, targets, **settings)


register(TextClassification())
