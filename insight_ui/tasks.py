"""Every difference between text classification and named entities, in one place.

Pages ask here instead of comparing task names themselves, so extending the entity (token) task
means editing this file and the parts it points to.
"""

from __future__ import annotations

from trainer.config import TEXT_TASK, TOKEN_TASK

TASK_NAMES = {
    TEXT_TASK: "Text classification (one label per text)",
    TOKEN_TASK: "Named entities (a tag per word, CoNLL/BIO)",
}
SHORT_NAMES = {TEXT_TASK: "text classification", TOKEN_TASK: "named entities"}


def is_token(task: str | None) -> bool:
    return task == TOKEN_TASK


def unit(task: str | None, plural: bool = True) -> str:
    """What one example is called: texts or sentences."""
    word = "sentence" if is_token(task) else "text"
    return word + "s" if plural else word


def column_labels(task: str | None) -> tuple[str, str]:
    """Labels of the two column pickers on the Data page."""
    if is_token(task):
        return "Tokens column (words separated by spaces)", "Tags column (one tag per word)"
    return "Text column", "Label column"


def headline_metrics(task: str | None) -> list[tuple[str, str, str]]:
    """(metric key, card title, help) of the score cards on Evaluate."""
    if is_token(task):
        return [
            (
                "f1",
                "Entity F1",
                "How well whole entities are found: an entity counts only if its span and type are right.",
            ),
            ("micro_precision", "Precision", "Of the entities the model marked, the share that are right."),
            ("micro_recall", "Recall", "Of the real entities, the share the model found."),
            (
                "token_accuracy",
                "Tag accuracy",
                "The share of words whose tag is right (O included, so it runs high).",
            ),
        ]
    return [
        ("accuracy", "Accuracy", "The share of test texts whose predicted label is right."),
        (
            "macro_f1",
            "Macro-F1",
            "F1 averaged over classes, each class counting the same: small classes matter.",
        ),
        (
            "weighted_f1",
            "Weighted F1",
            "F1 averaged over classes, weighted by how many texts each class has.",
        ),
        ("macro_recall", "Macro recall", "On average, the share of each class's texts that the model finds."),
    ]


def class_word(task: str | None) -> str:
    """What a row of the per-class table is."""
    return "Entity type" if is_token(task) else "Class"


def supports_attribution(task: str | None) -> bool:
    """Word attributions (integrated gradients) exist for text classification only, so far."""
    return not is_token(task)


def supports_label_issues(task: str | None) -> bool:
    """Likely label issues are found from one probability vector per example: text task only."""
    return not is_token(task)


def pipeline_name(task: str | None) -> str:
    """The transformers pipeline that loads an exported model."""
    return TOKEN_TASK if is_token(task) else TEXT_TASK


def embedding_colours(task: str | None) -> dict[str, str]:
    """What the embedding map can colour by, and how each choice is called."""
    if is_token(task):  # each dot is an entity word
        return {
            "gold": "True entity type",
            "predicted": "Predicted entity type",
            "outcome": "Right / wrong",
            "confidence": "Confidence",
        }
    return {
        "gold": "True label",
        "predicted": "Prediction",
        "outcome": "Right / wrong",
        "confidence": "Confidence",
    }


def embedding_intro(task: str | None) -> str:
    """What one dot of the embedding map is."""
    if is_token(task):
        return (
            "Named-entity run: each dot is one word that is part of an entity (in the true or the "
            "predicted tags), placed by the model's vector for it in its sentence. Hover to read the "
            "sentence; click to explain that word."
        )
    return ""
