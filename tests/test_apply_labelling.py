"""Back to training: doubtful rows out with the model's guess, labeled rows back in, a new run's data."""

from __future__ import annotations

import pandas as pd
import pytest

from trainer.apply import labelling
from trainer.data import DataError
from trainer.prepare import prepare
from trainer.runs import load_run


def results_with(rows: list[dict]) -> dict:
    return {"to_label": rows}


ROWS = [
    {"row": 0, "text": "sure thing", "predicted": "positive", "confidence": 0.9, "trusted": True},
    {"row": 1, "text": "meh", "predicted": "neutral", "confidence": 0.4, "trusted": True},
    {"row": 2, "text": "??? !!!", "predicted": "negative", "confidence": 0.7, "trusted": False},
    {"row": 3, "text": "hmm", "predicted": "neutral", "confidence": 0.35, "trusted": True},
]


def test_untrusted_rows_come_first_then_the_least_confident():
    picked = labelling.rows_to_label(results_with(ROWS), "untrusted", 3)
    assert [r["row"] for r in picked] == [2, 3, 1]
    assert [r["row"] for r in labelling.rows_to_label(results_with(ROWS), "uncertain", 2)] == [3, 1]


def test_the_file_to_label_has_the_guess_filled_in():
    frame = labelling.labelling_frame(ROWS, words=False)
    assert list(frame.columns[:4]) == ["row", "text", "label", "model_guess"]
    assert frame["label"].tolist() == frame["model_guess"].tolist() == [r["predicted"] for r in ROWS]
    entity = labelling.labelling_frame(
        [
            {
                "row": 0,
                "text": "Anna in Oslo",
                "words": "Anna in Oslo",
                "tags": "B-PER O B-LOC",
                "predicted": "PER",
                "confidence": 0.5,
                "trusted": True,
            }
        ],  # fmt: skip
        words=True,
    )
    assert entity.loc[0, "label"] == "B-PER O B-LOC" and entity.loc[0, "text"] == "Anna in Oslo"


def test_round_trip_keeps_the_test_split_and_adds_the_labeled_rows_to_train(tiny_text_run, tmp_path):
    run = load_run(tiny_text_run)
    known = str(run.split("train")["text"].iloc[0])  # a text the run already has: relabelled, not duplicated
    rows = [{"row": i, "text": f"brand new message {i} great", "predicted": "positive", "confidence": 0.4,
             "trusted": True} for i in range(12)]  # fmt: skip
    rows.append({"row": 99, "text": known, "predicted": "neutral", "confidence": 0.3, "trusted": False})
    download = tmp_path / "to-label.csv"
    labelling.labelling_frame(rows, words=False).to_csv(download, index=False)
    edited = pd.read_csv(download, keep_default_na=False)  # the person corrects labels in a spreadsheet
    edited.loc[0, "label"] = "negative"
    edited.loc[1, "label"] = ""  # left unlabeled: not used
    edited.loc[edited["text"] == known, "label"] = "neutral"
    edited.to_csv(download, index=False)
    labeled, said = labelling.read_labeled(download, words=False, labels=run.labels)
    assert len(labeled) == 12 and "1 without a label" in said
    combined = labelling.combined_dataset(run, labeled)
    sizes = {s: len(run.split(s)) for s in ("train", "validation", "test")}
    assert len(combined) == sum(sizes.values()) + 11
    assert combined.loc[combined["text"] == known, "label"].tolist() == ["neutral"]
    assert labelling.held_out_matches(run, labeled) == []
    source = tmp_path / "combined.csv"
    combined.to_csv(source, index=False)
    data = prepare(source, text_column="text", label_column="label", split_column="split")
    assert list(data.test.texts) == list(run.split("test")["text"])  # the same test split: runs pair up
    assert len(data.train.texts) == sizes["train"] + 11
    assert "brand new message 0 great" in data.train.texts
    assert data.train.labels[list(data.train.texts).index("brand new message 0 great")] == "negative"


def test_labeled_files_with_problems_get_a_clear_message(tmp_path):
    no_label = tmp_path / "a.csv"
    pd.DataFrame({"text": ["x"], "guess": ["y"]}).to_csv(no_label, index=False)
    with pytest.raises(DataError, match="needs the columns text and label"):
        labelling.read_labeled(no_label, words=False, labels=["a"])
    empty = tmp_path / "b.csv"
    pd.DataFrame({"text": ["x", "y"], "label": ["", ""]}).to_csv(empty, index=False)
    with pytest.raises(DataError, match="No row of the file has a label"):
        labelling.read_labeled(empty, words=False, labels=["a"])
    tags = tmp_path / "c.csv"
    pd.DataFrame({"text": ["Anna in Oslo"], "label": ["B-PER O"]}).to_csv(tags, index=False)
    with pytest.raises(DataError, match="different number of tags than words"):
        labelling.read_labeled(tags, words=True, labels=["O", "B-PER"])
    new = tmp_path / "d.csv"
    pd.DataFrame({"text": ["x"], "label": ["brand-new"]}).to_csv(new, index=False)
    _, said = labelling.read_labeled(new, words=False, labels=["a"])
    assert 'new labels the model did not have: "brand-new"' in said


def test_a_labeled_row_that_is_a_test_example_never_changes_the_test_split(tiny_text_run):
    run = load_run(tiny_text_run)
    test = run.split("test")
    text, label = str(test["text"].iloc[0]), str(test["label"].iloc[0])
    other = next(lab for lab in run.labels if lab != label)
    labeled = pd.DataFrame({"text": [text, "a brand new text"], "label": [other, label]})
    combined = labelling.combined_dataset(run, labeled)
    assert labelling.held_out_matches(run, labeled) == [text]
    rows = combined[combined["text"] == text]
    assert rows[["label", "split"]].values.tolist() == [[label, "test"]], "kept as it was, not trained on"
    assert combined[combined["split"] == "test"]["label"].tolist() == test["label"].astype(str).tolist()
