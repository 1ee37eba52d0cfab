"""DataError and messages that name a setting the way each front end calls it.

A message that tells the user to change a setting (the text column, the task...) is a `Message`:
its template holds placeholders such as `{text_column}`, filled by a front end's vocabulary. The
command line names its options (`CLI_NAMES`, also what `str()` gives), the app its widgets (it passes
its own names to `render`), and a saved report says it plainly (`PLAIN_NAMES`). No front end rewrites
the text afterwards.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

from trainer.i18n import N_, tr

# The settings a data message may name, and how each front end calls them. Option names stay as they
# are; the words around them (N_) are translated where a message is worded (`_named`).
CLI_NAMES: dict[str, str] = {
    "text_column": "--text-column",
    "label_column": "--label-column",
    "columns": N_("--text-column and --label-column"),
    "task_token": "--task token",
    "class_weights": "--class-weights",
    "or_eval_file": N_(", or give a separate evaluation file with --eval-file"),
}
PLAIN_NAMES: dict[str, str] = {
    "text_column": N_("the text column setting"),
    "label_column": N_("the label column setting"),
    "columns": N_("the text and label column settings"),
    "task_token": N_("the token classification task"),
    "class_weights": N_("class weights"),
    "or_eval_file": "",
}
SETTINGS = tuple(CLI_NAMES)


def _named(names: Mapping[str, str]) -> dict[str, str]:
    """Each setting's name in the current language (option names and names already translated stay)."""
    return {key: tr(name) if name else name for key, name in names.items()}


class Message(str):
    """Text that names settings: `str()` names them as the command line does, `render(names)` as asked.

    Values (file names, column names, user text) are kept apart from the template, so braces in them
    are never read as placeholders. The template is the message id: it is translated when the Message
    is made (`str()`) and again in `render`, into the language current then.
    """

    template: str
    values: dict[str, Any]

    def __new__(cls, template: str, **values: Any) -> Message:
        self = super().__new__(cls, tr(template, **{**_named(CLI_NAMES), **values}))
        self.template, self.values = template, values
        return self

    def __reduce__(self) -> tuple:
        return _message, (self.template, self.values)

    @property
    def settings(self) -> list[str]:
        """The settings this message names, in order."""
        fields = [f for _, f, _, _ in string.Formatter().parse(self.template) if f]
        return [f for f in fields if f in CLI_NAMES]

    def render(self, names: Mapping[str, str]) -> str:
        """The message with each setting called by `names` (missing ones fall back to the CLI's)."""
        return tr(self.template, **{**_named({**CLI_NAMES, **names}), **self.values})


def _message(template: str, values: dict[str, Any]) -> Message:
    return Message(template, **values)


def render(message: str, names: Mapping[str, str]) -> str:
    """Any message as a front end words it (plain strings stay as they are)."""
    return message.render(names) if isinstance(message, Message) else str(message)


class DataError(ValueError):
    """Unusable input; the message says what is wrong and what to do.

    `.report`: what was found so far (a ValidationReport or None); `.setting`: the setting at fault
    ("text_column", "label_column", "task_token"...) or None.
    """

    def __init__(self, message: str, report: Any = None, setting: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.report = report
        named = message.settings if isinstance(message, Message) else []
        self.setting = setting or (named[0] if named else None)

    def render(self, names: Mapping[str, str]) -> str:
        """The message as a front end words it."""
        return render(self.message, names)

    def __reduce__(self) -> tuple:  # a child process's error arrives whole (trainer.data.isolated)
        return DataError, (self.message, self.report, self.setting)


def fail(report: Any, message: str) -> DataError:
    """Record `message` as an error of `report` and return the DataError to raise."""
    if message not in report.errors:
        report.errors.append(message)
    return DataError(message, report)
