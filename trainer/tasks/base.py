"""The task adapter contract: what every task must say and do (see trainer/tasks/__init__.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from trainer.data.word_rule import joined_spans, sentence_words, word_spans

Progress = Callable[[int, int], None]

if TYPE_CHECKING:  # types only: importing them here would load torch into the app
    import numpy as np
    import pandas as pd
    from transformers import DataCollator, PreTrainedModel, PreTrainedTokenizerBase

    from trainer.attribution.engine import Explanation
    from trainer.data.readers import Source
    from trainer.data.report import ValidationReport
    from trainer.data.rows import Example
    from trainer.data.splits import Split

Outputs = (
    Any  # one task's model outputs: (N, C) logits or vectors for texts, a list of (n_words, C) per sentence
)
Input = Any  # what the model reads for one example: a text (str) or a sentence's words (list[str])
Label = Any  # one example's label: a class name (str) or a tag per word (list[str])

# Views a page may draw; an adapter lists the ones that make sense for its task.
VIEWS = (
    "confusion_examples",  # a confusion-matrix cell lists its examples
    "mistakes",  # a table of wrong predictions, most confident first
    "label_issues",  # likely mislabeled examples from one probability vector per example
    "entity_spans",  # sentences with true and predicted entity spans side by side
    "dataset_ranking",  # the words that matter per label over a whole split
    "alert_words",  # an alert on new text names the words behind it (integrated gradients)
    "word_explanations",  # a sentence is explained one word (its tag) at a time, not as a whole
    "small_changes",  # behavioural tests and augmentation by changed copies of whole texts
)


@dataclass(frozen=True)
class MetricCard:
    """A headline score on the Evaluate page and in reports (`title` and `help`: English catalogue ids,
    marked with N_ where a task defines them and translated with tr where shown)."""

    key: str
    title: str
    help: str


class Task:
    """What differs between tasks. Subclasses set the class attributes and implement the hooks.

    The attributes a person reads (title, short, class_word, column_labels, headline_name, map_intro,
    map_colours' values, ...) are English catalogue ids marked with N_; pages translate them where shown.
    Values code compares (name, unit, rows, map_points, ...) are never translated."""

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
    inputs_are_words: ClassVar[bool]  # whether the model reads word lists (else running text): a data shape
    example_input: ClassVar[str] = "Your text here"  # a made-up input for code samples (the Export page's)
    interval_unit: ClassVar[
        str
    ]  # what a bootstrap resamples (trainer.evaluate.uncertainty): "text" | "token"
    auto_model: ClassVar[str]  # the transformers Auto class
    peft_task_type: ClassVar[str]  # peft.TaskType member
    best_metric: ClassVar[str]  # what early stopping and the run list rank by
    sentence_head: ClassVar[
        bool
    ]  # one prediction per example read from a pooled vector (mean pooling applies)
    default_learning_rate: ClassVar[float]  # measured per task, bench/RESULTS.md "Stronger defaults"
    headline_name: ClassVar[str]
    headline_plain: ClassVar[str]  # the headline score in words, for people (the run list, the pickers)
    metric_cards: ClassVar[tuple[MetricCard, ...]]
    map_unit: ClassVar[str]  # what a dot of the embedding map is
    map_points: ClassVar[str]  # which points trainer.inspect.embedding_map maps: "examples" | "entity_words"
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

    def propose_columns(self, frame: pd.DataFrame) -> tuple[str | None, str | None]:
        raise NotImplementedError

    def parse_row(self, x: str, y: str, name: str, row: int) -> tuple[Input, Label, bool]:
        """One table row as (x, y, split into characters?)."""
        raise NotImplementedError

    def clean(self, parts: list[list[Example]], report: ValidationReport) -> None:
        """Normalise the labels of every example of every file, in place."""
        raise NotImplementedError

    def labels_of(self, y: Label) -> Iterable[str]:
        """The model classes one example's label uses."""
        raise NotImplementedError

    def classes(self, ys: Iterable[Label]) -> Counter[str]:
        """What counts for class balance: labels, or entity types."""
        raise NotImplementedError

    def check_examples(self, ys: list[Label], report: ValidationReport) -> None:
        """Checks that must run before splitting (raise DataError)."""

    def check_training(self, ys: list[Label], report: ValidationReport, read_only: bool) -> None:
        raise NotImplementedError

    def label_names(self, ys: list[Label], scheme: str | None) -> list[str]:
        raise NotImplementedError

    def count(self, report: ValidationReport, splits: dict[str, list[Example]]) -> None:
        """Fill the report's label/class counts from the final splits."""
        raise NotImplementedError

    def new_report(self) -> ValidationReport:
        from trainer.data.report import ValidationReport

        return ValidationReport(
            task=self.name, task_title=self.report_title, unit=self.rows, class_title=self.class_title
        )

    report_title: ClassVar[str]

    # ------------------------------------------------------------ inputs and words

    def inputs(self, split: Split) -> list:
        """What the model reads for each example of a Split: texts, or word lists."""
        return [list(t) for t in split.tokens] if self.inputs_are_words else list(split.texts)

    def read_input(self, text: str) -> Input:
        """Typed text as the model's input: the text itself, or its words (`trainer.data.word_rule.sentence_words`)."""
        return sentence_words(text) if self.inputs_are_words else text

    def spans(self, item: Input) -> list[tuple[int, int]]:
        """The word rule: (start, end) of each word in the displayed text of an input."""
        return joined_spans(item) if self.inputs_are_words else word_spans(item)

    def read_file(
        self, source: Source, column: str | None, labels: Sequence[str]
    ) -> tuple[list, list | None]:
        """Every input of a file to predict, in order, and gold labels when it has them."""
        from trainer.data.inputs import read_sentences, read_texts

        return (read_sentences if self.inputs_are_words else read_texts)(source, column, labels)

    # ------------------------------------------------------------ model

    def encode(
        self, tokenizer: PreTrainedTokenizerBase, inputs: list, max_length: int, targets: list | None = None
    ) -> list[dict]:
        """Unpadded features (with `labels` when `targets`, class ids, are given)."""
        raise NotImplementedError

    def target_ids(self, ys: list, label2id: dict[str, int]) -> list:
        raise NotImplementedError

    def collator(self, tokenizer: PreTrainedTokenizerBase) -> DataCollator:
        raise NotImplementedError

    def scores(self, gold: list, predicted: list, labels: list[str]) -> dict:
        raise NotImplementedError

    def trainer_metrics(self, labels: list[str]) -> Callable[[Any], dict[str, float]]:
        """`compute_metrics` for transformers.Trainer (logits and gold ids -> headline scores)."""
        raise NotImplementedError

    def flat_targets(self, ys: list) -> list[str]:
        """Every class occurrence in a split's labels (for class weights)."""
        return [c for y in ys for c in self.labels_of(y)]

    def logits(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, inputs: list, max_length: int, batch_size: int = 64,
               progress: Progress | None = None, precision: str | None = None) -> Outputs:  # fmt: skip
        raise NotImplementedError

    def embed(self, encoder: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, inputs: list, max_length: int, batch_size: int = 64,
              progress: Progress | None = None, precision: str | None = None) -> Outputs:  # fmt: skip
        raise NotImplementedError

    def outputs(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, inputs: list, max_length: int, batch_size: int = 64,
                progress: Progress | None = None, precision: str | None = None) -> tuple[Outputs, Outputs]:  # fmt: skip
        """(logits, embeddings) from one forward pass of a fine-tuned model."""
        raise NotImplementedError

    def predictions(self, logits: Outputs, labels: list[str]) -> Any:
        raise NotImplementedError

    def predictions_frame(self, inputs: list, preds: Any, gold: list | None = None) -> pd.DataFrame:
        raise NotImplementedError

    def to_split(self, examples: Sequence[Example]) -> Split:
        """A Split (trainer.data.splits) of prepared examples, in order."""
        raise NotImplementedError

    # ------------------------------------------------------------ new text (trainer.apply)

    def input_vectors(self, vectors: Outputs) -> np.ndarray:
        """One (N, H) vector per input from `embed`/`outputs`: a text's own, or a sentence's mean word vector."""
        raise NotImplementedError

    def input_confidence(self, preds: Any) -> np.ndarray:
        """One confidence per input: a text's, or the mean over a sentence's words."""
        raise NotImplementedError

    def stored_per_input(
        self, vectors: np.ndarray | None, probs: np.ndarray | None, split: Split
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """A split's stored vectors and probabilities (one row per text or per word), one row per input."""
        raise NotImplementedError

    def trend_label(self, preds: Any, i: int) -> str:
        """The label input `i` counts under in trends: its prediction, or its sentence's main entity type."""
        raise NotImplementedError

    def input_probabilities(self, preds: Any) -> np.ndarray | None:
        """(N, labels) probabilities per input in `preds.class_names` order, or None where an input has none
        (a sentence has one per word)."""
        raise NotImplementedError

    def probability_labels(self, labels: Sequence[str]) -> list[str] | None:
        """The labels a text's probabilities come in (the model's), or None where a text has none (entities)."""
        return None if self.inputs_are_words else list(labels)

    def answer(self, text: str, item: Input, preds: Any, i: int) -> list[dict]:
        """Input `i`'s answer in the shape of transformers' pipeline for this task: every label with its
        score, best first; or the entities (entity_group, score, word, start, end) found in `text`."""
        raise NotImplementedError

    def scored_columns(self, inputs: list, preds: Any) -> pd.DataFrame:
        """The columns a scored file gains per input (a DataFrame): "predicted" first, then the task's own."""
        raise NotImplementedError

    def labelling_fields(self, inputs: list, preds: Any, i: int) -> dict[str, str]:
        """What a row sent back to labelling carries besides its text (an entity sentence: words and tags)."""
        raise NotImplementedError

    def labels_each_word(self) -> bool:
        """Whether a row sent to labelling, and the labelled file that comes back, hold a tag per word (the
        words and their tags) rather than one label per text (trainer.apply.labelling's `words`)."""
        return self.inputs_are_words

    def explain_plan(self, inputs: list, predict: Callable[[list], Any]) -> tuple[list, list[int] | None]:
        """(inputs, words) to explain when nobody picked: each text, or each entity word of each sentence."""
        raise NotImplementedError

    # ------------------------------------------------------------ explanations

    def explain(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, labels: list[str], inputs: list,
                targets: list | None = None, words: list[int] | None = None, **settings: Any) -> list[Explanation]:  # fmt: skip
        """Explanations of each input (token task: of word `words[i]` of sentence i)."""
        raise NotImplementedError


TASKS: dict[str, Task] = {}  # name -> adapter; every module of trainer/tasks registers its own


def register(task: Task) -> Task:
    """Make an adapter known by its name (an adapter module calls this once, at import)."""
    TASKS[task.name] = task
    return task
