"""trainer.data.readers: every format and encoding, and a plain message for every file that cannot be read."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from data_helpers import error_of

from trainer.data import detect_encoding, read_conll, read_table
from trainer.prepare import prepare, propose_columns, propose_task
from trainer.tasks import TOKEN_TASK


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


def test_a_header_repeating_one_name_thousands_of_times_reads_in_linear_time(tmp_path, monkeypatch):
    import time

    path = tmp_path / "wide.csv"
    path.write_text(",".join(["a"] * 3000 + ["a.1"]) + "\n" + ",".join(["x"] * 3001) + "\n", encoding="utf-8")
    said = error_of(lambda: read_table(path))
    assert said.startswith('The header of "wide.csv" holds 3,001 columns, more than the limit of 1,000')
    assert "INSIGHT_MAX_COLUMNS" in said
    monkeypatch.setenv("INSIGHT_MAX_COLUMNS", "5000")  # raised, the names are made unique in linear time
    started = time.perf_counter()
    frame = read_table(path)
    assert time.perf_counter() - started < 10, "3,000 names took 43 s when renaming was cubic"
    names = list(frame.columns)
    assert names[:3] == ["a", "a.1", "a.2"] and names[-1] == "a.1.1" and len(set(names)) == 3001


def test_json_nested_thousands_of_levels_deep_gets_a_plain_message(tmp_path):
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    assert "nests lists or objects too deeply" in error_of(lambda: read_table(tmp_path / "deep.json"))
    (tmp_path / "deep.jsonl").write_text('{"text": "ok"}\n' + '{"a": ' * 100_000 + "1" + "}" * 100_000)
    said = error_of(lambda: read_table(tmp_path / "deep.jsonl"))
    assert said.startswith('Line 2 of "deep.jsonl" nests lists or objects too deeply')


def test_a_cell_over_the_limit_names_the_limit_and_how_to_raise_it(tmp_path, monkeypatch):
    big = "word " * 40_000  # 200,000 characters: over csv's own 131,072, under the default limit
    (tmp_path / "big.csv").write_text(f"text,label\n{big},a\nshort,b\n", encoding="utf-8")
    assert read_table(tmp_path / "big.csv").loc[0, "text"] == big, "read whole"
    monkeypatch.setenv("INSIGHT_MAX_CELL_CHARS", "1000")
    said = error_of(lambda: read_table(tmp_path / "big.csv"))
    assert "holds more than 1,000 characters" in said and "INSIGHT_MAX_CELL_CHARS" in said
    assert "double quote" not in said, "the cause is the length, not a quote"


def test_a_jsonl_file_streams_in_chunks(tmp_path):
    """Big JSON Lines files are read a chunk at a time (the Apply and monitor path), each a frame."""
    from trainer.data.stream import chunks

    rows = [{"text": f"t{i}", "label": "ab"[i % 2]} for i in range(5)]
    path = tmp_path / "big.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", "utf-8")
    frames = list(chunks(path, chunk_rows=2))
    assert [len(f) for f in frames] == [2, 2, 1]
    assert list(pd.concat(frames)["text"]) == [r["text"] for r in rows]
