"""insight_ui.wording: trainer messages name the app's widgets, never command-line options."""

from __future__ import annotations

import pytest
from helpers import conll_file

from insight_ui.wording import in_app
from trainer.data import DataError
from trainer.prepare import prepare


def test_trainer_messages_name_the_apps_widgets_instead_of_cli_options(tmp_path):
    one_label = tmp_path / "one.csv"
    one_label.write_text("text,label\n" + "".join(f"text {i},same\n" for i in range(30)))
    skewed = tmp_path / "skewed.csv"
    skewed.write_text("text,label\n" + "".join(f"text {i},{'a' if i < 95 else 'b'}\n" for i in range(100)))
    messages = []
    for source, task, setting in (
        (conll_file(tmp_path / "n.conll", n=20), "text", "task_token"),
        (one_label, None, "label_column"),
    ):
        with pytest.raises(DataError) as caught:
            prepare(source, task=task)
        assert caught.value.setting == setting, "the error says which setting is at fault"
        messages.append(caught.value.message)
    messages += prepare(skewed).report.warnings
    assert all("--" in m for m in messages[:2]) and any("--class-weights" in m for m in messages)
    for message in messages:
        assert "--" not in in_app(message), in_app(message)


def test_the_app_names_widgets_where_the_command_line_names_options(tmp_path):
    path = tmp_path / "few.csv"
    path.write_text("text,label\n" + "".join(f"text {i},{'a' if i % 2 else 'b'}\n" for i in range(6)))
    with pytest.raises(DataError) as caught:
        prepare(path)
    assert "--eval-file" in str(caught.value), "the command line offers its own evaluation file option"
    worded = in_app(caught.value.message)
    assert worded.startswith("Only 6 usable rows") and worded.endswith("Add more rows.")
