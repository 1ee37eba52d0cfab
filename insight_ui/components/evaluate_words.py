"""The Evaluate page's words that depend on the task (texts or sentences, classes or entity types), each
sentence whole in every language."""

from __future__ import annotations

from trainer.i18n import N_, number, percent, tr, trn
from trainer.runs import Run

# what the pages call a task's example (Task.unit), each sentence whole in every language
SPLIT_TOTALS = {
    ("test", "text"): N_("Test texts"),
    ("validation", "text"): N_("Validation texts"),
    ("test", "sentence"): N_("Test sentences"),
    ("validation", "sentence"): N_("Validation sentences"),
}
INTERVAL_NOTES = {
    "text": N_(
        "Under each score, its 95% interval: the range the score would likely fall in on another "
        "{n} texts like these (bootstrap over the test split). "
        "Compare two runs on the Compare page before trusting a small difference."
    ),
    "sentence": N_(
        "Under each score, its 95% interval: the range the score would likely fall in on another "
        "{n} sentences like these (bootstrap over the test split). "
        "Compare two runs on the Compare page before trusting a small difference."
    ),
}
CLASS_WORDS = {"Class": N_("Label"), "Entity type": N_("Entity type")}
PER_CLASS = {"Class": N_("How it does on each label"), "Entity type": N_("How it does on each entity type")}
CLASS_TABLE_NOTE = N_(
    "For each one: how often the model is right when it gives it, how many of the real ones it finds, and "
    "both together in one score. Hover a heading for its technical name."
)
# The per-class table's headings in plain words, each with its technical name and meaning as help.
CLASS_COLUMNS = {
    "precision": (
        N_("Right when it says so"),
        N_("Precision: of the examples predicted as this one, the share that are right. See the Glossary."),
    ),
    "recall": (
        N_("Found"),
        N_("Recall: of the examples that really are this one, the share the model finds. See the Glossary."),
    ),
    "f1": (
        N_("Both together"),
        N_(
            "F1: precision and recall in one score (their harmonic mean); low when either is low. See the Glossary."
        ),
    ),
    "support": (
        N_("How many"),
        N_("Support: how many test examples really are this one. Few: a noisy score."),
    ),
}
TEXT_COLUMNS = {"text": N_("Text"), "tokens": N_("Tokens")}
SPLITS = {"train": N_("train"), "validation": N_("validation"), "test": N_("test")}
ACTION_NAMES = {"keep": N_("keep"), "drop": N_("drop"), "relabel": N_("relabel")}
# The caption over the likely label issues, by what an issue is: a word of a sentence (entity runs), a
# sentence, or a text (text runs: "21 texts of 681"). How they are found is the caption's help (ISSUE_METHOD).
ISSUE_NOTES = {
    "words": N_(
        "{issues} words of {rows} sentences (every split) have a tag that a model which never saw them "
        "disagrees with, most suspicious first. Decide what to do with each, then download the corrected data "
        "or load it to train again."
    ),
    "sentence": N_(
        "{issues} sentences of {rows} sentences (every split) have tags that a model which never saw them "
        "disagrees with, most suspicious first. Decide what to do with each, then download the corrected data "
        "or load it to train again."
    ),
}
ISSUE_METHOD = N_(
    "How they are found: each part of the data is predicted by a model trained without it (5-fold "
    "cross-validation over the fine-tuned model's embeddings), and cleanlab flags the labels those "
    "predictions confidently disagree with. See the Glossary."
)
ISSUE_SCORE = N_("How likely the given label is right")
ISSUE_SCORE_HELP = N_(
    "The chance that a model which never saw this example gives it its label (cleanlab's label quality, "
    "from 0% to 100%): the lower, the more likely the label is a mistake."
)


def issues_note(run: Run, issues: int, rows: int, by_word: bool) -> str:
    """What the table of likely label issues holds: "21 texts of 681 (every split) ..." for a text run."""
    count, total = number(issues), number(rows)
    if by_word:
        return tr(ISSUE_NOTES["words"], issues=count, rows=total)
    if run.adapter.unit == "sentence":
        return tr(ISSUE_NOTES["sentence"], issues=count, rows=total)
    return trn(
        "{n} text of {rows} (every split) has a label that a model which never saw it disagrees with. "
        "Decide what to do with it, then download the corrected data or load it to train again.",
        "{n} texts of {rows} (every split) have labels that a model which never saw them disagrees with, "
        "most suspicious first. Decide what to do with each, then download the corrected data or load it to "
        "train again.",
        issues,
        rows=total,
    )


def label_chance(score: float) -> str:
    """cleanlab's label quality (the out-of-sample probability of the given label, in [0, 1]) in words:
    "37%", "under 1%" (a bare 0.01% would read as a figure measured that finely)."""
    value = float(score)
    if value != value:  # NaN: no score
        return "–"
    if value < 0.01:
        return tr("under {share}", share=percent(0.01))
    return percent(value)


def class_word(run: Run) -> str:
    """The task's word for one class ("Class", "Entity type"), in the page's language."""
    word = run.adapter.class_word
    return tr(CLASS_WORDS[word]) if word in CLASS_WORDS else word


def cell_count(run: Run, n: int, gold: str, predicted: str) -> str:
    """'**3 test texts** with true label “a” predicted as “b”' (gold and predicted already escaped)."""
    if run.adapter.unit == "sentence":
        return trn(
            "**{n} test sentence** with true label “{gold}” predicted as “{predicted}”",
            "**{n} test sentences** with true label “{gold}” predicted as “{predicted}”",
            n,
            gold=gold,
            predicted=predicted,
        )
    return trn(
        "**{n} test text** with true label “{gold}” predicted as “{predicted}”",
        "**{n} test texts** with true label “{gold}” predicted as “{predicted}”",
        n,
        gold=gold,
        predicted=predicted,
    )
