"""trainer.data.checks: enough examples of each class, balance, labels the model never saw."""

from __future__ import annotations

from collections import Counter

import pytest
from data_helpers import balanced, error_of, labeled_rows, people_conll, write_csv

from trainer.data import DataError
from trainer.prepare import prepare


def test_only_one_class_is_an_error(tmp_path):
    rows = [{"text": f"t {i}", "label": "spam"} for i in range(20)]
    message = error_of(prepare, write_csv(tmp_path / "one.csv", rows))
    assert message.startswith('Every training row has the same label ("spam").')
    assert "--label-column" in message


def test_a_class_with_one_example_is_an_error_and_the_report_is_attached(tmp_path):
    rows = labeled_rows({"positive": 10, "negative": 10}) + [{"text": "lonely", "label": "refund"}]
    with pytest.raises(DataError) as info:
        prepare(write_csv(tmp_path / "r.csv", rows))
    assert 'fewer than 2 examples in the training data: "refund"' in str(info.value)
    assert info.value.report is not None
    assert info.value.report.errors == [str(info.value)]
    assert not info.value.report.ok


def test_rare_classes_warned_and_kept_in_training(tmp_path):
    rows = labeled_rows({"positive": 40, "negative": 40, "refund": 2})
    data = prepare(write_csv(tmp_path / "r.csv", rows))
    assert data.train.labels.count("refund") == 2
    assert any('"refund" (2)' in w and "Few training examples" in w for w in data.report.warnings)
    assert any('kept in training only: "refund"' in n for n in data.report.notes)


def test_imbalance_ratio_and_warning(tmp_path):
    data = prepare(write_csv(tmp_path / "i.csv", labeled_rows({"ham": 220, "spam": 15})))
    assert Counter(data.train.labels) == {"ham": 175, "spam": 12}
    assert data.report.imbalance_ratio == round(175 / 12, 2)
    assert any("unbalanced" in w and "--class-weights" in w for w in data.report.warnings)
    calm = prepare(balanced(tmp_path)).report
    assert calm.imbalance_ratio == 1.0
    assert not any("unbalanced" in w for w in calm.warnings)


def test_unseen_labels_in_eval_file_are_dropped_and_warned(tmp_path):
    train = balanced(tmp_path, 10, "train.csv")
    evaluation = labeled_rows({"positive": 2, "negative": 2, "angry": 3}, prefix="eval")
    data = prepare(train, eval_data=write_csv(tmp_path / "eval.csv", evaluation))
    assert data.report.unseen_labels == {"validation": ["angry"], "test": ["angry"]}
    assert data.report.dropped == {"label not in training data": 3}
    assert len(data.validation) == len(data.test) == 4
    assert any('"angry"' in w and "left out (3 rows)" in w for w in data.report.warnings)
    assert data.report.rows_read - sum(data.report.dropped.values()) == data.report.rows_used == 34


def test_every_tag_o_is_an_error_unless_only_reading(tmp_path):
    (tmp_path / "o.conll").write_text("".join(f"w{i} O\nx O\n\n" for i in range(20)), "utf-8")
    assert error_of(prepare, tmp_path / "o.conll").startswith("Every word is tagged O")
    read = prepare(tmp_path / "o.conll", val_fraction=0, test_fraction=0)
    assert len(read.train) == 20 and any("tagged O" in w for w in read.report.warnings)


def test_unseen_entity_types_in_eval_file_are_dropped(tmp_path):
    (tmp_path / "train.conll").write_text(people_conll(), "utf-8")
    (tmp_path / "eval.conll").write_text("Acme B-ORG\nwins O\n\nAnn B-PER\nwins O\n\n", "utf-8")
    data = prepare(tmp_path / "train.conll", eval_data=tmp_path / "eval.conll")
    assert data.report.unseen_labels == {"validation": ["B-ORG"], "test": ["B-ORG"]}
    assert data.validation.tokens == [["Ann", "wins"]]


def test_more_labels_than_the_limit_are_refused_naming_the_setting(tmp_path, monkeypatch):
    rows = labeled_rows({f"intent {i}": 4 for i in range(12)})
    path = write_csv(tmp_path / "many.csv", rows)
    monkeypatch.setenv("INSIGHT_MAX_LABELS", "10")
    with pytest.raises(DataError) as info:
        prepare(path)
    assert str(info.value).startswith("The data holds 12 different labels, more than the limit of 10")
    assert "INSIGHT_MAX_LABELS" in str(info.value) and info.value.report.errors == [str(info.value)]
    monkeypatch.setenv("INSIGHT_MAX_LABELS", "12")
    assert len(prepare(path).labels) == 12


def test_a_label_without_a_validation_or_test_example_is_named(tmp_path):
    rows = labeled_rows({"positive": 30, "negative": 30, "refund": 2})
    report = prepare(write_csv(tmp_path / "r.csv", rows)).report
    assert report.missing_held_out == {"validation": ["refund"], "test": ["refund"]}
    said = next(w for w in report.warnings if "no validation example" in w)
    assert said.startswith("1 label has no validation example and 1 label has no test example")
    assert '"refund"' in said
    full = prepare(write_csv(tmp_path / "ok.csv", labeled_rows({"positive": 30, "negative": 30})))
    assert full.report.missing_held_out == {} and not any(
        "no validation example" in w for w in full.report.warnings
    )


def test_a_data_error_crosses_a_process_boundary_whole():
    import pickle

    from trainer.data import ValidationReport

    report = ValidationReport()
    error = pickle.loads(pickle.dumps(DataError("bad", report, "label_column")))
    assert (error.message, error.setting, type(error.report)) == ("bad", "label_column", ValidationReport)


def id_rows(n: int = 200) -> list[dict[str, str]]:
    """Reviews with an id column: `n` distinct ids, three real labels in "sentiment"."""
    return [
        {
            "id": f"R{1000 + i}",
            "review": f"review {i} of the shop",
            "sentiment": ["good", "bad", "meh"][i % 3],
        }
        for i in range(n)
    ]


def test_an_id_column_as_the_label_is_called_an_id_and_the_label_column_is_proposed(tmp_path, capsys):
    from trainer.cli import main

    path = write_csv(tmp_path / "ids.csv", id_rows())
    message = error_of(prepare, path, text_column="review", label_column="id")
    assert message.startswith('The label column "id" has 200 different values in 200 rows')
    assert "looks like text or an id" in message and '"sentiment" (3 different values)' in message
    assert '"R1004"' in message and "R1005" not in message and "and 195 more" in message
    assert "INSIGHT_MAX_LABELS" not in message and "--label-column" in message
    assert main(["check", str(path), "--text-column", "review", "--label-column", "id"]) == 2
    err = capsys.readouterr().err
    assert "looks like text or an id" in err and len(err) < 700, err


def test_swapped_columns_are_called_swapped_and_listed_values_are_cut_short(tmp_path):
    rows = [{"text": f"a long review number {i} " + "word " * 30, "label": ["good", "bad"][i % 2]}
            for i in range(120)]  # fmt: skip
    path = write_csv(tmp_path / "swap.csv", rows)
    with pytest.raises(DataError) as info:
        prepare(path, text_column="label", label_column="text")
    message = str(info.value)
    assert "look swapped" in message and '"label" (2 different values)' in message
    assert len(message) < 800 and "and 115 more" in message, message
    assert all(len(w) < 800 for w in info.value.report.warnings), info.value.report.warnings


def test_a_small_file_with_a_few_rare_labels_keeps_the_rare_label_message(tmp_path):
    rows = labeled_rows({"positive": 10, "negative": 10})
    rows += [{"text": f"odd {i}", "label": f"x{i}"} for i in range(30)]
    message = error_of(prepare, write_csv(tmp_path / "rare.csv", rows))
    assert message.startswith("These labels have fewer than 2 examples") and "and 25 more" in message
