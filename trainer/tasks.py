"""One adapter per task: everything that differs between text classification and named entities.

The rest of trainer/ and the app ask the adapter (`get_task(name)`) instead of comparing task names:
how a row becomes an example, which classes count, how inputs are encoded and collated, how the model
is loaded, how logits become predictions and scores, what the words are, what can be explained and
which views a page can draw (`supports`). A third task (say, multi-label) is one more `Task` subclass
registered in `TASKS`.

Imports stay cheap: this module imports only trainer.words at load time; each method imports the
machinery it uses (trainer.data.*, metrics, inference, attribution) when called, and none of those
import this module, so there is no import cycle.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from trainer.words import joined_spans, sentence_words, word_spans

TEXT_TASK = "text-classification"
TOKEN_TASK = "token-classification"
ALIASES = {"text": TEXT_TASK, "token": TOKEN_TASK, "ner": TOKEN_TASK, "entities": TOKEN_TASK}

Progress = Callable[[int, int], None]

# Views a page may draw; an adapter lists the ones that make sense for its task.
VIEWS = (
    "confusion_examples",  # a confusion-matrix cell lists its examples
    "mistakes",  # a table of wrong predictions, most confident first
    "label_issues",  # likely mislabeled examples from one probability vector per example
    "entity_spans",  # sentences with true and predicted entity spans side by side
    "dataset_ranking",  # the words that matter per label over a whole split
)


@dataclass(frozen=True)
class MetricCard:
    """A headline score on the Evaluate page and in reports."""

    key: str
    title: str
    help: str


class Task:
    """What differs between tasks. Subclasses set the class attributes and implement the hooks."""

    name: ClassVar[str]
    title: ClassVar[str]  # for a task picker
    short: ClassVar[str]  # inside a sentence ("text classification")
    cli_name: ClassVar[str]  # a column of `python -m trainer runs`
    unit: ClassVar[str]  # one example: "text" | "sentence"
    rows: ClassVar[str]  # what the data check counts: "rows" | "sentences"
    class_word: ClassVar[str]  # a row of the per-class table
    label_word: ClassVar[str]  # what one class is called in the data check ("label", "entity type")
    class_title: ClassVar[str]  # the classes in the data report
    balance_unit: ClassVar[str]  # what each class needs enough of in training
    column_labels: ClassVar[tuple[str, str]]  # the two column pickers
    column_things: ClassVar[tuple[str, str]]  # what those columns hold, for messages
    reads_conll: ClassVar[bool]  # whether a CoNLL file can be this task's data
    stratify: ClassVar[bool]  # whether random splits keep each label's share
    inputs_are_words: ClassVar[bool]  # whether the model reads word lists (else running text)
    auto_model: ClassVar[str]  # the transformers Auto class
    peft_task_type: ClassVar[str]  # peft.TaskType member
    best_metric: ClassVar[str]  # what early stopping and the run list rank by
    headline_name: ClassVar[str]
    metric_cards: ClassVar[tuple[MetricCard, ...]]
    map_unit: ClassVar[str]  # what a dot of the embedding map is
    map_points: ClassVar[str]  # which points trainer.embeddings maps: "examples" | "entity_words"
    map_intro: ClassVar[str]
    map_colours: ClassVar[dict[str, str]]
    views: ClassVar[frozenset[str]]

    def supports(self, view: str) -> bool:
        """Whether a page can draw `view` (one of VIEWS) for this task."""
        if view not in VIEWS:
            raise ValueError(f"unknown view {view!r}")
        return view in self.views

    def units(self, n: int = 2) -> str:
        """'text'/'texts', 'sentence'/'sentences'."""
        return self.unit if n == 1 else self.unit + "s"

    def headline(self, metrics: dict) -> tuple[str, float | None]:
        """The one number shown in run lists."""
        value = metrics.get(self.best_metric)
        return self.headline_name, (float(value) if value is not None else None)

    # ------------------------------------------------------------ data (called by trainer.data)

    def propose_columns(self, frame: Any) -> tuple[str | None, str | None]:
        raise NotImplementedError

    def parse_row(self, x: str, y: str, name: str, row: int) -> tuple[Any, Any, bool]:
        """One table row as (x, y, split into characters?)."""
        raise NotImplementedError

    def clean(self, parts: list[list[Any]], report: Any) -> None:
        """Normalise the labels of every example of every file, in place."""
        raise NotImplementedError

    def labels_of(self, y: Any) -> Iterable[str]:
        """The model classes one example's label uses."""
        raise NotImplementedError

    def classes(self, ys: Iterable[Any]) -> Counter[str]:
        """What counts for class balance: labels, or entity types."""
        raise NotImplementedError

    def check_examples(self, ys: list[Any], report: Any) -> None:
        """Checks that must run before splitting (raise DataError)."""

    def check_training(self, ys: list[Any], report: Any, read_only: bool) -> None:
        raise NotImplementedError

    def label_names(self, ys: list[Any], scheme: str | None) -> list[str]:
        raise NotImplementedError

    def count(self, report: Any, splits: dict[str, list[Any]]) -> None:
        """Fill the report's label/class counts from the final splits."""
        raise NotImplementedError

    def new_report(self) -> Any:
        from trainer.data.report import ValidationReport

        return ValidationReport(
            task=self.name, task_title=self.report_title, unit=self.rows, class_title=self.class_title
        )

    report_title: ClassVar[str]

    # ------------------------------------------------------------ inputs and words

    def inputs(self, split: Any) -> list:
        """What the model reads for each example of a Split: texts, or word lists."""
        return [list(t) for t in split.tokens] if self.inputs_are_words else list(split.texts)

    def read_input(self, text: str) -> Any:
        """Typed text as the model's input: the text itself, or its words (`trainer.words.sentence_words`)."""
        return sentence_words(text) if self.inputs_are_words else text

    def spans(self, item: Any) -> list[tuple[int, int]]:
        """The word rule: (start, end) of each word in the displayed text of an input."""
        return joined_spans(item) if self.inputs_are_words else word_spans(item)

    def read_file(self, source: Any, column: str | None, labels: Sequence[str]) -> tuple[list, list | None]:
        """Every input of a file to predict, in order, and gold labels when it has them."""
        from trainer.data.inputs import read_sentences, read_texts

        return (read_sentences if self.inputs_are_words else read_texts)(source, column, labels)

    # ------------------------------------------------------------ model

    def encode(
        self, tokenizer: Any, inputs: list, max_length: int, targets: list | None = None
    ) -> list[dict]:
        """Unpadded features (with `labels` when `targets`, class ids, are given)."""
        raise NotImplementedError

    def target_ids(self, ys: list, label2id: dict[str, int]) -> list:
        raise NotImplementedError

    def collator(self, tokenizer: Any) -> Any:
        raise NotImplementedError

    def scores(self, gold: list, predicted: list, labels: list[str]) -> dict:
        raise NotImplementedError

    def trainer_metrics(self, labels: list[str]) -> Callable[[Any], dict[str, float]]:
        """`compute_metrics` for transformers.Trainer (logits and gold ids -> headline scores)."""
        raise NotImplementedError

    def flat_targets(self, ys: list) -> list[str]:
        """Every class occurrence in a split's labels (for class weights)."""
        return [c for y in ys for c in self.labels_of(y)]

    def logits(self, model: Any, tokenizer: Any, inputs: list, max_length: int, batch_size: int = 64,
               progress: Progress | None = None) -> Any:  # fmt: skip
        raise NotImplementedError

    def embed(self, encoder: Any, tokenizer: Any, inputs: list, max_length: int, batch_size: int = 64,
              progress: Progress | None = None) -> Any:  # fmt: skip
        raise NotImplementedError

    def predictions(self, logits: Any, labels: list[str]) -> Any:
        raise NotImplementedError

    def predictions_frame(self, inputs: list, preds: Any, gold: list | None = None) -> Any:
        raise NotImplementedError

    # ------------------------------------------------------------ explanations

    def explain(self, model: Any, tokenizer: Any, labels: list[str], inputs: list,
                targets: list | None = None, words: list[int] | None = None, **settings: Any) -> list:  # fmt: skip
        """Explanations of each input (token task: of word `words[i]` of sentence i)."""
        raise NotImplementedError


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
        from trainer.encoding import encode_texts

        return encode_texts(tokenizer, inputs, max_length, targets)

    def target_ids(self, ys: list, label2id: dict[str, int]) -> list:
        return [label2id[y] for y in ys]

    def collator(self, tokenizer: Any) -> Any:
        from transformers import DataCollatorWithPadding

        return DataCollatorWithPadding(tokenizer)

    def scores(self, gold: list, predicted: list, labels: list[str]) -> dict:
        from trainer.metrics import classification_scores

        return classification_scores(gold, predicted, labels)

    def trainer_metrics(self, labels: list[str]) -> Callable[[Any], dict[str, float]]:
        def compute(pred: Any) -> dict[str, float]:
            logits = pred.predictions[0] if isinstance(pred.predictions, tuple) else pred.predictions
            predicted = logits.argmax(-1)
            s = self.scores([labels[i] for i in pred.label_ids], [labels[i] for i in predicted], labels)
            return {"accuracy": s["accuracy"], "macro_f1": s["macro_f1"]}

        return compute

    def logits(self, model: Any, tokenizer: Any, inputs: list, max_length: int, batch_size: int = 64,
               progress: Progress | None = None) -> Any:  # fmt: skip
        from trainer.inference import text_logits

        return text_logits(model, tokenizer, inputs, max_length, batch_size, progress)

    def embed(self, encoder: Any, tokenizer: Any, inputs: list, max_length: int, batch_size: int = 64,
              progress: Progress | None = None) -> Any:  # fmt: skip
        from trainer.inference import text_embeddings

        return text_embeddings(encoder, tokenizer, inputs, max_length, batch_size, progress)

    def predictions(self, logits: Any, labels: list[str]) -> Any:
        from trainer.inference import softmax
        from trainer.predictions import Predictions

        probs = softmax(logits)
        return Predictions([labels[i] for i in probs.argmax(1)], probs, labels)

    def predictions_frame(self, inputs: list, preds: Any, gold: list | None = None) -> Any:
        from trainer.predictions import predictions_frame

        return predictions_frame(inputs, preds, gold)

    def explain(self, model: Any, tokenizer: Any, labels: list[str], inputs: list,
                targets: list | None = None, words: list[int] | None = None, **settings: Any) -> list:  # fmt: skip
        from trainer.attribution import explain

        return explain(model, tokenizer, labels, inputs, targets, **settings)


class TokenClassification(Task):
    name = TOKEN_TASK
    title = "Named entities (a tag per word, CoNLL/BIO)"
    short = "named entities"
    report_title = "token classification (entities)"
    cli_name = "entities"
    unit = "sentence"
    rows = "sentences"
    class_word = "Entity type"
    label_word = "entity type"
    class_title = "Entities"
    balance_unit = "entities"
    column_labels = ("Tokens column (words separated by spaces)", "Tags column (one tag per word)")
    column_things = ("the words of each sentence", "the tags")
    reads_conll = True
    stratify = False
    inputs_are_words = True
    auto_model = "AutoModelForTokenClassification"
    peft_task_type = "TOKEN_CLS"
    best_metric = "f1"
    headline_name = "entity F1"
    metric_cards = (
        MetricCard("f1", "Entity F1", "How well whole entities are found: an entity counts only if its span and type are right."),
        MetricCard("micro_precision", "Precision", "Of the entities the model marked, the share that are right."),
        MetricCard("micro_recall", "Recall", "Of the real entities, the share the model found."),
        MetricCard("token_accuracy", "Tag accuracy", "The share of words whose tag is right (O included, so it runs high)."),
    )  # fmt: skip
    map_unit = "entity words"
    map_points = "entity_words"
    map_intro = (
        "Named-entity run: each dot is one word that is part of an entity (in the true or the "
        "predicted tags), placed by the model's vector for it in its sentence. Hover to read the "
        "sentence; click to explain that word."
    )
    map_colours = {"gold": "True entity type", "predicted": "Predicted entity type", "outcome": "Right / wrong",
                   "confidence": "Confidence"}  # fmt: skip
    views = frozenset({"entity_spans"})

    def propose_columns(self, frame: Any) -> tuple[str | None, str | None]:
        from trainer.data.columns import propose_token_columns

        tokens, tags, _ = propose_token_columns(frame)
        return tokens, tags

    def parse_row(self, x: str, y: str, name: str, row: int) -> tuple[Any, Any, bool]:
        from trainer.data.rows import sentence_row

        return sentence_row(x, y, name, row)

    def clean(self, parts: list[list[Any]], report: Any) -> None:
        from trainer.data.tags import normalise_tags

        normalise_tags(parts, report)

    def labels_of(self, y: Any) -> Iterable[str]:
        return y

    def classes(self, ys: Iterable[Any]) -> Counter[str]:
        from trainer.data.tags import entity_counts

        return Counter(entity_counts(ys))

    def check_training(self, ys: list[Any], report: Any, read_only: bool) -> None:
        from trainer.data.checks import check_balance, check_entities

        counts = self.classes(ys)
        check_entities(counts, report, read_only)
        check_balance(counts, report, self.balance_unit)

    def label_names(self, ys: list[Any], scheme: str | None) -> list[str]:
        from trainer.data.tags import tag_names

        return tag_names((t for y in ys for t in y), scheme)

    def count(self, report: Any, splits: dict[str, list[Any]]) -> None:
        from trainer.data.tags import entity_counts

        unique = list({id(ex): ex for part in splits.values() for ex in part}.values())
        report.label_counts = dict(Counter(t for ex in unique for t in ex.y).most_common())
        report.entity_counts = entity_counts(ex.y for ex in unique)
        report.class_counts = report.entity_counts
        report.split_counts = {name: entity_counts(ex.y for ex in part) for name, part in splits.items()}

    def encode(
        self, tokenizer: Any, inputs: list, max_length: int, targets: list | None = None
    ) -> list[dict]:
        from trainer.encoding import encode_words

        return [w.features for w in encode_words(tokenizer, inputs, max_length, targets)]

    def target_ids(self, ys: list, label2id: dict[str, int]) -> list:
        return [[label2id[t] for t in y] for y in ys]

    def collator(self, tokenizer: Any) -> Any:
        from transformers import DataCollatorForTokenClassification

        return DataCollatorForTokenClassification(tokenizer)

    def scores(self, gold: list, predicted: list, labels: list[str]) -> dict:
        from trainer.metrics import token_scores

        return token_scores(gold, predicted)

    def trainer_metrics(self, labels: list[str]) -> Callable[[Any], dict[str, float]]:
        def compute(pred: Any) -> dict[str, float]:
            logits = pred.predictions[0] if isinstance(pred.predictions, tuple) else pred.predictions
            gold_seqs, pred_seqs = [], []
            for g_row, p_row in zip(pred.label_ids, logits.argmax(-1), strict=True):
                keep = g_row != -100  # first subwords only
                gold_seqs.append([labels[i] for i in g_row[keep]])
                pred_seqs.append([labels[i] for i in p_row[keep]])
            s = self.scores(gold_seqs, pred_seqs, labels)
            return {"f1": s["f1"], "macro_f1": s["macro_f1"], "accuracy": s["token_accuracy"]}

        return compute

    def logits(self, model: Any, tokenizer: Any, inputs: list, max_length: int, batch_size: int = 64,
               progress: Progress | None = None) -> Any:  # fmt: skip
        from trainer.inference import word_logits

        return word_logits(model, tokenizer, inputs, max_length, batch_size, progress)

    def embed(self, encoder: Any, tokenizer: Any, inputs: list, max_length: int, batch_size: int = 64,
              progress: Progress | None = None) -> Any:  # fmt: skip
        from trainer.inference import word_embeddings

        return word_embeddings(encoder, tokenizer, inputs, max_length, batch_size, progress)

    def predictions(self, logits: Any, labels: list[str]) -> Any:
        from trainer.inference import softmax
        from trainer.predictions import TagPredictions

        probs = [softmax(x) for x in logits]
        tags = [[labels[i] for i in p.argmax(1)] for p in probs]
        return TagPredictions(tags, [p.max(1).tolist() if len(p) else [] for p in probs], probs, labels)

    def predictions_frame(self, inputs: list, preds: Any, gold: list | None = None) -> Any:
        from trainer.predictions import tag_predictions_frame

        return tag_predictions_frame(inputs, preds, gold)

    def explain(self, model: Any, tokenizer: Any, labels: list[str], inputs: list,
                targets: list | None = None, words: list[int] | None = None, **settings: Any) -> list:  # fmt: skip
        from trainer.attribution import explain_tokens

        if words is None:
            raise ValueError("Say which word of each sentence to explain.")
        return explain_tokens(model, tokenizer, labels, inputs, words, targets, **settings)


TASKS: dict[str, Task] = {task.name: task for task in (TextClassification(), TokenClassification())}
TASK_NAMES = tuple(TASKS)


def task_name(name: str | None) -> str | None:
    """A task name or alias ("text", "token", "ner") as its full name; None when not given."""
    if name is None or name == "":
        return None
    full = ALIASES.get(name, name)
    if full not in TASKS:
        raise ValueError(f'Unknown task "{name}". Use {" or ".join(TASK_NAMES)}.')
    return full


def get_task(name: str | None) -> Task:
    """The adapter for a task name or alias; text classification when not given (old run folders)."""
    return TASKS[task_name(name) or TEXT_TASK]


def task_for_architecture(architecture: str) -> Task:
    """The adapter whose model class saved a checkpoint (its config's `architectures[0]`)."""
    for task in TASKS.values():
        if architecture.endswith(task.auto_model.removeprefix("AutoModelFor")):
            return task
    return TASKS[TEXT_TASK]
