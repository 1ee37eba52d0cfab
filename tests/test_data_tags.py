"""trainer.data.tags: entity tag schemes detected, rewritten as BIO/IOBES and repaired."""

from __future__ import annotations

from data_helpers import people_conll, write_csv

from trainer.data import detect_tag_scheme, repair_tags
from trainer.prepare import prepare
from trainer.tasks import TOKEN_TASK


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
    assert data.train.to_frame().columns.tolist() == ["tokens", "tags", "row"]
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
