"""trainer.data.inputs: new text to predict keeps every row in order, with gold labels when they fit."""

from __future__ import annotations

import pytest

from trainer.data import DataError
from trainer.data.inputs import read_sentences, read_texts


def test_texts_keep_their_order_and_gold_only_when_it_fits(tmp_path):
    path = tmp_path / "new.csv"
    path.write_text("text,label\nzebra,pos\n,neg\nant,neg\nant,neg\n")
    texts, gold = read_texts(path, None, ["neg", "pos"])
    assert texts == ["zebra", "ant", "ant"] and gold == ["pos", "neg", "neg"], (
        "duplicates kept, empty dropped"
    )
    assert read_texts(path, None, ["other"])[1] is None, "labels the run does not know are not gold"
    with pytest.raises(DataError, match="Name one with --text-column"):
        read_texts(path, "body", ["neg"])


def test_sentences_from_a_table_or_a_words_only_conll_file(tmp_path):
    table = tmp_path / "s.csv"
    table.write_text('tokens,tags\n"Anna lives here","B-PER O O"\n"张三在北京","B-PER I-PER O B-LOC I-LOC"\n')
    sentences, gold = read_sentences(table, None, ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"])
    assert sentences == [["Anna", "lives", "here"], list("张三在北京")]
    assert gold == [["B-PER", "O", "O"], ["B-PER", "I-PER", "O", "B-LOC", "I-LOC"]]
    words = tmp_path / "new.conll"
    words.write_text("Anna\nlives\n\nOslo\n")
    assert read_sentences(words, None, ["O"]) == ([["Anna", "lives"], ["Oslo"]], None)
