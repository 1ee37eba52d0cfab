"""How the app words trainer messages: each setting a message names is called by its widget.

trainer.data messages name settings through placeholders (see trainer.data.errors); the command line
fills them with its options, the app with these names. No text is rewritten after the fact.
"""

from __future__ import annotations

from trainer.data import render

APP_NAMES = {
    "text_column": "the text column choice above",
    "label_column": "the label column choice above",
    "columns": "the column choices above",
    "task_token": "Task: Named entities, above",
    "class_weights": "Class weights, under Advanced settings on the Train page",
    "or_eval_file": "",
}


def in_app(message: str) -> str:
    """A trainer message worded for the app: each setting named by its widget."""
    return render(message, APP_NAMES)
