"""The Data page through AppTest, as a new user meets it: each file gets its own column choices (and the
browser's boxes are told), a label column that holds text or ids gets a short message naming the likely
label column, and no click drops most of a file or loses the original."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
from app_kit import open_app
from helpers import conll_file, sentiment_csv
from streamlit.testing.v1 import AppTest

from insight_ui import state

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ROOT / "sample_data" / "product_sentiment.csv"


def upload(at: AppTest, name: str, raw: bytes) -> AppTest:
    """What the uploader's callback does with a file: hand (name, bytes) to the Data page."""
    at.session_state[state.INCOMING] = (name, raw)
    return at.run()


def texts_of(at: AppTest, kind: str) -> list[str]:
    return [str(e.value) for e in getattr(at, kind)]


def csv_of(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode("utf-8")


def test_a_new_file_gets_its_own_columns_and_the_boxes_are_told(tmp_path, monkeypatch):
    raw = sentiment_csv(tmp_path / "reviews.csv", n=60).read_bytes()  # columns text, label
    at = upload(open_app(tmp_path / "runs", monkeypatch), "reviews.csv", raw)
    at.selectbox(key=state.LABEL_COLUMN).set_value("text").run()
    assert any("Choose two different columns" in e for e in texts_of(at, "error"))
    at.button(key="sample_product_sentiment.csv").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state[state.DATASET][0] == "product_sentiment.csv"
    text, label = at.selectbox(key=state.TEXT_COLUMN), at.selectbox(key=state.LABEL_COLUMN)
    assert (text.value, label.value) == ("text", "sentiment")
    # A keyed widget keeps its id from file to file: the browser shows the new choice only when told.
    assert text.proto.set_value and label.proto.set_value, "the browser's boxes are set to the new columns"
    assert not at.error, texts_of(at, "error")
    assert any("No problems found" in s for s in texts_of(at, "success"))
    at.button(key="to_train").click().run()
    assert not at.exception and at.title[0].value == "Train"


def test_a_table_after_a_conll_file_gets_the_table_task_and_its_columns(tmp_path, monkeypatch):
    at = upload(
        open_app(tmp_path / "runs", monkeypatch),
        "n.conll",
        conll_file(tmp_path / "n.conll", n=40).read_bytes(),
    )
    assert at.radio(key=state.TASK_CHOICE).value == "token-classification"
    at.button(key="sample_product_sentiment.csv").click().run()
    task = at.radio(key=state.TASK_CHOICE)
    assert task.value == "text-classification" and task.proto.set_value
    assert at.selectbox(key=state.LABEL_COLUMN).value == "sentiment"
    assert not at.exception and not at.error, texts_of(at, "error")


def test_an_id_column_as_the_label_is_said_in_one_short_sentence_naming_the_label(tmp_path, monkeypatch):
    frame = pd.read_csv(PRODUCT)
    frame.insert(0, "id", [f"R{1000 + i}" for i in range(len(frame))])
    at = upload(open_app(tmp_path / "runs", monkeypatch), "reviews.csv", csv_of(frame))
    at.selectbox(key=state.LABEL_COLUMN).set_value("id").run()
    assert not at.exception
    errors = texts_of(at, "error")
    said = [e for e in errors if "looks like text or an id" in e]
    assert len(said) == 1, errors
    assert "sentiment" in said[0] and "R1004" in said[0] and "R1005" not in said[0], said[0]
    assert "and 676 more" in said[0] and len(said[0]) < 700, said[0]
    assert not any("INSIGHT_MAX_LABELS" in e for e in errors), "no advice to raise the limit"
    assert "drop_rare_labels" not in [b.key for b in at.button], "no offer to drop every row"
    shown = texts_of(at, "error") + texts_of(at, "warning") + texts_of(at, "info")
    assert max(map(len, shown)) < 1500, "no wall of text"


def test_the_text_column_as_the_label_says_the_columns_look_swapped(tmp_path, monkeypatch):
    at = open_app(tmp_path / "runs", monkeypatch)
    at.button(key="sample_product_sentiment.csv").click().run()
    at.selectbox(key=state.TEXT_COLUMN).set_value("sentiment").run()
    at.selectbox(key=state.LABEL_COLUMN).set_value("text").run()
    assert not at.exception
    errors = texts_of(at, "error")
    assert any("looks like text or an id" in e and "look swapped" in e for e in errors), errors
    shown = errors + texts_of(at, "warning")
    assert max(map(len, shown)) < 1500, [len(s) for s in shown]


def rare_file(rare: int, common: int = 20) -> bytes:
    """`common` rows each of two labels, then `rare` rows with a label of their own."""
    rows = [{"text": f"a fine review number {i}", "label": "good"} for i in range(common)]
    rows += [{"text": f"a poor review number {i}", "label": "bad"} for i in range(common)]
    rows += [{"text": f"an odd review number {i}", "label": f"odd {i}"} for i in range(rare)]
    return csv_of(pd.DataFrame(rows))


def test_dropping_more_than_half_of_a_file_is_refused_with_what_to_do(tmp_path, monkeypatch):
    raw = rare_file(rare=45)  # 45 of 85 rows have a label of their own
    at = upload(open_app(tmp_path / "runs", monkeypatch), "mixed.csv", raw)
    assert not at.exception
    assert "drop_rare_labels" not in [b.key for b in at.button], "no one-click drop of most of the file"
    refused = [w for w in texts_of(at, "warning") if "more than half" in w]
    assert len(refused) == 1 and "45 of the 85 rows" in refused[0], texts_of(at, "warning")
    assert "choose the right one above" in refused[0]
    assert at.session_state[state.DATASET] == ("mixed.csv", raw), "the file is unchanged"


def test_a_drop_says_what_it_removes_and_the_original_file_is_one_click_away(tmp_path, monkeypatch):
    raw = rare_file(rare=2)
    at = upload(open_app(tmp_path / "runs", monkeypatch), "mixed.csv", raw)
    button = at.button(key="drop_rare_labels")
    assert "Drop the 2 rows labeled" in button.label, button.label
    assert "Removes 2 of the 42 rows" in button.help, button.help
    assert "back_to_original" not in [b.key for b in at.button]
    button.click().run()
    assert not at.exception
    name, data = at.session_state[state.DATASET]
    assert name == "mixed-without-rare-labels.csv" and len(pd.read_csv(io.BytesIO(data))) == 40
    assert any("working on a copy" in i and "mixed.csv (42 rows)" in i for i in texts_of(at, "info"))
    at.button(key="back_to_original").click().run()
    assert not at.exception
    assert at.session_state[state.DATASET] == ("mixed.csv", raw)
    assert at.session_state[state.DATASET_ORIGIN] == "upload"
    assert "back_to_original" not in [b.key for b in at.button], "nothing left to undo"
    assert at.button(key="drop_rare_labels"), "the original file is checked again"
