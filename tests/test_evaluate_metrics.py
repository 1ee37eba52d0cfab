"""trainer.evaluate.metrics: scores on hand-checked examples, entity spans read the conlleval way."""

import pytest

from trainer.evaluate.metrics import classification_scores, entity_spans, span_errors, token_scores


def test_seqeval_scores_on_a_hand_checked_example():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    pred = [["B-PER", "I-PER", "O", "O"], ["B-ORG", "O"]]
    scores = token_scores(gold, pred)
    # 3 gold entities, 2 predicted, both right: P = 1, R = 2/3, F1 = 0.8
    assert scores["micro_precision"] == 1.0
    assert abs(scores["micro_recall"] - 2 / 3) < 1e-9
    assert abs(scores["f1"] - 0.8) < 1e-9
    assert scores["per_class"]["LOC"]["recall"] == 0.0
    assert scores["token_accuracy"] == 5 / 6


def test_entity_spans_read_bio_iobes_and_invalid_sequences_the_conlleval_way():
    assert entity_spans(["B-PER", "I-PER", "O", "B-LOC"]) == [(0, 2, "PER"), (3, 4, "LOC")]
    assert entity_spans(["S-ORG", "B-PER", "E-PER", "O"]) == [(0, 1, "ORG"), (1, 3, "PER")]
    # an I- that continues nothing starts an entity; a type change ends one
    assert entity_spans(["O", "I-LOC", "I-LOC", "I-PER"]) == [(1, 3, "LOC"), (3, 4, "PER")]
    assert entity_spans(["B-PER", "B-PER"]) == [(0, 1, "PER"), (1, 2, "PER")]
    assert entity_spans(["O", "O"]) == []


def test_span_errors_name_missed_and_wrong_entities_by_exact_span_and_type():
    gold = ["B-PER", "I-PER", "O", "B-LOC", "O", "B-ORG"]
    pred = ["B-PER", "O", "O", "B-ORG", "O", "B-ORG"]  # PER cut short, LOC typed as ORG, ORG right
    missed, wrong = span_errors(gold, pred)
    assert missed == {(0, 2, "PER"), (3, 4, "LOC")}
    assert wrong == {(0, 1, "PER"), (3, 4, "ORG")}


def test_classification_scores_on_a_hand_checked_example():
    gold = ["a", "a", "a", "b", "b", "c"]
    pred = ["a", "a", "b", "b", "b", "a"]
    scores = classification_scores(gold, pred, ["a", "b", "c"])
    assert scores["n"] == 6 and scores["accuracy"] == pytest.approx(4 / 6)
    # a: P 2/3 R 2/3; b: P 2/3 R 1; c: P 0 R 0 -> F1 2/3, 0.8, 0
    assert scores["per_class"]["b"]["f1"] == pytest.approx(0.8)
    assert scores["macro_f1"] == pytest.approx((2 / 3 + 0.8 + 0) / 3)
    assert scores["per_class"]["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert scores["confusion_matrix"] == {
        "labels": ["a", "b", "c"],
        "matrix": [[2, 1, 0], [0, 2, 0], [1, 0, 0]],
    }
    assert classification_scores([], [], ["a"]) == {"n": 0}
