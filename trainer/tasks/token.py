"""Token classification (named entities): a BIO/IOBES tag per word."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from trainer.tasks.base import MetricCard, Progress, Task

TOKEN_TASK = "token-classification"


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
    sentence_head = False
    default_learning_rate = 2e-4  # per-token heads learn faster; measured on WikiANN
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
    views = frozenset({"entity_spans", "label_issues"})

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
        from trainer.model.encoding import encode_words

        return [w.features for w in encode_words(tokenizer, inputs, max_length, targets)]

    def target_ids(self, ys: list, label2id: dict[str, int]) -> list:
        return [[label2id[t] for t in y] for y in ys]

    def collator(self, tokenizer: Any) -> Any:
        from transformers import DataCollatorForTokenClassification

        return DataCollatorForTokenClassification(tokenizer)

    def scores(self, gold: list, predicted: list, labels: list[str]) -> dict:
        from trainer.evaluate.metrics import token_scores

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
               progress: Progress | None = None, precision: str | None = None) -> Any:  # fmt: skip
        from trainer.model.inference import word_logits

        return word_logits(model, tokenizer, inputs, max_length, batch_size, progress, precision)

    def embed(self, encoder: Any, tokenizer: Any, inputs: list, max_length: int, batch_size: int = 64,
              progress: Progress | None = None, precision: str | None = None) -> Any:  # fmt: skip
        from trainer.model.inference import word_embeddings

        return word_embeddings(encoder, tokenizer, inputs, max_length, batch_size, progress, precision)

    def outputs(self, model: Any, tokenizer: Any, inputs: list, max_length: int, batch_size: int = 64,
                progress: Progress | None = None, precision: str | None = None) -> tuple[Any, Any]:  # fmt: skip
        from trainer.model.inference import word_outputs

        return word_outputs(model, tokenizer, inputs, max_length, batch_size, progress, precision)

    def predictions(self, logits: Any, labels: list[str]) -> Any:
        from trainer.evaluate.predictions import TagPredictions
        from trainer.model.inference import softmax

        probs = [softmax(x) for x in logits]
        tags = [[labels[i] for i in p.argmax(1)] for p in probs]
        return TagPredictions(tags, [p.max(1).tolist() if len(p) else [] for p in probs], probs, labels)

    def predictions_frame(self, inputs: list, preds: Any, gold: list | None = None) -> Any:
        from trainer.evaluate.predictions import tag_predictions_frame

        return tag_predictions_frame(inputs, preds, gold)

    def explain(self, model: Any, tokenizer: Any, labels: list[str], inputs: list,
                targets: list | None = None, words: list[int] | None = None, **settings: Any) -> list:  # fmt: skip
        from trainer.attribution import explain_tokens

        if words is None:
            raise ValueError("Say which word of each sentence to explain.")
        return explain_tokens(model, tokenizer, labels, inputs, words, targets, **settings)
