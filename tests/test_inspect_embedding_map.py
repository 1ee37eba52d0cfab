"""trainer.inspect.embedding_map: the map's points and vectors, stored once in the run folder."""

from __future__ import annotations

import pandas as pd
import pytest

from trainer.inspect import embedding_map as embeddings
from trainer.runs import RunFolder, load_run
from trainer.runs.predictor import RunModel

# Numerics: `make test` runs this module again under the AVX2-only kernels (pyproject's `kernels`).
pytestmark = pytest.mark.kernels


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


def saved_text_run(tmp_path, tiny_model_dir, n=120):
    """A run as fine-tuning leaves it: splits, model, and the evaluation pass's vectors of val/test."""
    from helpers import sentiment_csv

    from trainer.config import TrainConfig
    from trainer.prepare import prepare
    from trainer.runs import create_run
    from trainer.train.fit import fit

    data = prepare(sentiment_csv(tmp_path / "s.csv", n=n))
    run_dir = create_run(tmp_path / "runs", "map")
    config = TrainConfig(model=str(tiny_model_dir), epochs=1, batch_size=16, learning_rate=1e-3)
    RunFolder(run_dir).write_inputs(config.to_dict(), data)
    fit(config, data, run_dir)
    return run_dir, data


def test_points_and_a_stratified_first_sample(tmp_path, tiny_model_dir):
    run_dir, data = saved_text_run(tmp_path, tiny_model_dir)
    run = load_run(run_dir)
    every = embeddings.points(run, "all")
    assert len(every) == 120 and set(every["split"]) == {"train", "validation", "test"}
    known = every.dropna(subset=["predicted"])
    assert set(known["split"]) == {"validation", "test"}, "fine-tuning's own pass gave their predictions"
    assert every.loc[every["split"] == "test", "row"].tolist() == data.test.rows
    sample = embeddings.choose_sample(every, {"validation", "test"}, size=12)
    assert len(sample) == 12 and set(sample["split"]) <= {"validation", "test"}
    assert sample["gold"].value_counts().to_dict() == {"negative": 4, "neutral": 4, "positive": 4}


@pytest.mark.parametrize("bf16", ["on", "off"])
def test_the_map_starts_with_a_sample_then_every_example_once(tmp_path, tiny_model_dir, bf16, monkeypatch):
    """The same map on both CPU paths: bf16 tried (checked against fp32 first) and fp32 forced."""
    monkeypatch.setenv("INSIGHT_CPU_BF16", bf16)
    run_dir, _ = saved_text_run(tmp_path, tiny_model_dir)
    run, model = load_run(run_dir), RunModel.load(run_dir)
    folder = RunFolder(run_dir)
    assert embeddings.load(run, "all") is None
    seen = []

    def stop_after_the_sample() -> bool:
        return bool(seen) and seen[-1][0] >= 24

    embeddings.compute(
        model, run, "all", progress=lambda d, t: seen.append((d, t)), should_stop=stop_after_the_sample
    )
    first = embeddings.load(run, "all")
    assert first.stage == "sample" and len(first.frame) == 24 and first.total == 120
    assert first.before.shape == first.after.shape == (24, 32)
    assert not folder.vector_file("backbone", "train").exists()
    embeddings.compute(model, run, "all", progress=lambda d, t: seen.append((d, t)))
    full = embeddings.load(run, "all")
    assert (
        full.stage == "full" and len(full.frame) == 120 and full.after.shape == full.before.shape == (120, 32)
    )
    assert full.frame["predicted"].notna().all(), "the training split's predictions came with its vectors"
    stamp = folder.vector_file("finetuned", "test").stat().st_mtime_ns
    embeddings.compute(model, run, "all")
    assert folder.vector_file("finetuned", "test").stat().st_mtime_ns == stamp, "computed once"
    xy = embeddings.projected(full.after, "pca", run_dir)
    assert xy.shape == (120, 2) and embeddings.has_projection(full.after, "pca", run_dir)
    check = folder.inference()["backbone"]
    if bf16 == "on":
        assert check["checked"] > 0, "bf16 was checked against fp32 for the backbone"
    else:
        assert (check["checked"], check["precision"]) == (0, None), check["reason"]
