"""trainer.data: reading every format and encoding, column proposal, validation rules, splits, messages."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from trainer.data import (
    TEXT_TASK,
    TOKEN_TASK,
    DataError,
    choose_max_length,
    detect_encoding,
    detect_tag_scheme,
    prepare,
    propose_columns,
    propose_task,
    read_conll,
    read_table,
    repair_tags,
)

LABELS = ("positive", "negative", "neutral")


def labeled_rows(per_label: dict[str, int], prefix: str = "item") -> list[dict[str, str]]:
    """Distinct texts, `per_label[label]` of each label, interleaved."""
    rows, i = [], 0
    remaining = dict(per_label)
    while any(remaining.values()):
        for label in per_label:
            if remaining[label]:
                rows.append({"text": f"{prefix} {i} is {label}", "label": label})
                remaining[label] -= 1
                i += 1
    return rows


def write_csv(path: Path, rows: list[dict], **kwargs) -> Path:
    pd.DataFrame(rows).to_csv(path, index=False, **kwargs)
    return path


def balanced(tmp_path: Path, n: int = 30, name: str = "data.csv") -> Path:
    return write_csv(tmp_path / name, labeled_rows(dict.fromkeys(LABELS, n)))


def error_of(fn, *args, **kwargs) -> str:
    with pytest.raises(DataError) as info:
        fn(*args, **kwargs)
    return str(info.value)


@pytest.fixture(scope="module")
def tokenizer(real_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(real_model_dir)


# ---------------------------------------------------------------- encodings and formats


@pytest.mark.parametrize(
    ("encoding", "text", "label"),
    [
        ("utf-8", "Crème brûlée, très bon", "positive"),
        ("utf-8-sig", "Crème brûlée, très bon", "positive"),
        ("gb18030", "这个产品非常好用", "正面"),
        ("latin-1", "Müller's café, naïve", "négatif"),
        ("cp1252", "“Smart quotes” – and a dash", "neutral"),
    ],
)
def test_each_encoding_is_detected_and_the_bom_stripped(tmp_path, encoding, text, label):
    raw = f"text,label\n{text.replace(',', '')},{label}\nsecond row,{label}\n".encode(encoding)
    (tmp_path / "f.csv").write_bytes(raw)
    frame = read_table(tmp_path / "f.csv")
    assert list(frame.columns) == ["text", "label"], "no BOM left on the first column name"
    assert frame.loc[0, "text"] == text.replace(",", "")
    assert frame.loc[0, "label"] == label


def test_detect_encoding_tells_chinese_from_accented_latin():
    assert detect_encoding("评论内容很好".encode("gb18030")) == "gb18030"
    assert detect_encoding("Müller, Jürgen lives here".encode("latin-1")) in ("cp1252", "latin-1")
    assert detect_encoding(b"plain") == "utf-8"
    assert detect_encoding("\ufeffplain".encode()) == "utf-8-sig"
    assert detect_encoding("text\n".encode("utf-16")) == "utf-16"


def test_tsv_and_sniffed_delimiters(tmp_path):
    (tmp_path / "a.tsv").write_text("text\tlabel\ngood, really good\tpositive\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("text\tlabel\nbad; awful\tnegative\n", encoding="utf-8")
    (tmp_path / "c.csv").write_text("text;label\nok, fine\tstill;neutral\n", encoding="utf-8")
    assert read_table(tmp_path / "a.tsv").to_dict("records") == [
        {"text": "good, really good", "label": "positive"}
    ]
    assert read_table(tmp_path / "b.txt").to_dict("records") == [{"text": "bad; awful", "label": "negative"}]
    assert read_table(tmp_path / "c.csv").to_dict("records") == [
        {"text": "ok, fine\tstill", "label": "neutral"}
    ]


def test_quoted_multiline_cells_and_short_rows_are_kept_as_strings(tmp_path):
    (tmp_path / "q.csv").write_text(
        'text,label,score\n"line one\nline two, still",pos,1\nshort,neg\n', "utf-8"
    )
    frame = read_table(tmp_path / "q.csv")
    assert frame.loc[0, "text"] == "line one\nline two, still"
    assert frame.loc[0, "score"] == "1", "numbers stay strings"
    assert frame.loc[1, "score"] == "", "a missing trailing field is empty"


def test_jsonl_json_and_ndjson(tmp_path):
    records = [{"text": "great", "label": "pos", "n": 1.0}, {"text": "bad", "label": None, "extra": [1, 2]}]
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n\n", "utf-8")
    (tmp_path / "b.ndjson").write_text("\n".join(json.dumps(r) for r in records), "utf-8")
    (tmp_path / "c.json").write_text(json.dumps(records), "utf-8")
    (tmp_path / "d.json").write_text(json.dumps({"data": records}), "utf-8")
    for name in ("a.jsonl", "b.ndjson", "c.json", "d.json"):
        frame = read_table(tmp_path / name)
        assert list(frame.columns) == ["text", "label", "n", "extra"], name
        assert frame["label"].tolist() == ["pos", ""]
        assert frame["n"].tolist() == ["1", ""]
        assert frame.loc[1, "extra"] == "[1, 2]"


def test_an_upload_is_a_name_and_bytes(tmp_path):
    raw = "文本,标签\n很好,正面\n".encode("gb18030")
    frame = read_table(("评论.csv", raw))
    assert frame.to_dict("records") == [{"文本": "很好", "标签": "正面"}]
    assert propose_columns(frame) == ("文本", "标签")


def test_conll_reading_skips_docstart_and_takes_the_last_column(tmp_path):
    text = (
        "-DOCSTART- -X- -X- O\n\n"
        "EU NNP B-NP B-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP B-MISC\n\n"
        "Peter NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\n"
    )
    (tmp_path / "a.conll").write_text(text, "utf-8")
    (tmp_path / "b.txt").write_text("New York\tB-LOC\nis\tO\n\nParis\tB-LOC\n", "utf-8")
    tokens, tags = read_conll(tmp_path / "a.conll")
    assert tokens == [["EU", "rejects", "German"], ["Peter", "Blackburn"]]
    assert tags == [["B-ORG", "O", "B-MISC"], ["B-PER", "I-PER"]]
    assert read_conll(tmp_path / "b.txt") == ([["New York", "is"], ["Paris"]], [["B-LOC", "O"], ["B-LOC"]])
    frame = read_table(tmp_path / "b.txt")
    assert frame.to_dict("records")[1] == {"tokens": "Paris", "tags": "B-LOC"}
    assert propose_task(tmp_path / "b.txt") == TOKEN_TASK


# ---------------------------------------------------------------- file errors


def test_missing_file_and_folder(tmp_path):
    assert "File not found" in error_of(read_table, tmp_path / "nope.csv")
    assert "nope.csv" in error_of(prepare, str(tmp_path / "nope.csv"))
    assert "is a folder" in error_of(read_table, tmp_path)


@pytest.mark.parametrize("content", [b"", b"  \n\n", b"\xef\xbb\xbf\n"])
def test_empty_file(tmp_path, content):
    (tmp_path / "e.csv").write_bytes(content)
    message = error_of(read_table, tmp_path / "e.csv")
    assert message.startswith('The file "e.csv" is empty')


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a PNG image"),
        (b"PK\x03\x04\x14\x00\x06\x00", "a ZIP archive or an Excel/Word file"),
        (b"text,label\nabc\x00\x01\x02,pos\n", "binary data"),
    ],
)
def test_binary_file_renamed_csv(tmp_path, raw, kind):
    (tmp_path / "renamed.csv").write_bytes(raw)
    message = error_of(read_table, tmp_path / "renamed.csv")
    assert (
        message
        == f'"renamed.csv" is not a text file (it looks like {kind}). Save your data as CSV (UTF-8) and try again.'
    )


def test_unsupported_extension_suggests_csv(tmp_path):
    message = error_of(read_table, ("book.xlsx", b"PK\x03\x04"))
    assert "files ending in .xlsx are not supported" in message
    assert "CSV UTF-8" in message
    assert "not supported" in error_of(read_table, ("notes.docx", b"abc"))


def test_ragged_csv_names_the_line_and_field_counts(tmp_path):
    (tmp_path / "r.csv").write_text("text,label\nfine,pos\nslow, but ok,neg\nbad,neg\n", "utf-8")
    message = error_of(read_table, tmp_path / "r.csv")
    assert message.startswith('Line 3 of "r.csv" has 3 fields, but the header has 2.')
    assert "double quotes" in message


def test_trailing_empty_fields_are_not_ragged(tmp_path):
    (tmp_path / "t.csv").write_text("text,label\nfine,pos,,\n", "utf-8")
    assert read_table(tmp_path / "t.csv").to_dict("records") == [{"text": "fine", "label": "pos"}]


def test_bad_jsonl_line_is_named(tmp_path):
    (tmp_path / "b.jsonl").write_text('{"text": "a", "label": "x"}\n{"text": "b", label: "y"}\n', "utf-8")
    message = error_of(read_table, tmp_path / "b.jsonl")
    assert message.startswith('Line 2 of "b.jsonl" is not valid JSON')
    (tmp_path / "c.jsonl").write_text('{"text": "a"}\n["b", "y"]\n', "utf-8")
    assert "Line 2" in error_of(read_table, tmp_path / "c.jsonl")
    assert "is a JSON list, not an object" in error_of(read_table, tmp_path / "c.jsonl")


def test_json_must_hold_a_list_of_objects(tmp_path):
    (tmp_path / "j.json").write_text("[1, 2, 3]", "utf-8")
    assert "must hold a list of objects" in error_of(read_table, tmp_path / "j.json")
    (tmp_path / "k.json").write_text('[{"text": "a",}', "utf-8")
    assert "is not valid JSON (line 1" in error_of(read_table, tmp_path / "k.json")


def test_conll_line_without_tag_names_line_and_sentence(tmp_path):
    (tmp_path / "m.conll").write_text("John B-PER\nruns O\n\nMary B-PER\nsings\n", "utf-8")
    message = error_of(read_conll, tmp_path / "m.conll")
    assert message.startswith('Line 5 of "m.conll" (sentence 2) has a word but no tag: "sings".')


# ---------------------------------------------------------------- columns and task


def test_columns_proposed_by_name_case_insensitively():
    frame = pd.DataFrame({"ID": ["1", "2"], "Review": ["long text here", "more"], "Sentiment": ["a", "b"]})
    assert propose_columns(frame) == ("Review", "Sentiment")
    frame = pd.DataFrame({"评论": ["很好", "差"], "类别": ["正面", "负面"]})
    assert propose_columns(frame) == ("评论", "类别")


def test_columns_fallback_longest_text_and_low_cardinality():
    frame = pd.DataFrame(
        {
            "a": [str(i) for i in range(20)],
            "b": [f"a fairly long sentence number {i}" for i in range(20)],
            "c": ["x", "y"] * 10,
            "d": [f"short {i}" for i in range(20)],
        }
    )
    assert propose_columns(frame) == ("b", "c")


def test_split_column_is_never_proposed_as_the_label():
    frame = pd.DataFrame({"body": [f"t{i} words" for i in range(10)], "split": ["train"] * 8 + ["test"] * 2,
                          "k": ["u", "v", "w"] * 3 + ["u"]})  # fmt: skip
    assert propose_columns(frame) == ("body", "k")


def test_a_word_label_lexicon_is_a_text_task():
    lexicon = pd.DataFrame({"word": ["great", "awful", "fine"], "label": ["positive", "negative", "neutral"]})
    assert propose_task(lexicon) == TEXT_TASK
    assert propose_columns(lexicon) == ("word", "label")


def test_token_columns_and_task_by_name_and_by_content():
    named = pd.DataFrame({"words": ['["John", "runs"]'], "ner_tags": ['["B-PER", "O"]']})
    assert propose_task(named) == TOKEN_TASK
    assert propose_columns(named) == ("words", "ner_tags")
    by_content = pd.DataFrame({"s": ["John lives in Paris", "Hi"], "t": ["B-PER O O B-LOC", "O"]})
    assert propose_task(by_content) == TOKEN_TASK
    assert propose_columns(by_content, TOKEN_TASK) == ("s", "t")
    text = pd.DataFrame({"text": ["I love it", "bad"], "tags": ["sports", "news"]})
    assert propose_task(text) == TEXT_TASK


def test_named_column_missing_lists_the_columns(tmp_path):
    path = balanced(tmp_path)
    message = error_of(prepare, path, text_column="txt")
    assert message == (
        'There is no column "txt" in "data.csv". Columns found: text, label. '
        "Name one of them with --text-column (in the app: pick it in Columns)."
    )
    assert "--label-column" in error_of(prepare, path, label_column="Label")


def test_no_text_or_label_column(tmp_path):
    write_csv(tmp_path / "n.csv", [{"a": "1", "b": "2"}, {"a": "3", "b": "4"}])
    message = error_of(prepare, tmp_path / "n.csv")
    assert message.startswith("No column looks like text. Columns found: a, b. Name one with --text-column")
    write_csv(tmp_path / "o.csv", [{"text": f"t{i}"} for i in range(5)])
    assert error_of(prepare, tmp_path / "o.csv").startswith(
        "No column looks like the labels. Columns found: text. Name one with --label-column"
    )


def test_same_column_for_text_and_label(tmp_path):
    message = error_of(prepare, balanced(tmp_path), text_column="text", label_column="text")
    assert 'both the column "text"' in message


def test_unknown_task(tmp_path):
    assert "Unknown task" in error_of(prepare, balanced(tmp_path), task="regression")


# ---------------------------------------------------------------- validation rules


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


def test_stratified_even_with_a_rare_label(tmp_path):
    data = prepare(write_csv(tmp_path / "s.csv", labeled_rows({**dict.fromkeys("abcd", 50), "rare": 5})))
    for split in (data.validation, data.test):
        counts = Counter(split.labels)
        assert all(counts[label] in (4, 5, 6) for label in "abcd"), counts
    assert Counter(data.train.labels)["rare"] >= 2
    assert not any("Too few rows per label" in n for n in data.report.notes)


def test_imbalance_ratio_and_warning(tmp_path):
    data = prepare(write_csv(tmp_path / "i.csv", labeled_rows({"ham": 220, "spam": 15})))
    assert Counter(data.train.labels) == {"ham": 175, "spam": 12}
    assert data.report.imbalance_ratio == round(175 / 12, 2)
    assert any("unbalanced" in w and "--class-weights" in w for w in data.report.warnings)
    calm = prepare(balanced(tmp_path)).report
    assert calm.imbalance_ratio == 1.0
    assert not any("unbalanced" in w for w in calm.warnings)


def test_no_usable_rows(tmp_path):
    rows = [{"text": "", "label": "a"}, {"text": "b", "label": ""}]
    message = error_of(prepare, write_csv(tmp_path / "u.csv", rows))
    assert message.startswith('No usable rows in "u.csv" (empty text: 1, missing label: 1).')


def test_too_few_rows_to_split(tmp_path):
    rows = labeled_rows({"a": 3, "b": 3})
    message = error_of(prepare, write_csv(tmp_path / "few.csv", rows))
    assert message.startswith("Only 6 usable rows: too few to set some aside for validation and testing")
    assert "--eval-file" in message
    assert len(prepare(tmp_path / "few.csv", val_fraction=0, test_fraction=0).train) == 6


def test_unseen_labels_in_eval_file_are_dropped_and_warned(tmp_path):
    train = balanced(tmp_path, 10, "train.csv")
    evaluation = labeled_rows({"positive": 2, "negative": 2, "angry": 3}, prefix="eval")
    data = prepare(train, eval_data=write_csv(tmp_path / "eval.csv", evaluation))
    assert data.report.unseen_labels == {"validation": ["angry"], "test": ["angry"]}
    assert data.report.dropped == {"label not in training data": 3}
    assert len(data.validation) == len(data.test) == 4
    assert any('"angry"' in w and "left out (3 rows)" in w for w in data.report.warnings)
    assert data.report.rows_read - sum(data.report.dropped.values()) == data.report.rows_used == 34


def test_report_to_dict_is_json_and_to_text_is_readable(tmp_path, tokenizer):
    report = prepare(balanced(tmp_path), tokenizer=tokenizer).report
    restored = json.loads(json.dumps(report.to_dict()))
    assert restored["ok"] is True
    assert restored["split_counts"]["train"] == {"positive": 24, "negative": 24, "neutral": 24}
    text = report.to_text()
    assert "Rows: 90 read, 0 dropped, 90 used" in text
    assert "Splits: train 72, validation 9, test 9" in text
    assert "Max length: 16 tokens" in text


# ---------------------------------------------------------------- tokenizer checks


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


def test_unknown_words_warning_on_chinese_with_an_english_model(tmp_path, tokenizer):
    rows = [{"文本": f"这个产品第{i}次非常好用", "标签": "正面" if i % 2 else "负面"} for i in range(40)]
    report = prepare(write_csv(tmp_path / "zh.csv", rows), tokenizer=tokenizer).report
    assert report.unk_share > 0.3
    (warning,) = [w for w in report.warnings if "unknown to this model" in w]
    assert "multilingual or Chinese backbone" in warning
    english = prepare(balanced(tmp_path), tokenizer=tokenizer).report
    assert english.unk_share == 0.0


def test_model_max_length_caps_the_choice(tmp_path, tokenizer):
    rows = [{"text": "word " * 100 + str(i), "label": "ab"[i % 2]} for i in range(20)]
    report = prepare(write_csv(tmp_path / "c.csv", rows), tokenizer=tokenizer, model_max_length=64).report
    assert report.max_length == 64
    assert report.truncated_share == 1.0


# ---------------------------------------------------------------- splits


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
    assert data.test.to_frame().columns.tolist() == ["text", "label"]
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
    assert frame.columns.tolist() == ["text", "label"] and len(frame) == 72
    assert frame.iloc[0].tolist() == [data.train.texts[0], data.train.labels[0]]


# ---------------------------------------------------------------- token classification


def people_conll(n: int = 30) -> str:
    return "".join(f"Mary{i} B-PER\nSmith I-PER\nvisited O\nParis B-LOC\n\n" for i in range(n))


def test_token_task_from_conll_with_bio_repair(tmp_path, tokenizer):
    text = "John B-PER\nlives O\nin O\nNew I-LOC\nYork I-LOC\nwith O\nI-PER O\n\n" + people_conll()
    (tmp_path / "n.conll").write_text(text, "utf-8")
    data = prepare(tmp_path / "n.conll", tokenizer=tokenizer)
    assert data.task == TOKEN_TASK
    assert data.labels == ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]
    assert data.report.tag_scheme == "BIO"
    assert data.report.repaired_tags == 1
    assert data.report.entity_counts == {"LOC": 31, "PER": 31}
    sentences = dict(zip(data.train.texts + data.test.texts + data.validation.texts,
                         data.train.labels + data.test.labels + data.validation.labels, strict=True))  # fmt: skip
    assert sentences["John lives in New York with I-PER"] == ["B-PER", "O", "O", "B-LOC", "I-LOC", "O", "O"]
    assert data.text_column is None and data.label_column is None
    assert data.train.to_frame().columns.tolist() == ["tokens", "tags"]
    assert data.report.max_length == 16


def test_repair_tags_rules():
    assert repair_tags(["O", "I-PER", "I-PER", "B-LOC", "I-PER"]) == (
        ["O", "B-PER", "I-PER", "B-LOC", "B-PER"],
        2,
    )
    assert repair_tags(["B-PER", "I-PER", "O"]) == (["B-PER", "I-PER", "O"], 0)
    assert repair_tags(["O", "E-LOC", "B-PER", "E-PER"]) == (["O", "S-LOC", "B-PER", "E-PER"], 1)


def test_tag_scheme_detection():
    assert detect_tag_scheme(["O", "B-PER", "I-PER"]) == "BIO"
    assert detect_tag_scheme(["O", "B-PER", "I-PER", "E-PER", "S-LOC"]) == "IOBES"
    assert detect_tag_scheme(["O", "B-PER", "M-PER", "E-PER", "S-LOC"]) == "BMES"
    assert detect_tag_scheme(["O", "B-PER", "L-PER", "U-LOC"]) == "BILOU"
    assert detect_tag_scheme(["O", "I-PER"]) == "IO"
    assert detect_tag_scheme(["O", "PER", "LOC"]) == "IO"
    assert detect_tag_scheme(["0", "3", "7"]) == "unknown"


def test_iobes_labels_and_bmes_read_as_iobes(tmp_path):
    iobes = "".join(f"Ann{i} B-PER\nLee E-PER\nin O\nRome S-LOC\n\n" for i in range(30))
    (tmp_path / "a.bio").write_text(iobes, "utf-8")
    data = prepare(tmp_path / "a.bio")
    assert data.report.tag_scheme == "IOBES"
    assert data.labels == ["O", "B-LOC", "I-LOC", "E-LOC", "S-LOC", "B-PER", "I-PER", "E-PER", "S-PER"]
    bmes = "".join(f"张 B-PER\n三{i} M-PER\n丰 E-PER\n去 O\n京 S-LOC\n\n" for i in range(30))
    (tmp_path / "b.iob").write_text(bmes, "utf-8")
    data = prepare(tmp_path / "b.iob")
    assert data.report.tag_scheme == "BMES"
    assert data.train.labels[0] == ["B-PER", "I-PER", "E-PER", "O", "S-LOC"]
    assert any("read as IOBES (M- as I-)" in n for n in data.report.notes)


def test_io_and_bare_tags_become_bio(tmp_path):
    rows = [{"tokens": f"Ann Lee{i} met Bob", "tags": "PER PER O PER"} for i in range(30)]
    data = prepare(write_csv(tmp_path / "io.csv", rows), task="token")
    assert data.report.tag_scheme == "IO"
    assert data.train.labels[0] == ["B-PER", "I-PER", "O", "B-PER"]
    assert data.labels == ["O", "B-PER", "I-PER"]


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


def test_text_task_on_a_conll_file_is_refused(tmp_path):
    (tmp_path / "n.conll").write_text(people_conll(), "utf-8")
    assert "is a CoNLL file" in error_of(prepare, tmp_path / "n.conll", task=TEXT_TASK)


def test_import_is_cheap():
    heavy = "{'torch', 'transformers', 'streamlit', 'sklearn'}"
    code = f"import sys, trainer.data; print(sorted({heavy} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parents[1])  # fmt: skip
    assert out.stdout.strip() == "[]"
