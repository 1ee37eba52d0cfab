"""trainer.data.rows: rows into examples: dropped rows counted, duplicates, label spellings, token rows."""

from __future__ import annotations

import json

from data_helpers import LABELS, error_of, labeled_rows, write_csv

from trainer.prepare import prepare
from trainer.tasks import TOKEN_TASK


def test_dropped_rows_are_counted_by_reason(tmp_path):
    rows = labeled_rows(dict.fromkeys(LABELS, 10))
    rows += [
        {"text": "   ", "label": "positive"},
        {"text": "", "label": "neutral"},
        {"text": "x", "label": " "},
    ]
    data = prepare(write_csv(tmp_path / "d.csv", rows))
    report = data.report
    assert report.rows_read == 33
    assert report.dropped == {"empty text": 2, "missing label": 1}
    assert report.rows_used == 30 == len(data.train) + len(data.validation) + len(data.test)


def test_exact_duplicates_dropped_conflicts_kept_and_warned(tmp_path):
    rows = labeled_rows(dict.fromkeys(LABELS, 10))
    rows += [dict(rows[0]), dict(rows[0]), {"text": rows[1]["text"], "label": "positive"}]
    report = prepare(write_csv(tmp_path / "d.csv", rows)).report
    assert report.dropped == {"duplicate row": 2}
    assert report.duplicate_texts == 3
    assert report.conflicting_duplicates == 1
    assert report.rows_used == 31
    assert any("Removed 2 exact duplicate rows" in n for n in report.notes)
    assert any("1 text appears more than once with different labels" in w for w in report.warnings)
    assert any("item 1 is negative" in w for w in report.warnings)


def test_labels_differing_by_case_or_spaces_are_merged(tmp_path):
    rows = labeled_rows(dict.fromkeys(LABELS, 10))
    rows += [{"text": "extra a", "label": "Positive"}, {"text": "extra b", "label": "positive "}]
    data = prepare(write_csv(tmp_path / "m.csv", rows))
    assert data.labels == ["negative", "neutral", "positive"]
    assert data.report.merged_labels == {"positive": ["Positive", "positive "]}
    assert 'Merged "Positive", "positive " into "positive".' in data.report.notes
    assert data.report.label_counts["positive"] == 12


def test_labels_with_invisible_characters_are_merged_and_the_note_shows_where_they_were(tmp_path):
    rows = labeled_rows(dict.fromkeys(LABELS, 10))
    rows += [{"text": "extra a", "label": "p\u200bositive"}, {"text": "extra b", "label": "\u202epositive"}]
    data = prepare(write_csv(tmp_path / "m.csv", rows))
    assert data.labels == ["negative", "neutral", "positive"], "three labels, not five"
    assert data.report.label_counts["positive"] == 12
    assert 'Merged "p<U+200B>ositive", "<U+202E>positive" into "positive".' in data.report.notes


def test_token_csv_with_json_lists_and_mismatch_row_named(tmp_path):
    rows = [
        {"words": json.dumps(["John", f"runs{i}"]), "ner_tags": json.dumps(["B-PER", "O"])} for i in range(20)
    ]
    data = prepare(write_csv(tmp_path / "j.csv", rows))
    assert data.task == TOKEN_TASK
    assert (data.text_column, data.label_column) == ("words", "ner_tags")
    assert data.train.tokens[0][0] == "John"
    rows[6]["ner_tags"] = json.dumps(["B-PER"])
    message = error_of(prepare, write_csv(tmp_path / "bad.csv", rows))
    assert message.startswith('Row 7 of "bad.csv" has 2 words but 1 tags')
    assert "Every word needs exactly one tag" in message


def test_token_jsonl_with_real_lists(tmp_path):
    lines = [
        json.dumps({"tokens": ["Anna", f"x{i}", "Berlin"], "tags": ["B-PER", "O", "B-LOC"]})
        for i in range(20)
    ]
    (tmp_path / "t.jsonl").write_text("\n".join(lines), "utf-8")
    data = prepare(tmp_path / "t.jsonl")
    assert data.task == TOKEN_TASK
    assert data.report.entity_counts == {"LOC": 20, "PER": 20}


def test_chinese_without_spaces_is_split_into_characters(tmp_path):
    rows = [{"文本": f"我爱北京{i % 10}", "标签": "O O B-LOC I-LOC O"} for i in range(20)]
    data = prepare(write_csv(tmp_path / "zh.csv", rows), task=TOKEN_TASK)
    assert data.train.tokens[0] == ["我", "爱", "北", "京", "0"]
    assert data.train.texts[0] == "我 爱 北 京 0"
    assert any("split into characters" in n for n in data.report.notes)
