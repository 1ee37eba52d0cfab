"""trainer.data.columns: which column is the text and which the label (or tokens and tags), by name and content."""

from __future__ import annotations

import pandas as pd
from data_helpers import balanced, error_of, write_csv

from trainer.prepare import prepare, propose_columns, propose_task
from trainer.tasks import TEXT_TASK, TOKEN_TASK


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
        "Name one of them with --text-column."
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
