"""The Evaluate page's words that depend on the task (texts or sentences, classes or entity types), each
sentence whole in every language."""

from __future__ import annotations

from trainer.i18n import N_, tr, trn
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
CLASS_WORDS = {"Class": N_("Class"), "Entity type": N_("Entity type")}
PER_CLASS = {"Class": N_("Per class"), "Entity type": N_("Per entity type")}
TEXT_COLUMNS = {"text": N_("Text"), "tokens": N_("Tokens")}
SPLITS = {"train": N_("train"), "validation": N_("validation"), "test": N_("test")}
ACTION_NAMES = {"keep": N_("keep"), "drop": N_("drop"), "relabel": N_("relabel")}
ISSUE_NOTES = {
    ("words", "sentence"): N_(
        "{issues} words of {rows} sentences (every split) whose label disagrees "
        "with what a model that never saw them predicts (cleanlab, on 5-fold cross-validated predictions over "
        "the fine-tuned model's embeddings), most suspicious first. Decide what to do with each, then "
        "download the corrected data or load it to train again."
    ),
    ("sentence", "sentence"): N_(
        "{issues} sentences of {rows} sentences (every split) whose label disagrees "
        "with what a model that never saw them predicts (cleanlab, on 5-fold cross-validated predictions over "
        "the fine-tuned model's embeddings), most suspicious first. Decide what to do with each, then "
        "download the corrected data or load it to train again."
    ),
    ("text", "text"): N_(
        "{issues} texts of {rows} texts (every split) whose label disagrees "
        "with what a model that never saw them predicts (cleanlab, on 5-fold cross-validated predictions over "
        "the fine-tuned model's embeddings), most suspicious first. Decide what to do with each, then "
        "download the corrected data or load it to train again."
    ),
}


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
