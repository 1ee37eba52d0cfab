"""trainer.data.splits: train/validation/test from files, a split column, or a seeded stratified split."""

from __future__ import annotations

import json
from collections import Counter

import pandas as pd
from data_helpers import LABELS, balanced, error_of, labeled_rows, write_csv

from trainer.prepare import prepare


def test_stratified_even_with_a_rare_label(tmp_path):
    data = prepare(write_csv(tmp_path / "s.csv", labeled_rows({**dict.fromkeys("abcd", 50), "rare": 5})))
    for split in (data.validation, data.test):
        counts = Counter(split.labels)
        assert all(counts[label] in (4, 5, 6) for label in "abcd"), counts
    assert Counter(data.train.labels)["rare"] >= 2
    assert not any("Too few rows per label" in n for n in data.report.notes)


def test_too_few_rows_to_split(tmp_path):
    rows = labeled_rows({"a": 3, "b": 3})
    message = error_of(prepare, write_csv(tmp_path / "few.csv", rows))
    assert message.startswith("Only 6 usable rows: too few to set some aside for validation and testing")
    assert "--eval-file" in message
    assert len(prepare(tmp_path / "few.csv", val_fraction=0, test_fraction=0).train) == 6


def test_default_split_sizes_and_stratification(tmp_path):
    data = prepare(write_csv(tmp_path / "s.csv", labeled_rows({"a": 100, "b": 60, "c": 40})))
    assert (len(data.train), len(data.validation), len(data.test)) == (160, 20, 20)
    assert Counter(data.validation.labels) == {"a": 10, "b": 6, "c": 4}
    assert Counter(data.test.labels) == {"a": 10, "b": 6, "c": 4}
    assert data.report.split_sizes == {"train": 160, "validation": 20, "test": 20}
    everything = data.train.texts + data.validation.texts + data.test.texts
    assert len(set(everything)) == 200


def test_split_is_seeded(tmp_path):
    path = balanced(tmp_path)
    first, again, other = prepare(path, seed=1), prepare(path, seed=1), prepare(path, seed=2)
    assert first.test.texts == again.test.texts
    assert first.test.texts != other.test.texts


def test_custom_fractions(tmp_path):
    data = prepare(balanced(tmp_path, 40), val_fraction=0.25, test_fraction=0)
    assert (len(data.train), len(data.validation), len(data.test)) == (90, 30, 0)
    assert data.test.to_frame().columns.tolist() == ["text", "label", "row"]
    assert "add up to less than 1" in error_of(
        prepare, balanced(tmp_path), val_fraction=0.6, test_fraction=0.5
    )


def test_eval_file_is_validation_and_test(tmp_path):
    train = balanced(tmp_path, 10, "train.csv")
    evaluation = write_csv(tmp_path / "eval.csv", labeled_rows(dict.fromkeys(LABELS, 2), prefix="eval"))
    data = prepare(train, eval_data=("eval.csv", evaluation.read_bytes()))  # an upload
    assert len(data.train) == 30
    assert data.validation is data.test and len(data.test) == 6
    assert data.report.rows_used == 36


def test_eval_and_test_files(tmp_path):
    train = balanced(tmp_path, 10, "train.csv")
    evaluation = write_csv(tmp_path / "eval.jsonl", [])
    (tmp_path / "eval.jsonl").write_text(
        "\n".join(json.dumps(r) for r in labeled_rows({"positive": 1, "negative": 1}, "v")), "utf-8"
    )
    test = write_csv(tmp_path / "test.csv", labeled_rows(dict.fromkeys(LABELS, 1), prefix="t"))
    data = prepare(train, eval_data=evaluation, test_data=test)
    assert (len(data.train), len(data.validation), len(data.test)) == (30, 2, 3)
    assert data.test.texts[0] == "t 0 is positive"


def test_eval_file_with_other_column_names_and_missing_columns(tmp_path):
    train = balanced(tmp_path, 10, "train.csv")
    other = write_csv(tmp_path / "e.csv", [{"sentence": "so good", "category": "positive"}] * 1)
    assert prepare(train, eval_data=other).validation.texts == ["so good"]
    bad = write_csv(tmp_path / "bad.csv", [{"a": "1"}])
    assert error_of(prepare, train, eval_data=bad).startswith(
        '"bad.csv" has no column "text". Columns found: a.'
    )


def test_test_file_only_splits_validation_from_the_main_file(tmp_path):
    test = write_csv(tmp_path / "test.csv", labeled_rows(dict.fromkeys(LABELS, 2), prefix="t"))
    data = prepare(balanced(tmp_path, 20), test_data=test)
    assert (len(data.train), len(data.validation), len(data.test)) == (54, 6, 6)


def test_split_column_is_used(tmp_path):
    rows = labeled_rows(dict.fromkeys(LABELS, 10))
    for i, row in enumerate(rows):
        row["split"] = ["train", "train", "train", "dev", "TEST"][i % 5]
    data = prepare(write_csv(tmp_path / "s.csv", rows))
    assert (len(data.train), len(data.validation), len(data.test)) == (18, 6, 6)
    assert data.text_column == "text" and data.label_column == "label"
    assert 'Used the split column "split".' in data.report.notes
    assert len(prepare(tmp_path / "s.csv", split_column="split").train) == 18


def test_split_column_with_unknown_values(tmp_path):
    rows = labeled_rows(dict.fromkeys(LABELS, 10))
    for i, row in enumerate(rows):
        row["fold"] = ["a", "b"][i % 2]
        row["split"] = ["a", "b"][i % 2]
    path = write_csv(tmp_path / "s.csv", rows)
    message = error_of(prepare, path, split_column="fold")
    assert message.startswith('The split column "fold" has values Insight does not know: a, b.')
    auto = prepare(path)
    assert len(auto.train) == 24, "an auto-detected column with unknown values is ignored"
    assert any("was ignored" in n for n in auto.report.notes)


def test_split_to_frame(tmp_path):
    data = prepare(balanced(tmp_path))
    frame = data.train.to_frame()
    assert frame.columns.tolist() == ["text", "label", "row"] and len(frame) == 72
    assert frame.iloc[0].tolist() == [data.train.texts[0], data.train.labels[0], data.train.rows[0]]
    rows = data.train.rows + data.validation.rows + data.test.rows
    assert sorted(rows) == list(range(90)), "every row of the file, once, by its position in the file"
    original = pd.read_csv(tmp_path / "data.csv")
    assert original["text"][data.test.rows[0]] == data.test.texts[0]
