"""trainer.embeddings: the map's points and vectors, stored once in the run folder."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from test_predict import LABELS, saved_run

from trainer import embeddings
from trainer.predict import RunModel
from trainer.runs import RunFolder, load_run


def test_entity_words_are_the_words_in_a_true_or_predicted_entity():
    frame = pd.DataFrame({"text": ["Anna Berg left", "rain today"], "gold": ["B-PER I-PER O", "O O"],
                          "split": ["test", "test"]})  # fmt: skip
    words = embeddings.entity_words(
        frame, [["B-PER", "O", "O"], ["O", "B-LOC"]], [[0.9, 0.5, 1.0], [1.0, 0.6]]
    )
    assert words[["text", "gold", "predicted", "sentence_id", "word"]].values.tolist() == [
        ["Anna", "PER", "PER", 0, 0],
        ["Berg", "PER", "O", 0, 1],
        ["today", "O", "LOC", 1, 1],
    ]


def test_the_map_is_computed_once_and_saved(tmp_path, tiny_model_dir):
    run_dir = saved_run(tmp_path, tiny_model_dir, "AutoModelForSequenceClassification", LABELS)
    folder = RunFolder(run_dir)
    pd.DataFrame(
        {"text": ["good", "bad", "fine"], "gold": LABELS[::-1], "predicted": LABELS, "confidence": 1.0}
    ).pipe(folder.write_predictions)
    folder.config_file.write_text(json.dumps({"model": str(tiny_model_dir), "task": "text-classification"}))
    run = load_run(run_dir)
    assert not embeddings.ready(run_dir, "test")
    seen = []
    embeddings.compute(RunModel.load(run_dir), run, "test", progress=lambda d, t: seen.append((d, t)))
    assert embeddings.ready(run_dir, "test") and seen[-1] == (6, 6)
    frame, after, before, why = embeddings.load(run_dir, "test")
    assert frame["text"].tolist() == ["good", "bad", "fine"] and after.shape == before.shape == (3, 32)
    assert why is None and np.allclose(after, before, atol=1e-5), (
        "not fine-tuned: 'before' is this same encoder"
    )
    xy = embeddings.projected(after, "pca", run_dir)
    assert xy.shape == (3, 2) and embeddings.has_projection(after, "pca", run_dir)
    embeddings.forget(run_dir, "test")
    assert not embeddings.ready(run_dir, "test")
