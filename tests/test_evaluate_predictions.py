"""The predictions table: each adapter writes its own (trainer/tasks), trainer.evaluate.predictions reads it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from trainer.evaluate.predictions import (
    biggest_confusion,
    cell_rows,
    entity_errors,
    entity_types,
    misclassified,
    text_column,
)
from trainer.tasks import TEXT_TASK, TOKEN_TASK, get_task
from trainer.tasks.text import Predictions
from trainer.tasks.token import TagPredictions

predictions_frame = get_task(TEXT_TASK).predictions_frame  # each adapter writes its own table
tag_predictions_frame = get_task(TOKEN_TASK).predictions_frame

TEXTS = pd.DataFrame(
    {
        "text": ["a", "b", "c", "d"],
        "gold": ["pos", "neg", "neg", "pos"],
        "predicted": ["pos", "pos", "neg", "neg"],
        "confidence": [0.9, 0.6, 0.8, 0.95],
    }
)
SENTENCES = pd.DataFrame(
    {
        "tokens": ["Anna Berg left", "Acme hired Tom"],
        "gold": ["B-PER I-PER O", "B-ORG O B-PER"],
        "predicted": ["B-PER O O", "B-ORG O B-LOC"],
        "confidence": [0.7, 0.9],
    }
)


def test_tables_of_both_tasks():
    preds = Predictions(["pos", "neg"], np.array([[0.2, 0.8], [0.6, 0.4]]), ["neg", "pos"])
    frame = predictions_frame(["x", "y"], preds, ["pos", "pos"])
    assert frame["correct"].tolist() == [True, False] and frame["p_pos"].tolist() == [0.8, 0.4]
    tags = TagPredictions([["B-PER", "O"]], [[0.5, 1.0]], [np.zeros((2, 2))], ["O", "B-PER"])
    frame = tag_predictions_frame([["Anna", "ran"]], tags, [["B-PER", "O"]])
    assert frame.iloc[0].tolist() == ["Anna ran", "B-PER O", "B-PER O", 0.75, True]
    assert text_column(frame) == "tokens" and text_column(TEXTS) == "text"


def test_mistakes_most_confident_first_and_confusion_cells():
    assert misclassified(TEXTS)["text"].tolist() == ["d", "b"]
    assert cell_rows(TEXTS, "neg", "pos", by_word=False)["text"].tolist() == ["b"]
    assert cell_rows(SENTENCES, "PER", "LOC", by_word=True)["tokens"].tolist() == ["Acme hired Tom"]
    assert cell_rows(SENTENCES, "PER", "O", by_word=True)["tokens"].tolist() == ["Anna Berg left"]
    assert biggest_confusion(["neg", "pos"], [[5, 1], [3, 4]]) == ("pos", "neg")
    assert biggest_confusion(["neg", "pos"], [[5, 0], [0, 4]]) == ("neg", "neg")


def test_entity_errors_worst_first():
    table = entity_errors(SENTENCES)
    assert table[["missed", "wrong"]].values.tolist() == [[1, 1], [1, 1]]
    assert entity_types(["O", "B-PER", "I-PER", "B-LOC"]) == ["LOC", "PER"]
