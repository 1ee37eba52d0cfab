"""The Label page (issue 32) in Streamlit's AppTest: a label given with a button is saved at once (a new
session, as after a refresh, sees it and is handed the next row), and ten labels start a round of training."""

from __future__ import annotations

import pandas as pd
from app_kit import open_app
from helpers import sentiment_csv

from trainer.apply import label_project


def make_project(runs_dir, tmp_path, model: str) -> label_project.Project:
    texts = pd.read_csv(sentiment_csv(tmp_path / "s.csv", n=60))["text"].tolist()
    return label_project.create(runs_dir, "reviews", "text", ["negative", "neutral", "positive"], texts,
                                "local", model=model)  # fmt: skip


def shown_text(at) -> str:
    return [m.value for m in at.markdown if "item number" in str(m.value)][0]


def label_buttons(at) -> list:
    return [b for b in at.button if b.key and b.key.startswith("label_") and b.key.endswith("_0")]


def test_a_label_is_saved_at_once_and_a_refresh_gets_the_next_row(tmp_path, monkeypatch, tiny_model_dir):
    runs_dir = tmp_path / "runs"
    project = make_project(runs_dir, tmp_path, str(tiny_model_dir))
    at = open_app(runs_dir, monkeypatch)
    at.switch_page("insight_ui/pages/label.py").run()
    assert not at.exception, [e.value for e in at.exception]
    first = shown_text(at)
    label_buttons(at)[0].click().run()  # "negative (1)"
    assert project.counts()["labelled"] == 1
    assert project.labelled_frame()["label"].tolist() == ["negative"]
    again = open_app(runs_dir, monkeypatch)  # a new session: the browser refreshed
    again.switch_page("insight_ui/pages/label.py").run()
    assert not again.exception, [e.value for e in again.exception]
    assert any("**1** row labelled" in str(m.value) for m in again.markdown)
    assert shown_text(again) != first  # the labelled row is not handed out again


def test_ten_labels_start_a_round_of_training(tmp_path, monkeypatch, tiny_model_dir):
    runs_dir = tmp_path / "runs"
    project = make_project(runs_dir, tmp_path, str(tiny_model_dir))
    at = open_app(runs_dir, monkeypatch)
    at.switch_page("insight_ui/pages/label.py").run()
    try:
        for n in range(10):
            text = shown_text(at)
            wanted = 2 if any(w in text for w in ("great", "love", "excellent", "wonderful")) else n % 3
            [b for b in at.button if b.key and b.key.endswith(f"_{wanted}") and "skip" not in b.key][
                0
            ].click()
            at.run()
            assert not at.exception, [e.value for e in at.exception]
        assert project.counts()["labelled"] == 10
        rounds = project.rounds()
        assert len(rounds) == 1 and rounds[0]["labels"] == 10
        assert (runs_dir / rounds[0]["run"]).is_dir()  # a run like any other, in the runs folder
    finally:
        from insight_ui import state

        manager = state.job_manager()
        for item in project.rounds():
            manager.cancel(item["run"])
            manager.wait(item["run"], 120)


def test_names_are_tagged_by_clicking_their_words_and_gaps_are_refused(tmp_path, monkeypatch):
    runs_dir = tmp_path / "runs"
    sentences = [
        ["Anna", "Berg", "flew", "to", "New", "York", "."],
        ["Tom", "met", "Lise", "in", "Oslo", "."],
    ]
    project = label_project.create(runs_dir, "names", "token", ["PER", "LOC"], sentences, "local",
                                   heldout_fraction=0.0)  # fmt: skip
    at = open_app(runs_dir, monkeypatch)
    at.switch_page("insight_ui/pages/label.py").run()
    assert not at.exception, [e.value for e in at.exception]
    words_box = at.button_group(key=[b.key for b in at.button_group if b.key.startswith("label_words_")][0])
    row_id = int(words_box.key.rsplit("_", 1)[1])
    words = sentences[row_id]
    kind = at.button_group(key=f"label_kind_{row_id}")
    # a gap between the words picked is refused with a sentence, nothing is tagged
    words_box.set_value([0, 2])
    kind.set_value("PER")
    at.button(key=f"label_tag_{row_id}").click().run()
    assert any("next to each other" in str(w.value) for w in at.warning)
    first_two = [0, 1] if words[0] == "Anna" else [0]
    at.button_group(key=f"label_words_{row_id}").set_value(first_two)
    at.button_group(key=f"label_kind_{row_id}").set_value("PER")
    at.button(key=f"label_tag_{row_id}").click().run()
    assert any(str(m.value).startswith("Tagged") and "→ PER" in str(m.value) for m in at.markdown)
    at.button(key=f"label_save_{row_id}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    saved = project.labelled_frame()
    expected = ["B-PER", "I-PER", "O", "O", "O", "O", "O"] if words[0] == "Anna" else ["B-PER"] + ["O"] * 5
    assert saved["label"].tolist() == [" ".join(expected)]


def test_labels_and_words_a_person_typed_are_shown_literally(tmp_path, monkeypatch):
    runs_dir = tmp_path / "runs"
    label_project.create(runs_dir, "marks", "text", ["**good**", "[bad](http://x)"], ["a *starred* text"],
                         "local", heldout_fraction=0.0)  # fmt: skip
    at = open_app(runs_dir, monkeypatch)
    at.switch_page("insight_ui/pages/label.py").run()
    assert not at.exception, [e.value for e in at.exception]
    labels = [b.label for b in at.button if b.key and b.key.startswith("label_0_")]
    assert len(labels) == 2 and labels[0] == r"\*\*good\*\*"  # Markdown escaped: no bold
    assert labels[1].startswith(r"\[bad\](")  # and no link
    assert any(str(m.value) == r"a \*starred\* text" for m in at.markdown)
