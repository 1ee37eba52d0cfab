"""Token classification (named entities): a BIO/IOBES tag per word."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from trainer.i18n import N_, tr
from trainer.tasks.base import MetricCard, Progress, Task, register

if TYPE_CHECKING:
    from transformers import DataCollator, PreTrainedModel, PreTrainedTokenizerBase

    from trainer.attribution.engine import Explanation
    from trainer.data.report import ValidationReport
    from trainer.data.rows import Example
    from trainer.data.splits import Split

TOKEN_TASK = "token-classification"
IGNORE_INDEX = -100  # a label the loss skips: every subword but a word's first


@dataclass
class TagPredictions:
    """Token-task predictions: a tag and its probability per word."""

    tags: list[list[str]]
    confidence: list[list[float]]
    probabilities: list[np.ndarray]  # per sentence (n_words, C)
    class_names: list[str]

    @property
    def predicted(self) -> list[list[str]]:
        """What is scored against the gold labels: a tag per word."""
        return self.tags


# Word lists -> model inputs, the same way for training and inference. Labels sit on the first subword of
# each word only (IGNORE_INDEX elsewhere). Sentences longer than max_length are cut into overlapping
# windows instead of being truncated, so no word loses its tag; at inference each word takes the
# prediction of the window where it sits furthest from an edge.


@dataclass
class TokenWindow:
    """One window of one sentence: model inputs plus the word index of every token."""

    sentence: int
    features: dict[str, list[int]]
    word_ids: list[int | None]
    first_subword: list[bool]


def encode_words(
    tokenizer: PreTrainedTokenizerBase,
    sentences: Sequence[Sequence[str]],
    max_length: int,
    tag_ids: Sequence[Sequence[int]] | None = None,
    stride: int | None = None,
) -> list[TokenWindow]:
    """Encode word lists into (possibly several overlapping) windows per sentence."""
    stride = stride if stride is not None else max(0, min(32, max_length // 4))
    enc = tokenizer(
        [list(s) for s in sentences],
        is_split_into_words=True,
        truncation=True,
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )
    mapping = enc["overflow_to_sample_mapping"]
    windows = []
    for i, sentence in enumerate(mapping):
        word_ids = enc.word_ids(i)
        offsets = enc["offset_mapping"][i]
        first, seen_prev = [], None
        for w, (start, _end) in zip(word_ids, offsets, strict=True):
            # a window may open on a word's second piece: that piece is not the word's first
            first.append(w is not None and w != seen_prev and start == 0)
            seen_prev = w
        skip = ("overflow_to_sample_mapping", "offset_mapping")
        features = {k: enc[k][i] for k in enc if k not in skip}
        if tag_ids is not None:
            tags = tag_ids[sentence]
            features["labels"] = [
                int(tags[w]) if is_first else IGNORE_INDEX
                for w, is_first in zip(word_ids, first, strict=True)
            ]
        windows.append(TokenWindow(int(sentence), features, list(word_ids), first))
    return windows


def centrality(position: int, length: int) -> int:
    """How far a token sits from the nearer edge of its window (higher is more context)."""
    return min(position, length - 1 - position)


def _forward(owner: Any, module: Any, tokenizer: PreTrainedTokenizerBase, sentences: Sequence[Sequence[str]], max_length: int,
             batch_size: int, width: int, read: Callable[[Any], np.ndarray], progress: Progress | None = None,
             precision: str | None = None, hidden_states: bool = False) -> list[np.ndarray]:  # fmt: skip
    """Per sentence, a (n_words, width) array read at each word's first subword.

    Long sentences are read in overlapping windows; each word keeps the vector from the window
    where it has the most context on both sides.
    """
    from trainer.model.inference import forward_passes

    windows = encode_words(tokenizer, sentences, max_length)
    out = [np.zeros((len(s), width), dtype=np.float32) for s in sentences]
    best = [np.full(len(s), -1) for s in sentences]
    done = 0
    features = [w.features for w in windows]
    for idx, _batch, output in forward_passes(
        owner, module, tokenizer, features, batch_size, precision, hidden_states
    ):
        values = read(output)  # (B, T, width)
        for row, wi in enumerate(idx):
            window = windows[wi]
            for pos, (word, first) in enumerate(zip(window.word_ids, window.first_subword, strict=True)):
                score = centrality(pos, len(window.word_ids))
                if first and score > best[window.sentence][word]:
                    best[window.sentence][word] = score
                    out[window.sentence][word] = values[row, pos]
        done += len(idx)
        if progress:
            progress(done, len(windows))
    return out


class TokenClassification(Task):
    name = TOKEN_TASK
    title = N_("Named entities (a tag per word, CoNLL/BIO)")
    short = N_("named entities")
    report_title = N_("token classification (entities)")
    cli_name = "entities"
    unit = "sentence"
    rows = "sentences"
    class_word = N_("Entity type")
    label_word = N_("entity type")
    class_title = N_("Entities")
    balance_unit = N_("entities")
    column_labels = (N_("Tokens column (words separated by spaces)"), N_("Tags column (one tag per word)"))
    column_things = (N_("the words of each sentence"), N_("the tags"))
    reads_conll = True
    stratify = False
    inputs_are_words = True
    example_input = "Anna Schmidt flew to Paris"
    interval_unit = "token"
    auto_model = "AutoModelForTokenClassification"
    peft_task_type = "TOKEN_CLS"
    best_metric = "f1"
    sentence_head = False
    default_learning_rate = 2e-4  # per-token heads learn faster; measured on WikiANN
    headline_name = N_("entity F1")
    headline_plain = N_("entities found and right")
    metric_cards = (
        MetricCard("f1", N_("Entity F1"), N_("How well whole entities are found: an entity counts only if its span and type are right.")),
        MetricCard("micro_precision", N_("Precision"), N_("Of the entities the model marked, the share that are right.")),
        MetricCard("micro_recall", N_("Recall"), N_("Of the real entities, the share the model found.")),
        MetricCard("token_accuracy", N_("Tag accuracy"), N_("The share of words whose tag is right (O included, so it runs high).")),
    )  # fmt: skip
    map_unit = N_("entity words")
    map_points = "entity_words"
    map_intro = N_(
        "Named-entity run: each dot is one word that is part of an entity (in the true or the "
        "predicted tags), placed by the model's vector for it in its sentence. Hover to read the "
        "sentence; click to explain that word."
    )
    map_colours = {"gold": N_("True entity type"), "predicted": N_("Predicted entity type"),
                   "outcome": N_("Right / wrong"), "confidence": N_("Confidence")}  # fmt: skip
    views = frozenset({"entity_spans", "label_issues", "word_explanations"})

    def propose_columns(self, frame: pd.DataFrame) -> tuple[str | None, str | None]:
        from trainer.data.columns import propose_token_columns

        tokens, tags, _ = propose_token_columns(frame)
        return tokens, tags

    def parse_row(self, x: str, y: str, name: str, row: int) -> tuple[Any, Any, bool]:
        from trainer.data.rows import sentence_row

        return sentence_row(x, y, name, row)

    def clean(self, parts: list[list[Example]], report: ValidationReport) -> None:
        from trainer.data.tags import normalise_tags

        normalise_tags(parts, report)

    def labels_of(self, y: Any) -> Iterable[str]:
        return y

    def classes(self, ys: Iterable[Any]) -> Counter[str]:
        from trainer.data.tags import entity_counts

        return Counter(entity_counts(ys))

    def check_training(self, ys: list[Any], report: ValidationReport, read_only: bool) -> None:
        from trainer.data.checks import check_balance, check_entities

        counts = self.classes(ys)
        check_entities(counts, report, read_only)
        check_balance(counts, report, self.balance_unit)

    def label_names(self, ys: list[Any], scheme: str | None) -> list[str]:
        from trainer.data.tags import tag_names

        return tag_names((t for y in ys for t in y), scheme)

    def count(self, report: ValidationReport, splits: dict[str, list[Example]]) -> None:
        from trainer.data.tags import entity_counts

        unique = list({id(ex): ex for part in splits.values() for ex in part}.values())
        report.label_counts = dict(Counter(t for ex in unique for t in ex.y).most_common())
        report.entity_counts = entity_counts(ex.y for ex in unique)
        report.class_counts = report.entity_counts
        report.split_counts = {name: entity_counts(ex.y for ex in part) for name, part in splits.items()}

    def encode(
        self, tokenizer: PreTrainedTokenizerBase, inputs: list, max_length: int, targets: list | None = None
    ) -> list[dict]:
        return [w.features for w in encode_words(tokenizer, inputs, max_length, targets)]

    def target_ids(self, ys: list, label2id: dict[str, int]) -> list:
        return [[label2id[t] for t in y] for y in ys]

    def collator(self, tokenizer: PreTrainedTokenizerBase) -> DataCollator:
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
                keep = g_row != IGNORE_INDEX  # first subwords only
                gold_seqs.append([labels[i] for i in g_row[keep]])
                pred_seqs.append([labels[i] for i in p_row[keep]])
            s = self.scores(gold_seqs, pred_seqs, labels)
            return {"f1": s["f1"], "macro_f1": s["macro_f1"], "accuracy": s["token_accuracy"]}

        return compute

    def logits(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, inputs: list, max_length: int, batch_size: int = 64,
               progress: Progress | None = None, precision: str | None = None) -> list[np.ndarray]:  # fmt: skip
        """Per sentence, a (n_words, C) array of logits of each word's first subword."""
        from trainer.model.inference import read_logits

        width = model.config.num_labels
        return _forward(
            model, model, tokenizer, inputs, max_length, batch_size, width, read_logits, progress, precision
        )

    def embed(self, encoder: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, inputs: list, max_length: int, batch_size: int = 64,
              progress: Progress | None = None, precision: str | None = None) -> list[np.ndarray]:  # fmt: skip
        """Per sentence, a (n_words, H) array: the last hidden state of each word's first subword."""
        from trainer.model.inference import read_hidden

        base = getattr(encoder, "base_model", encoder)
        width = base.config.hidden_size
        return _forward(
            encoder, base, tokenizer, inputs, max_length, batch_size, width, read_hidden, progress, precision
        )

    def outputs(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, inputs: list, max_length: int, batch_size: int = 64,
                progress: Progress | None = None, precision: str | None = None) -> tuple[list, list]:  # fmt: skip
        """Per sentence, ((n_words, C) logits, (n_words, H) word vectors) of a tagger, from one forward pass."""
        from trainer.model.inference import read_logits_and_hidden

        c = model.config.num_labels
        both = _forward(model, model, tokenizer, inputs, max_length, batch_size, c + model.config.hidden_size,
                        read_logits_and_hidden, progress, precision, hidden_states=True)  # fmt: skip
        return [b[:, :c] for b in both], [b[:, c:] for b in both]

    def predictions(self, logits: list[np.ndarray], labels: list[str]) -> TagPredictions:
        from trainer.model.inference import softmax

        probs = [softmax(x) for x in logits]
        tags = [[labels[i] for i in p.argmax(1)] for p in probs]
        return TagPredictions(tags, [p.max(1).tolist() if len(p) else [] for p in probs], probs, labels)

    def predictions_frame(
        self, inputs: list, preds: TagPredictions, gold: list | None = None
    ) -> pd.DataFrame:
        """predictions.csv for the token task: tokens, [gold tags], predicted tags, mean confidence."""
        frame = pd.DataFrame({"tokens": [" ".join(s) for s in inputs]})
        if gold is not None:
            frame["gold"] = [" ".join(g) for g in gold]
        frame["predicted"] = [" ".join(t) for t in preds.tags]
        frame["confidence"] = [round(float(np.mean(c)), 6) if c else 1.0 for c in preds.confidence]
        if gold is not None:
            frame["correct"] = [list(g) == list(p) for g, p in zip(gold, preds.tags, strict=True)]
        return frame

    def to_split(self, examples: Sequence[Example]) -> Split:
        from trainer.data.splits import Split

        rows = [ex.row for ex in examples] if all(ex.row is not None for ex in examples) else None
        tokens = [list(ex.x) for ex in examples]
        return Split([" ".join(t) for t in tokens], [list(ex.y) for ex in examples], tokens, rows)

    def input_vectors(self, vectors: list[np.ndarray]) -> np.ndarray:
        if not vectors:
            return np.zeros((0, 1))
        return np.stack([v.mean(0) if len(v) else np.zeros(v.shape[1]) for v in vectors])

    def input_confidence(self, preds: TagPredictions) -> np.ndarray:
        return np.array([float(np.mean(c)) if len(c) else 1.0 for c in preds.confidence])

    def stored_per_input(self, vectors: Any, probs: Any, split: Split) -> tuple[Any, Any]:
        """Word rows -> sentence rows: the mean word vector, and the mean of the words' top probability."""
        if vectors is None:
            return vectors, probs
        bounds = np.cumsum([0, *(len(words) for words in split.tokens)])
        pairs = list(zip(bounds[:-1], bounds[1:], strict=True))
        width = vectors.shape[1]
        sentence_vectors = np.stack([vectors[a:b].mean(0) if b > a else np.zeros(width) for a, b in pairs])
        sentence_probs = None
        if probs is not None:
            sentence_probs = np.array([[probs[a:b].max(1).mean() if b > a else 1.0] for a, b in pairs])
        return sentence_vectors, sentence_probs

    def trend_label(self, preds: TagPredictions, i: int) -> str:
        from trainer.evaluate.metrics import entity_spans

        kinds = Counter(kind for _, _, kind in entity_spans(preds.tags[i]))
        return kinds.most_common(1)[0][0] if kinds else "(no entity)"

    def input_probabilities(self, preds: TagPredictions) -> None:
        return None

    def answer(self, text: str, item: list[str], preds: TagPredictions, i: int) -> list[dict]:
        """Entities in the shape of the token-classification pipeline with aggregation_strategy="simple"."""
        from trainer.evaluate.metrics import entity_spans

        starts, cursor = [], 0
        for word in item:
            at = text.find(word, cursor)
            starts.append((at, at + len(word)) if at >= 0 else (None, None))
            cursor = at + len(word) if at >= 0 else cursor
        spans, confidence = [], preds.confidence[i]
        for a, b, kind in entity_spans(preds.tags[i]):
            start, end = starts[a][0], starts[b - 1][1]
            word = text[start:end] if start is not None and end is not None else " ".join(item[a:b])
            spans.append({"entity_group": kind, "score": float(np.mean(confidence[a:b])), "word": word,
                          "start": start, "end": end})  # fmt: skip
        return spans

    def scored_columns(self, inputs: list, preds: TagPredictions) -> pd.DataFrame:
        from trainer.evaluate.metrics import entity_spans

        spans = [
            "; ".join(f"{' '.join(words[a:b])} ({kind})" for a, b, kind in entity_spans(tags))
            for words, tags in zip(inputs, preds.tags, strict=True)
        ]
        return pd.DataFrame({"predicted": spans, "tags": [" ".join(t) for t in preds.tags]})

    def labelling_fields(self, inputs: list, preds: TagPredictions, i: int) -> dict[str, str]:
        return {"words": " ".join(inputs[i]), "tags": " ".join(preds.tags[i])}

    def explain_plan(self, inputs: list, predict: Callable[[list], Any]) -> tuple[list, list[int] | None]:
        """Every word tagged as an entity (or the first word) of each sentence."""
        sentences, words = [], []
        for sentence, tags in zip(inputs, predict(inputs).tags, strict=True):
            picked = [i for i, t in enumerate(tags) if t != "O"] or [0]
            sentences += [sentence] * len(picked)
            words += picked
        return sentences, words

    def explain(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, labels: list[str], inputs: list,
                targets: list | None = None, words: list[int] | None = None, **settings: Any) -> list[Explanation]:  # fmt: skip
        from trainer.attribution import explain_tokens

        if words is None:
            raise ValueError(tr("Say which word of each sentence to explain."))
        return explain_tokens(model, tokenizer, labels, inputs, words, targets, **settings)


register(TokenClassification())
