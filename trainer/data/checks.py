"""Checks on the training classes (enough of each, balanced) and on held-out labels the model never saw."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from trainer.data.errors import Message, fail
from trainer.data.report import ValidationReport, plural, quote
from trainer.data.rows import Example

MIN_TRAIN_EXAMPLES = 2  # fewer in training: error
FEW_EXAMPLES = 10  # fewer in training: warning
IMBALANCE_WARNING = 10.0  # largest / smallest class


def check_labels(counts: Counter[str], report: ValidationReport) -> None:
    """One label per example: at least two labels, each with MIN_TRAIN_EXAMPLES training rows."""
    if len(counts) == 1:
        raise fail(
            report,
            Message(
                'Every training row has the same label ("{label}"). A classifier needs at least two '
                "different labels: add examples of another label, or check that {label_column} names the label "
                "column.",
                label=next(iter(counts)),
            ),
        )
    rare = [lab for lab, n in counts.most_common()[::-1] if n < MIN_TRAIN_EXAMPLES]
    if rare:
        listed = ", ".join(f'"{lab}"' for lab in rare[:5]) + (
            f" and {len(rare) - 5} more" if len(rare) > 5 else ""
        )
        report.rare_labels = list(rare)
        raise fail(
            report,
            Message(
                "These labels have fewer than {minimum} examples in the training data: {listed}. "
                "Every label needs at least 2 (10 or more works better): add examples, or remove those rows. "
                "If that column is not the label, name the right one with {label_column}.",
                minimum=MIN_TRAIN_EXAMPLES,
                listed=listed,
            ),
        )


def check_entities(counts: Counter[str], report: ValidationReport, read_only: bool) -> None:
    """Tags per word: some entity to learn (only a warning when the file is only read)."""
    if not counts and report.tag_scheme != "unknown":
        message = Message(
            "Every word is tagged O, so there are no entities to learn. Tag the entities (like B-PER, I-PER), "
            "or check that {label_column} names the tag column."
        )
        if not read_only:
            raise fail(report, message)
        report.warnings.append(message)


def check_balance(counts: Counter[str], report: ValidationReport, unit: str) -> None:
    """Warn about classes with few training `unit` (examples, entities) and about imbalance."""
    few = [f'"{lab}" ({n})' for lab, n in sorted(counts.items()) if n < FEW_EXAMPLES]
    if few:
        report.warnings.append(
            f"Few training {unit} for: {', '.join(few[:10])}. The model will be unreliable on these; "
            f"aim for at least {FEW_EXAMPLES} each."
        )
    if len(counts) >= 2:
        (big, n_big), (small, n_small) = counts.most_common()[0], counts.most_common()[-1]
        report.imbalance_ratio = round(n_big / n_small, 2)
        if report.imbalance_ratio > IMBALANCE_WARNING:
            report.warnings.append(
                Message(
                    'The labels are unbalanced: "{big}" has {n_big} training examples and "{small}" only '
                    "{n_small} ({ratio:.0f} to 1). Add examples of the rare labels, or turn on class weights "
                    "({class_weights}).",
                    big=big,
                    n_big=n_big,
                    small=small,
                    n_small=n_small,
                    ratio=report.imbalance_ratio,
                )
            )


def _drop_unseen(
    known: set[str], part: list[Example], labels_of: Callable[[Any], Iterable[str]], report: ValidationReport
) -> tuple[list[Example], list[str]]:
    kept, unseen = [], set()
    for ex in part:
        missing = set(labels_of(ex.y)) - known
        if missing:
            unseen |= missing
        else:
            kept.append(ex)
    if len(part) > len(kept):
        report.dropped["label not in training data"] = (
            report.dropped.get("label not in training data", 0) + len(part) - len(kept)
        )
    return kept, sorted(unseen)


def drop_unseen(
    labels: list[str],
    val: list[Example],
    test: list[Example],
    labels_of: Callable[[Any], Iterable[str]],
    report: ValidationReport,
) -> tuple[list[Example], list[Example]]:
    """Drop validation/test rows with a label (`labels_of(y)`) the model cannot predict (not in training)."""
    known, same = set(labels), val is test
    val, unseen_val = _drop_unseen(known, val, labels_of, report)
    test, unseen_test = (val, unseen_val) if same else _drop_unseen(known, test, labels_of, report)
    for name, unseen in (("validation", unseen_val), ("test", unseen_test)):
        if unseen:
            report.unseen_labels[name] = unseen
    if report.unseen_labels:
        names = sorted({u for v in report.unseen_labels.values() for u in v})
        report.warnings.append(
            f"Some validation or test rows have labels that are not in the training data ({quote(names[:10])}); "
            f"they were left out ({plural(report.dropped['label not in training data'], 'row')}), because the "
            "model cannot predict a label it never saw."
        )
    return val, test


def check_label_count(counts: Counter[str], report: ValidationReport, unit: str = "label") -> None:
    """At most INSIGHT_MAX_LABELS labels (entity types): more is refused before any split is tried."""
    from trainer.data import limits

    if len(counts) > limits.LABELS.value:
        raise fail(report, str(limits.LABELS.refuse("The data", len(counts), f"different {unit}s")))


def check_held_out(
    train: Counter[str], val: Counter[str], test: Counter[str], report: ValidationReport, unit: str = "label"
) -> None:
    """Warn when a training label (entity type) has no validation or no test example: its scores cannot be
    measured, so the report says which."""
    parts = [
        (name, [lab for lab in train if not counts[lab]])
        for name, counts in (("validation", val), ("test", test))
    ]
    parts = [(name, missing) for name, missing in parts if missing]
    if not parts:
        return
    said = " and ".join(
        f"{plural(len(missing), unit)} {'has' if len(missing) == 1 else 'have'} no {name} example"
        for name, missing in parts
    )
    names = list(dict.fromkeys(lab for _, missing in parts for lab in missing))
    listed = quote(names[:8]) + (f" and {len(names) - 8:,} more" if len(names) > 8 else "")
    report.missing_held_out = {name: missing for name, missing in parts}
    report.warnings.append(
        f"{said[0].upper()}{said[1:]}, so how well the model does on them is not measured: {listed}. "
        f"Add rows of them (with 3 or more rows, a {unit} gets one in each split), or give your own validation "
        "and test files."
    )
