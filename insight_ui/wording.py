"""How the app words trainer messages: each setting a message names is called by its widget.

trainer.data messages name settings through placeholders (see trainer.data.errors); the command line
fills them with its options, the app with these names. No text is rewritten after the fact.
"""

from __future__ import annotations

from trainer.data import render
from trainer.i18n import N_, tr

APP_NAMES = {
    "text_column": N_("the text column choice above"),
    "label_column": N_("the label column choice above"),
    "columns": N_("the column choices above"),
    "task_token": N_("Task: Named entities, above"),
    "class_weights": N_("Class weights, under Advanced settings on the Train page"),
    "or_eval_file": "",
}


def in_app(message: str) -> str:
    """A trainer message worded for the app: each setting named by its widget (in the page's language)."""
    return render(message, {key: tr(name) if name else name for key, name in APP_NAMES.items()})
