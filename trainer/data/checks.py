"""Checks on the training classes (enough of each, balanced) and on held-out labels the model never saw."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from trainer import i18n
from trainer.data.errors import Message, fail
from trainer.data.report import ValidationReport, quote
from trainer.data.rows import Example
from trainer.i18n import N_, tr, trn

MIN_TRAIN_EXAMPLES = 2  # fewer in training: error
FEW_EXAMPLES = 10  # fewer in training: warning
IMBALANCE_WARNING = 10.0  # largest / smallest class
UNSEEN = N_("label not in training data")  # the reason such held-out rows were dropped (report.dropped)
# What the task adapters count, as the messages here say it (trainer.tasks: balance_unit, label_word).
UNITS = (N_("examples"), N_("entities"), N_("label"), N_("entity type"))
# More labels (entity types) than INSIGHT_MAX_LABELS, as trainer.data.limits counts them.
DIFFERENT = {"label": "different labels", "entity type": "different entity types"}
# A label column with more distinct values than this and than half its rows holds text or ids, not labels:
# its average label has fewer than MIN_TRAIN_EXAMPLES rows, so most labels cannot be learned; the half is the
# rule by which trainer.data.columns rules a column out when it proposes one. The floor of 50 leaves small
# files with a few rare labels to the rare-label message, which can offer to drop them.
LABEL_LIKE_MAX = 50
LISTED = 5  # values named inline, at most; the rest are counted ("and 12 more")
LOOKS_LIKE_TEXT = N_(
    'The label column "{column}" has {n} different values in {rows} rows ({listed}), so it looks like text '
    "or an id, not a label: a label repeats, each needs at least 2 rows. The labels seem to be in "
    '"{proposed}" ({k} different values): choose it with {label_column}.'
)
LOOKS_SWAPPED = N_(
    'The label column "{column}" has {n} different values in {rows} rows ({listed}), so it looks like text '
    'or an id, not a label: a label repeats, each needs at least 2 rows. The columns look swapped: "{proposed}" '
    '({k} different values) seems to hold the labels and "{column}" the text. Swap them with {columns}.'
)
LOOKS_LIKE_TEXT_NO_PROPOSAL = N_(
    'The label column "{column}" has {n} different values in {rows} rows ({listed}), so it looks like text '
    "or an id, not a label: a label repeats, each needs at least 2 rows. Choose the column that holds the "
    "labels with {label_column}."
)


def and_more(listed: str, more: int) -> str:
    """A list cut short: '"a", "b" and 3 more'."""
    return tr("{listed} and {n} more", listed=listed, n=i18n.number(more)) if more > 0 else listed


def listed_values(values: list[str], width: int = 40) -> str:
    """At most LISTED values, quoted and each cut to `width` characters, then how many more."""
    shown = [v if len(v) <= width else v[: width - 1] + "…" for v in values[:LISTED]]
    return and_more(quote(shown), len(values) - LISTED)


def looks_like_text_or_id(distinct: int, rows: int) -> bool:
    """Whether a label column with `distinct` values in `rows` rows holds text or ids (LABEL_LIKE_MAX)."""
    return distinct > LABEL_LIKE_MAX and distinct > rows / 2


def check_labels(counts: Counter[str], report: ValidationReport) -> None:
    """One label per example: at least two labels, each with MIN_TRAIN_EXAMPLES training rows."""
    if len(counts) == 1:
        raise fail(
            report,
            Message(
                N_(
                    'Every training row has the same label ("{label}"). A classifier needs at least two '
                    "different labels: add examples of another label, or check that {label_column} names the "
                    "label column."
                ),
                label=next(iter(counts)),
            ),
        )
    rare = [lab for lab, n in counts.most_common()[::-1] if n < MIN_TRAIN_EXAMPLES]
    if rare:
        listed = and_more(quote(rare[:5]), len(rare) - 5)
        report.rare_labels = list(rare)
        raise fail(
            report,
            Message(
                N_(
                    "These labels have fewer than {minimum} examples in the training data: {listed}. "
                    "Every label needs at least 2 (10 or more works better): add examples, or remove those rows. "
                    "If that column is not the label, name the right one with {label_column}."
                ),
                minimum=MIN_TRAIN_EXAMPLES,
                listed=listed,
            ),
        )


def check_entities(counts: Counter[str], report: ValidationReport, read_only: bool) -> None:
    """Tags per word: some entity to learn (only a warning when the file is only read)."""
    if not counts and report.tag_scheme != "unknown":
        message = Message(
            N_(
                "Every word is tagged O, so there are no entities to learn. Tag the entities (like B-PER, I-PER), "
                "or check that {label_column} names the tag column."
            )
        )
        if not read_only:
            raise fail(report, message)
        report.warnings.append(message)


def check_balance(counts: Counter[str], report: ValidationReport, unit: str) -> None:
    """Warn about classes with few training `unit` (examples, entities: one of UNITS) and about imbalance."""
    few = [f'"{lab}" ({n})' for lab, n in sorted(counts.items()) if n < FEW_EXAMPLES]
    if few:
        report.warnings.append(
            tr(
                "Few training {unit} for: {listed}. The model will be unreliable on these; "
                "aim for at least {minimum} each.",
                unit=tr(unit),
                listed=", ".join(few[:10]),
                minimum=FEW_EXAMPLES,
            )
        )
    if len(counts) >= 2:
        (big, n_big), (small, n_small) = counts.most_common()[0], counts.most_common()[-1]
        report.imbalance_ratio = round(n_big / n_small, 2)
        if report.imbalance_ratio > IMBALANCE_WARNING:
            report.warnings.append(
                Message(
                    N_(
                        'The labels are unbalanced: "{big}" has {n_big} training examples and "{small}" only '
                        "{n_small} ({ratio} to 1). Add examples of the rare labels, or turn on class weights "
                        "({class_weights})."
                    ),
                    big=big,
                    n_big=n_big,
                    small=small,
                    n_small=n_small,
                    ratio=f"{report.imbalance_ratio:.0f}",
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
        report.dropped[UNSEEN] = report.dropped.get(UNSEEN, 0) + len(part) - len(kept)
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
            trn(
                "Some validation or test rows have labels that are not in the training data ({labels}); "
                "they were left out ({n} row), because the model cannot predict a label it never saw.",
                "Some validation or test rows have labels that are not in the training data ({labels}); "
                "they were left out ({n} rows), because the model cannot predict a label it never saw.",
                report.dropped[UNSEEN],
                labels=quote(names[:10]),
            )
        )
    return val, test


def check_label_column(counts: Counter[str], report: ValidationReport, frame: Any, used: tuple) -> None:
    """One label per row: a column with almost as many values as rows is refused as text or an id, naming
    a handful of its values and the column that looks like the label (`used`: the text and label columns)."""
    rows = sum(counts.values())
    if not looks_like_text_or_id(len(counts), rows):
        return
    from trainer.data.columns import likely_label_column

    values = dict(column=str(used[1]), n=i18n.number(len(counts)), rows=i18n.number(rows),
                  listed=listed_values([label for label, _ in counts.most_common()]))  # fmt: skip
    proposed = likely_label_column(frame, used) if frame is not None else None
    if proposed is None:
        raise fail(report, Message(LOOKS_LIKE_TEXT_NO_PROPOSAL, **values))
    column, distinct = proposed
    template = LOOKS_SWAPPED if column == used[0] else LOOKS_LIKE_TEXT
    raise fail(report, Message(template, proposed=column, k=i18n.number(distinct), **values))


def check_label_count(
    counts: Counter[str], report: ValidationReport, unit: str = "label", frame: Any = None, used: tuple = ()
) -> None:
    """At most INSIGHT_MAX_LABELS labels (entity types): more is refused before any split is tried. One
    label per row (`unit` "label"): a label column that looks like text or an id is refused first."""
    import trainer.data.limits as limits

    if unit == "label" and len(used) == 2:
        check_label_column(counts, report, frame, used)
    if len(counts) > limits.LABELS.value:
        refused = limits.LABELS.refuse(tr("The data"), len(counts), DIFFERENT.get(unit, f"different {unit}s"))
        raise fail(report, str(refused))


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
    said = [
        trn(
            "{n} {unit} has no {split} example",
            "{n} {unit}s have no {split} example",
            len(missing),
            unit=tr(unit),
            split=tr(name),
        )
        for name, missing in parts
    ]
    names = list(dict.fromkeys(lab for _, missing in parts for lab in missing))
    listed = and_more(quote(names[:8]), len(names) - 8)
    report.missing_held_out = {name: missing for name, missing in parts}
    report.warnings.append(
        tr(
            "{missing}, so how well the model does on them is not measured: {listed}. Add rows of them (with 3 "
            "or more rows, a {unit} gets one in each split), or give your own validation and test files.",
            missing=tr("{first} and {second}", first=said[0], second=said[1]) if len(said) > 1 else said[0],
            listed=listed,
            unit=tr(unit),
        )
    )
