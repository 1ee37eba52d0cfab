"""trainer.inspect.corrections: the user's keep/drop/relabel decisions applied to a run's data."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers import sentiment_csv

from trainer.config import TrainConfig
from trainer.inspect.corrections import Correction, corrected_dataset
from trainer.prepare import prepare
from trainer.runs import RunFolder, create_run, load_run


@pytest.fixture
def text_run(tmp_path):
    """A run folder with its splits saved (no model needed for corrections)."""
    data = prepare(sentiment_csv(tmp_path / "s.csv", n=60))
    run_dir = create_run(tmp_path / "runs", "corrections")
    RunFolder(run_dir).write_inputs(TrainConfig().to_dict(), data)
    return run_dir


def test_corrected_dataset_drops_and_relabels_the_marked_test_rows(text_run):
    run = load_run(text_run)
    test = run.split("test")
    fixed = corrected_dataset(run, {0: Correction.drop(), 1: Correction.relabel("zzz")})
    total = sum(len(run.split(s)) for s in ("train", "validation", "test"))
    assert len(fixed) == total - 1
    assert (fixed["label"] == "zzz").sum() == 1
    everything = pd.concat([run.split(s) for s in ("train", "validation", "test")])
    dropped = test.iloc[0]["text"]
    assert (fixed["text"] == dropped).sum() == (everything["text"] == dropped).sum() - 1


def test_a_correction_says_what_it_does_and_refuses_nonsense():
    assert not Correction().changes and Correction.drop().changes
    assert Correction.relabel("pos") == Correction("relabel", "pos")
    with pytest.raises(ValueError, match="new label"):
        Correction("relabel")
    with pytest.raises(ValueError, match="keep, drop, relabel"):
        Correction("delete")


def test_decisions_apply_to_any_split_and_to_one_word_of_a_sentence(text_run, tmp_path):
    run = load_run(text_run)
    train = run.split("train")
    fixed = corrected_dataset(
        run, {("train", 0, None): Correction.drop(), ("validation", 1, None): Correction.relabel("zzz")}
    )
    total = sum(len(run.split(s)) for s in ("train", "validation", "test"))
    assert len(fixed) == total - 1 and (fixed["label"] == "zzz").sum() == 1
    assert (
        train.iloc[0]["text"] not in set(fixed["text"]) or (train["text"] == train.iloc[0]["text"]).sum() > 1
    )

    from helpers import conll_file

    data = prepare(conll_file(tmp_path / "n.conll", n=30))
    ner_dir = create_run(tmp_path / "runs", "entities")
    RunFolder(ner_dir).write_inputs(TrainConfig(task=data.task).to_dict(), data)
    ner = load_run(ner_dir)
    sentence = ner.split("test").iloc[0]["tags"].split()
    fixed = corrected_dataset(ner, {("test", 0, 0): Correction.relabel("B-LOC")})
    test_rows = fixed.iloc[-len(ner.split("test")) :]
    assert test_rows.iloc[0]["label"].split() == ["B-LOC", *sentence[1:]], "only that word's tag changed"


def test_decisions_are_saved_in_the_run_folder_and_read_back(text_run):
    from trainer.inspect import corrections

    decided = {("train", 3, None): Correction.drop(), ("test", 1, 2): Correction.relabel("B-LOC"),
               ("validation", 0, None): Correction()}  # fmt: skip
    corrections.save(text_run, decided)
    assert corrections.load(text_run) == {k: v for k, v in decided.items() if v.changes}, "keep is not stored"
    RunFolder(text_run).corrections_file.write_text(
        '[{"split": "train"}, {"split": "test", "row": 1, "action": "drop"}]'
    )
    assert corrections.load(text_run) == {("test", 1, None): Correction.drop()}, "a damaged record is skipped"
    RunFolder(text_run).corrections_file.write_text("{broken")
    assert corrections.load(text_run) == {}
