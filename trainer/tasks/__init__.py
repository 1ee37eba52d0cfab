"""One adapter per task: everything that differs between text classification and named entities.

The rest of trainer/ and the app ask the adapter (`get_task(name)`) instead of comparing task names:
how a row becomes an example, which classes count, how inputs are encoded and collated, how the model
is loaded, how logits become predictions and scores, what the words are, what can be explained and
which views a page can draw (`supports`). A third task (say, sentence pairs) is one more module here:
a `Task` subclass that calls `register` when imported; every module of this package is imported below,
so no other file changes (tests/test_tasks.py runs a third adapter through prepare, fit, predict and
explain).

Modules: `base` (the contract every adapter fulfils, and the registry), `text`, `token`. Imports stay cheap: the
adapters import only trainer.data.word_rule at load time; each method imports the machinery it uses when
called (trainer.data's readers, columns, rows, tags and checks; metrics; inference; predictions;
attribution), and none of those imports trainer.tasks, so there is no import cycle
(tests/test_architecture.py checks it).
"""

from __future__ import annotations

import importlib
import pkgutil

from trainer.tasks.base import TASKS, VIEWS, MetricCard, Task, register
from trainer.tasks.text import TEXT_TASK, TextClassification
from trainer.tasks.token import TOKEN_TASK, TokenClassification

for _module in pkgutil.iter_modules(__path__):  # every adapter module registers itself
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = [
    "ALIASES",
    "TASKS",
    "TEXT_TASK",
    "TOKEN_TASK",
    "VIEWS",
    "MetricCard",
    "Task",
    "TextClassification",
    "TokenClassification",
    "get_task",
    "register",
    "task_for_architecture",
    "task_name",
]

ALIASES = {"text": TEXT_TASK, "token": TOKEN_TASK, "ner": TOKEN_TASK, "entities": TOKEN_TASK}


def task_name(name: str | None) -> str | None:
    """A task name or alias ("text", "token", "ner") as its full name; None when not given."""
    if name is None or name == "":
        return None
    full = ALIASES.get(name, name)
    if full not in TASKS:
        raise ValueError(f'Unknown task "{name}". Use {" or ".join(TASKS)}.')
    return full


def get_task(name: str | None) -> Task:
    """The adapter for a task name or alias; text classification when not given (old run folders)."""
    return TASKS[task_name(name) or TEXT_TASK]


def task_for_architecture(architecture: str) -> Task:
    """The adapter whose model class saved a checkpoint (its config's `architectures[0]`)."""
    for task in TASKS.values():
        if architecture.endswith(task.auto_model.removeprefix("AutoModelFor")):
            return task
    return TASKS[TEXT_TASK]
