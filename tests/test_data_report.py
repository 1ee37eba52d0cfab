"""trainer.data.report: the validation report and the tokenizer checks (lengths, unknown words)."""

from __future__ import annotations

import json

import pytest
from data_helpers import balanced, labeled_rows, write_csv

from trainer.data import DataError, choose_max_length
from trainer.prepare import prepare


def test_report_to_dict_is_json_and_to_text_is_readable(tmp_path, tokenizer):
    report = prepare(balanced(tmp_path), tokenizer=tokenizer).report
    restored = json.loads(json.dumps(report.to_dict()))
    assert restored["ok"] is True
    assert restored["split_counts"]["train"] == {"positive": 24, "negative": 24, "neutral": 24}
    text = report.to_text()
    assert "Rows: 90 read, 0 dropped, 90 used" in text
    assert "Splits: train 72, validation 9, test 9" in text
    assert "Max length: 16 tokens" in text


def test_choose_max_length():
    assert choose_max_length(list(range(1, 101)), 512) == 104  # p99 = 99.01 -> 100 -> 104
    assert choose_max_length([5] * 50, 512) == 16
    assert choose_max_length([300] * 50, 256) == 256
    assert choose_max_length([40] * 199 + [1000], 512) == 40  # one outlier in 200 does not set the length
    assert choose_max_length([40] * 99 + [1000], 512) == 56  # p99 interpolates: 49.6 -> 50 -> 56
    assert choose_max_length([], 512) == 16


def test_max_length_chosen_and_truncation_warned(tmp_path, tokenizer):
    rows = labeled_rows({"a": 50, "b": 50})
    for i in range(0, 100, 10):  # 10% of texts are very long
        rows[i]["text"] = "word " * 300
        rows[i]["text"] += str(i)
    data = prepare(write_csv(tmp_path / "l.csv", rows), tokenizer=tokenizer)
    assert data.report.max_length == 304  # p99 of 303 tokens, rounded up to a multiple of 8
    assert data.report.truncated_share == 0.0
    fixed = prepare(tmp_path / "l.csv", tokenizer=tokenizer, max_length=64)
    assert fixed.report.max_length == 64
    assert fixed.report.truncated_share == pytest.approx(0.10)
    assert any(
        w.startswith("10 texts (10%) are longer than 64 tokens and will be cut")
        for w in fixed.report.warnings
    )


def test_chinese_text_with_an_english_model_is_an_error_that_says_how_to_add_a_model(tmp_path, tokenizer):
    rows = [{"文本": f"这个产品第{i}次非常好用", "标签": "正面" if i % 2 else "负面"} for i in range(40)]
    with pytest.raises(DataError) as caught:
        prepare(write_csv(tmp_path / "zh.csv", rows), tokenizer=tokenizer)
    report = caught.value.report
    assert report.unk_share > 0.3 and not report.ok
    (warning,) = [w for w in report.warnings if "unknown to this model" in w]
    assert "multilingual or Chinese backbone" in warning
    (error,) = report.errors
    assert error.startswith("100% of the letters in this text are Chinese characters, which")
    assert "does not read" in error and "bert-base-chinese" in error and "model.safetensors" in error
    english = prepare(balanced(tmp_path), tokenizer=tokenizer).report
    assert english.unk_share == 0.0 and english.ok


def test_model_max_length_caps_the_choice(tmp_path, tokenizer):
    rows = [{"text": "word " * 100 + str(i), "label": "ab"[i % 2]} for i in range(20)]
    report = prepare(write_csv(tmp_path / "c.csv", rows), tokenizer=tokenizer, model_max_length=64).report
    assert report.max_length == 64
    assert report.truncated_share == 1.0
