"""Named entities end to end: CoNLL in, token-classification run out, loadable by a pipeline."""

import pandas as pd
from helpers import conll_file

from trainer.config import TrainConfig
from trainer.data import TOKEN_TASK, prepare
from trainer.encoding import IGNORE_INDEX, encode_words
from trainer.fit import fit
from trainer.metrics import entity_spans, span_errors, token_scores
from trainer.models import load_tokenizer
from trainer.predict import RunModel
from trainer.runs import create_run


def test_labels_go_on_the_first_piece_of_each_word_only(real_model_dir):
    tokenizer = load_tokenizer(str(real_model_dir))
    words = ["Nordwindbankgesellschaft", "hired", "Anna"]
    (window,) = encode_words(tokenizer, [words], 64, tag_ids=[[1, 0, 2]])
    pieces = tokenizer.convert_ids_to_tokens(window.features["input_ids"])
    labelled = [(p, t) for p, t in zip(pieces, window.features["labels"], strict=True) if t != IGNORE_INDEX]
    assert len(pieces) > 6, "the long word is split into several pieces"
    assert [t for _, t in labelled] == [1, 0, 2]
    assert labelled[0][0] == pieces[1], "the tag sits on the first piece of the first word"


def test_long_sentences_keep_every_tag_through_overlapping_windows(real_model_dir):
    tokenizer = load_tokenizer(str(real_model_dir))
    words = [f"word{i}" for i in range(120)]
    windows = encode_words(tokenizer, [words], 32, tag_ids=[list(range(120))])
    assert len(windows) > 1
    tagged = {t for w in windows for t in w.features["labels"] if t != IGNORE_INDEX}
    assert tagged == set(range(120)), "no word loses its tag"


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


def test_ner_run_is_loadable_by_the_token_classification_pipeline(tmp_path, tiny_model_dir):
    from transformers import pipeline

    data = prepare(conll_file(tmp_path / "ner.conll"), tokenizer=load_tokenizer(str(tiny_model_dir)))
    assert data.task == TOKEN_TASK and "B-PER" in data.labels
    run_dir = create_run(tmp_path, "ner")
    config = TrainConfig(
        model=str(tiny_model_dir), task=TOKEN_TASK, epochs=2, batch_size=8, learning_rate=5e-3
    )
    result = fit(config, data, run_dir)
    test = result.metrics["test"]
    assert {"f1", "micro_f1", "macro_f1", "token_accuracy", "per_class", "confusion_matrix"} <= set(test)
    assert "O" in test["confusion_matrix"]["labels"]
    frame = pd.read_csv(run_dir / "predictions.csv")
    assert list(frame.columns[:3]) == ["tokens", "gold", "predicted"]

    ner = pipeline("token-classification", model=str(run_dir / "model"), aggregation_strategy="simple")
    assert [ner.model.config.id2label[i] for i in range(len(data.labels))] == data.labels
    entities = ner("Anna Berg joined Acme in Oslo .")
    assert all(e["entity_group"] in {"PER", "ORG", "LOC"} for e in entities)

    model = RunModel.load(run_dir)
    tags = model.predict_tags([["Anna", "Berg", "joined", "Acme"]]).tags[0]
    assert len(tags) == 4 and set(tags) <= set(data.labels)


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
