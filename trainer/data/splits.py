"""Train / validation / test: the user's own files, a split column, or a seeded stratified random split.

Decisions a caller relies on:
- A label with fewer than 3 rows stays in training; every label keeps at least 2 training rows.
- Stratified by label where the task has one label per example (`stratify`); sentences split at random.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from trainer.data.checks import MIN_TRAIN_EXAMPLES
from trainer.data.errors import DataError, Message, fail
from trainer.data.report import ValidationReport, quote
from trainer.data.rows import Example
from trainer.i18n import N_, tr

MIN_ROWS_TO_SPLIT = 10


@dataclass
class Split:
    """One split. Text task: texts + labels. Token task: tokens + one tag list per sentence."""

    texts: list[str]  # text task: the text; token task: " ".join(tokens)
    labels: list  # text task: list[str]; token task: list[list[str]]
    tokens: list[list[str]] | None = None
    rows: list[int] | None = None  # each example's row in its file (0-based, header excluded)

    def __len__(self) -> int:
        return len(self.texts)

    def to_frame(self) -> pd.DataFrame:
        """Columns text,label (token task: tokens,tags, space-joined), then row when known."""
        if self.tokens is not None:
            frame = pd.DataFrame(
                {"tokens": [" ".join(t) for t in self.tokens], "tags": [" ".join(t) for t in self.labels]}
            )
        else:
            frame = pd.DataFrame({"text": list(self.texts), "label": list(self.labels)})
        if self.rows is not None:
            frame["row"] = list(self.rows)
        return frame


def _holdout_size(n: int, fraction: float) -> int:
    return 0 if fraction <= 0 else max(1, round(n * fraction))


def _strata(labels: np.ndarray) -> np.ndarray:
    """Labels to stratify on: a label with a single row joins the most common label's stratum."""
    counts = Counter(labels.tolist())
    common = counts.most_common(1)[0][0]
    return np.asarray([lab if counts[lab] >= 2 else common for lab in labels.tolist()], dtype=object)


def _split_two(indices: np.ndarray, size: int, strata: np.ndarray | None, seed: int) -> tuple[Any, Any, bool]:
    """(kept, held out, stratified?) with sklearn; unstratified when the classes are too small."""
    from sklearn.model_selection import train_test_split

    if strata is not None:
        try:
            kept, held = train_test_split(
                indices, test_size=size, random_state=seed, stratify=_strata(strata)
            )
            return kept, held, True
        except ValueError:
            pass
    kept, held = train_test_split(indices, test_size=size, random_state=seed)
    return kept, held, strata is None


def _random_split(
    labels: list,
    val_fraction: float,
    test_fraction: float,
    seed: int,
    report: ValidationReport,
    stratify: bool,
) -> tuple[list[int], list[int], list[int]]:
    """Stratified (text task) 3-way split of row indices; each class keeps 2+ rows in training."""
    n = len(labels)
    n_val, n_test = _holdout_size(n, val_fraction), _holdout_size(n, test_fraction)
    if n_val + n_test == 0:
        return list(range(n)), [], []
    if n < MIN_ROWS_TO_SPLIT or n - n_val - n_test < MIN_TRAIN_EXAMPLES:
        raise fail(
            report,
            Message(
                N_(
                    "Only {n} usable rows: too few to set some aside for validation and testing (at least "
                    "{minimum} are needed). Add more rows{or_eval_file}."
                ),
                n=n,
                minimum=MIN_ROWS_TO_SPLIT,
            ),
        )
    y = np.asarray(labels, dtype=object) if stratify else None
    counts = Counter(labels) if y is not None else Counter()
    forced = np.asarray([counts[lab] < 3 for lab in labels]) if y is not None else np.zeros(n, bool)
    if (~forced).sum() <= n_val + n_test:  # nearly every label is tiny: split everything at random
        forced[:] = False
    pool = np.flatnonzero(~forced)
    strata = None if y is None else y[pool]
    train, held, stratified = _split_two(pool, n_val + n_test, strata, seed)
    if n_val and n_test:
        val, test, second = _split_two(held, n_test, None if y is None else y[held], seed)
        stratified = stratified and second
    else:
        val, test = (held, np.asarray([], int)) if n_val else (np.asarray([], int), held)
    train = np.concatenate([np.flatnonzero(forced), train]).astype(int)
    if forced.any():
        tiny = sorted({labels[i] for i in np.flatnonzero(forced)})
        report.notes.append(
            tr("Labels with fewer than 3 rows are kept in training only: {labels}.", labels=quote(tiny[:10]))
        )
    if y is not None and not stratified:
        report.notes.append(tr("Too few rows per label to keep the label shares equal in every split."))
    if y is not None:
        train, val, test = _keep_two_in_train(list(train), list(val), list(test), labels)
    return sorted(map(int, train)), sorted(map(int, val)), sorted(map(int, test))


def _keep_two_in_train(train: list, val: list, test: list, labels: list) -> tuple[list, list, list]:
    """Move rows of a class back from test (then validation) until it has 2 training rows."""
    in_train = Counter(labels[i] for i in train)
    for donor in (test, val):
        for i in list(donor):
            if in_train[labels[i]] < MIN_TRAIN_EXAMPLES:
                donor.remove(i)
                train.append(i)
                in_train[labels[i]] += 1
    return train, val, test


def check_fractions(val_fraction: float, test_fraction: float) -> None:
    if not (0 <= val_fraction < 1 and 0 <= test_fraction < 1 and val_fraction + test_fraction < 1):
        raise DataError(
            tr(
                "The validation and test shares must be between 0 and 1 and add up to less than 1 "
                "(got {validation} and {test}).",
                validation=val_fraction,
                test=test_fraction,
            )
        )


def make_splits(
    examples: list[Example],
    others: dict[str, list[Example]],
    split_column: str | None,
    fractions: tuple[float, float],
    seed: int,
    report: ValidationReport,
    stratify: bool,
) -> tuple[list[Example], list[Example], list[Example]]:
    def pick(idx: list[int]) -> list[Example]:
        return [examples[i] for i in idx]

    def random(val_fraction: float, test_fraction: float) -> tuple[list, list, list]:
        labels = [ex.y for ex in examples]
        return tuple(map(pick, _random_split(labels, val_fraction, test_fraction, seed, report, stratify)))

    if "validation" in others and "test" in others:
        return examples, others["validation"], others["test"]
    if "validation" in others:
        report.notes.append(
            tr("The evaluation file is used for both validation and test; all rows of the main file train.")
        )
        return examples, others["validation"], others["validation"]
    if "test" in others:
        train, val, _ = random(fractions[0], 0.0)
        return train, val, others["test"]
    if split_column:
        groups = {s: [ex for ex in examples if ex.split == s] for s in ("train", "validation", "test")}
        if not groups["train"]:
            raise fail(
                report,
                tr(
                    'The split column "{column}" marks no row as train. Mark the training rows "train".',
                    column=split_column,
                ),
            )
        if not groups["validation"] and not groups["test"]:
            report.notes.append(
                tr(
                    'The split column "{column}" marks every row as train; they were split at random.',
                    column=split_column,
                )
            )
            examples = groups["train"]
            return random(*fractions)
        val = groups["validation"] or groups["test"]
        test = groups["test"] or groups["validation"]
        if not groups["validation"] or not groups["test"]:
            report.notes.append(
                tr("The split column has only one evaluation split; it is used for both validation and test.")
            )
        report.notes.append(tr('Used the split column "{column}".', column=split_column))
        return groups["train"], val, test
    return random(*fractions)


def overlap_warning(train: list[Example], val: list, test: list, report: ValidationReport) -> None:
    seen = {ex.x for ex in train}
    held = {id(ex): ex for ex in val + test}.values()
    overlap = sum(1 for ex in held if ex.x in seen)
    if overlap:
        report.warnings.append(
            tr(
                "{n} validation/test rows also appear in the training data; scores on them overstate how "
                "well the model does on new text.",
                n=overlap,
            )
        )
