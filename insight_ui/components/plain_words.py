"""Results in plain words first: the sentence that leads the Evaluate page, each score's everyday name, and
its technical name and definition one hover away (every help text points to the Glossary page).

Keyed by what the adapter says (Task.unit, a MetricCard's key): nothing here compares task names."""

from __future__ import annotations

import streamlit as st

from insight_ui.safe import md, trim
from trainer.i18n import N_, number, percent, tr
from trainer.runs import Run
from trainer.tasks import MetricCard

GLOSSARY = "insight_ui/pages/glossary.py"
# Each score's everyday name, by its key (the adapter's metric cards name it technically).
PLAIN_SCORES = {
    "accuracy": N_("Right answers"),
    "macro_f1": N_("Average over labels"),
    "weighted_f1": N_("Average, big labels weigh more"),
    "macro_recall": N_("Share found, per label"),
    "f1": N_("Entities right overall"),
    "micro_precision": N_("Marked entities that are right"),
    "micro_recall": N_("Entities found"),
    "token_accuracy": N_("Words tagged right"),
}
# The scores a person reads first, by the task's unit; the others wait in "Details for specialists".
LEADING = {"text": ("accuracy", "macro_f1"), "sentence": ("micro_recall", "micro_precision")}
# The sentence under the page's title, by the task's unit and whether the score has its interval.
HEADLINES = {
    ("text", True): N_("Right on {right} of 100 texts it never saw (between {low} and {high})."),
    ("text", False): N_("Right on {right} of 100 texts it never saw."),
    ("sentence", True): N_(
        "Finds {right} of 100 entities in sentences it never saw (between {low} and {high})."
    ),
    ("sentence", False): N_("Finds {right} of 100 entities in sentences it never saw."),
}
# The same when there is no test split: the validation texts helped choose when to stop training.
VALIDATION_HEADLINES = {
    "text": N_(
        "Right on {right} of 100 texts it did not learn from (validation texts: they helped choose when to "
        "stop training, so this may flatter it a little)."
    ),
    "sentence": N_(
        "Finds {right} of 100 entities in sentences it did not learn from (validation sentences: they helped "
        "choose when to stop training, so this may flatter it a little)."
    ),
}
BASIS = {
    "text": N_(
        "Measured on {n} test texts set aside before training: {right} right, {wrong} wrong. The range in "
        "brackets is where this would likely fall on another {n} texts like these."
    ),
    "sentence": N_(
        "Measured on {n} test sentences set aside before training, holding {entities} entities; of the "
        "entities it marks, {precision} of 100 are right. The range in brackets is where this would likely "
        "fall on another {n} sentences like these."
    ),
}
WEAKEST = {
    "text": N_("It does worst on “{label}”: it finds {found} of 100 texts with that label."),
    "sentence": N_("It does worst on “{label}”: it finds {found} of 100 entities of that type."),
}


def score_title(card: MetricCard) -> str:
    """A score's everyday name (its technical title when it has none)."""
    return tr(PLAIN_SCORES[card.key]) if card.key in PLAIN_SCORES else tr(card.title)


def score_help(card: MetricCard) -> str:
    """The technical name and its definition, pointing to the Glossary: what a hover over a plain name shows."""
    return tr(
        "{name}: {definition} See the Glossary (under Understand in the sidebar).",
        name=tr(card.title),
        definition=tr(card.help),
    )


def between(interval: list[float] | None) -> str | None:
    """'between 84% and 96%' for a tile's small line; None without an interval."""
    if not interval:
        return None
    return tr("between {low} and {high}", low=percent(interval[0]), high=percent(interval[1]))


def _of_100(value: float) -> str:
    return number(round(float(value) * 100))


def headline(run: Run, split: str, metrics: dict, found: dict) -> str | None:
    """The plain sentence that leads the page: how often the model is right on examples it never saw."""
    unit = run.adapter.unit
    key = LEADING.get(unit, (None,))[0]
    value = metrics.get(key) if key else None
    if value is None:
        return None
    if split != "test":
        return tr(VALIDATION_HEADLINES[unit], right=_of_100(value))
    interval = found.get(key)
    if not interval:
        return tr(HEADLINES[(unit, False)], right=_of_100(value))
    low, high = (_of_100(v) for v in interval)
    return tr(HEADLINES[(unit, True)], right=_of_100(value), low=low, high=high)


def basis(run: Run, metrics: dict) -> str | None:
    """What the sentence was measured on, in counts: '... 91 right, 9 wrong'."""
    unit, n = run.adapter.unit, int(metrics.get("n", 0) or 0)
    if unit == "text" and metrics.get("accuracy") is not None:
        right = round(float(metrics["accuracy"]) * n)
        return tr(BASIS["text"], n=number(n), right=number(right), wrong=number(n - right))
    if unit == "sentence" and metrics.get("micro_precision") is not None:
        entities = sum(int(c.get("support", 0) or 0) for c in (metrics.get("per_class") or {}).values())
        return tr(
            BASIS["sentence"],
            n=number(n),
            entities=number(entities),
            precision=_of_100(metrics["micro_precision"]),
        )
    return None


def weakest(run: Run, metrics: dict) -> str | None:
    """'It does worst on “neutral”: it finds 72 of 100 texts with that label.' (the label escaped)."""
    rows = {k: v for k, v in (metrics.get("per_class") or {}).items() if v.get("support")}
    if len(rows) < 2 or run.adapter.unit not in WEAKEST:
        return None
    label = min(rows, key=lambda k: (float(rows[k].get("recall", 0.0)), k))
    return tr(
        WEAKEST[run.adapter.unit], label=md(trim(label, 40)), found=_of_100(rows[label].get("recall", 0.0))
    )


def glossary_link() -> None:
    """A link to the Glossary page, for the 'Details for specialists' sections."""
    st.page_link(GLOSSARY, label=tr("What these words mean: the Glossary"), icon=":material/menu_book:")


FINISHED = {
    "text": N_("Training finished: {name} {score} on the test texts it never saw."),
    "sentence": N_("Training finished: {name} {score} on the test sentences it never saw."),
}


def finished(task_name: str, metrics: dict) -> tuple[str, str | None]:
    """What the Train page says when a run ends: its headline score in words ("average over labels 97%
    on the test texts it never saw"), and the technical scores for the hover ("macro-f1 0.970, …")."""
    from trainer.tasks import get_task

    task = get_task(task_name)
    _, value = task.headline(metrics)
    technical = ", ".join(
        f"{k.replace('_', '-')} {v:.3f}" for k, v in metrics.items() if isinstance(v, float)
    )
    if value is None:
        return tr("Training finished. See the results for how well it does."), technical or None
    said = FINISHED.get(task.unit, FINISHED["text"])
    return tr(said, name=tr(task.headline_plain), score=percent(value)), technical or None
