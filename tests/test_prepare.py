"""trainer.prepare: the whole pipeline and what it refuses; importing trainer.data stays cheap."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from data_helpers import balanced, error_of, people_conll, write_csv

from trainer.prepare import prepare
from trainer.tasks import TEXT_TASK


def test_unknown_task(tmp_path):
    assert "Unknown task" in error_of(prepare, balanced(tmp_path), task="regression")


def test_no_usable_rows(tmp_path):
    rows = [{"text": "", "label": "a"}, {"text": "b", "label": ""}]
    message = error_of(prepare, write_csv(tmp_path / "u.csv", rows))
    assert message.startswith('No usable rows in "u.csv" (empty text: 1, missing label: 1).')


def test_text_task_on_a_conll_file_is_refused(tmp_path):
    (tmp_path / "n.conll").write_text(people_conll(), "utf-8")
    assert "is a CoNLL file" in error_of(prepare, tmp_path / "n.conll", task=TEXT_TASK)


def test_import_is_cheap():
    heavy = "{'torch', 'transformers', 'streamlit', 'sklearn'}"
    code = f"import sys, trainer.data; print(sorted({heavy} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parents[1])  # fmt: skip
    assert out.stdout.strip() == "[]"
