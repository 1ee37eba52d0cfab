"""prepare(): read, clean, check and split a dataset; the task adapter decides what differs per task."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from trainer.data.checks import check_held_out, check_label_count, drop_unseen
from trainer.data.columns import choose_columns, find_split_column, is_token_table
from trainer.data.errors import DataError, Message, fail
from trainer.data.readers import CONLL_EXTENSIONS, Loaded, Source, read
from trainer.data.report import ValidationReport, measure
from trainer.data.rows import Example, dedupe, extract
from trainer.data.splits import Split, check_fractions, make_splits, overlap_warning
from trainer.tasks import TEXT_TASK, TOKEN_TASK, Task, get_task, task_name


@dataclass
class PreparedData:
    """Validated splits ready for training, with the report and the columns used."""

    task: str
    labels: list[str]
    train: Split
    validation: Split
    test: Split
    report: ValidationReport
    text_column: str | None
    label_column: str | None


def _task(name: str | None) -> str | None:
    try:
        return task_name(name)
    except ValueError as exc:
        raise DataError(str(exc)) from None


def propose_task(data: pd.DataFrame | Source) -> str:
    """Token task for CoNLL files and tables with a tokens column and a matching tags column."""
    if not isinstance(data, pd.DataFrame):
        name = data[0] if isinstance(data, tuple) else str(data)
        if name.lower().endswith(CONLL_EXTENSIONS):
            return TOKEN_TASK
        loaded = read(data)
        if loaded.frame is None:
            return TOKEN_TASK
        data = loaded.frame
    return TOKEN_TASK if is_token_table(data) else TEXT_TASK


def propose_columns(df: pd.DataFrame, task: str | None = None) -> tuple[str | None, str | None]:
    """(text column, label column); for the token task (tokens column, tags column). None: no guess."""
    return get_task(_task(task) or propose_task(df)).propose_columns(df)


def _columns(loaded: Loaded, task: Task, given: tuple, report: ValidationReport) -> tuple:
    if loaded.frame is None:
        if not task.reads_conll:
            raise fail(
                report,
                Message(
                    '"{name}" is a CoNLL file (one word and its tag per line), which is for tagging words, '
                    "not for classifying texts. Choose the token task ({task_token}).",
                    name=loaded.name,
                ),
            )
        return None, None
    proposed = task.propose_columns(loaded.frame)
    return choose_columns(loaded.frame, loaded.name, given, proposed, task.column_things, report)


def _read_other(source: Source, task: Task, columns: tuple, report: ValidationReport) -> list[Example]:
    """An evaluation or test file, read with the main file's columns (or its own proposal)."""
    loaded = read(source)
    if loaded.frame is not None and not all(c in loaded.frame.columns for c in columns):
        guess = task.propose_columns(loaded.frame)
        missing = next(c for c in columns if c not in loaded.frame.columns)
        if None in guess or guess[0] == guess[1]:
            found = ", ".join(map(str, loaded.frame.columns)) or "(none)"
            raise fail(
                report,
                f'"{loaded.name}" has no column "{missing}". Columns found: {found}. '
                "Use the same column names as in the training file.",
            )
        columns = guess
    if loaded.frame is None:
        _columns(loaded, task, (None, None), report)
    return extract(loaded, task.parse_row, columns, None, report)


def prepare(
    data: Source,
    *,
    eval_data: Source | None = None,
    test_data: Source | None = None,
    text_column: str | None = None,
    label_column: str | None = None,
    split_column: str | None = None,
    task: str | None = None,
    tokenizer: Any = None,
    max_length: int | None = None,
    model_max_length: int = 512,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
    seed: int = 42,
) -> PreparedData:
    """Read, clean, check and split the data.

    Args:
        data: a file path, or (file name, bytes) of an upload: CSV, TSV, JSON Lines, JSON or CoNLL.
        eval_data, test_data: the user's own validation / test files (else split from `data`).
        text_column, label_column: the columns to use (else proposed from names and contents).
        task: "text-classification" or "token-classification" (or "text", "token"); else proposed.
        tokenizer: the backbone's tokenizer, for the length and vocabulary checks (optional).
        max_length: the user's max length (else chosen from the data when a tokenizer is given).

    Returns:
        PreparedData: the task, label names in model order, the three splits and the report.

    Raises:
        DataError: the data cannot be trained on; `.report` holds what was found so far.

    Example:
        >>> data = prepare("reviews.csv", tokenizer=load_tokenizer("default"))
        >>> print(data.report.to_text())
    """
    check_fractions(val_fraction, test_fraction)
    main = read(data)
    adapter = get_task(_task(task) or (TOKEN_TASK if main.frame is None else propose_task(main.frame)))
    report = adapter.new_report()
    columns = _columns(main, adapter, (text_column, label_column), report)
    has_files = eval_data is not None or test_data is not None
    split_col = None if has_files else find_split_column(main.frame, split_column, columns, report)
    if has_files and split_column:
        report.notes.append(f'The split column "{split_column}" was ignored: evaluation files were given.')
    examples, others = _examples(main, adapter, columns, split_col, (eval_data, test_data), report)
    fractions = (val_fraction, test_fraction)
    train, val, test = make_splits(examples, others, split_col, fractions, seed, report, adapter.stratify)
    read_only = not has_files and split_col is None and val_fraction == 0 and test_fraction == 0
    labels, val, test = _check_splits(adapter, (train, val, test), report, read_only, has_files or split_col)
    if tokenizer is not None:
        _check_lengths(adapter, train + val + test, tokenizer, max_length, model_max_length, report)
    else:
        report.max_length = max_length
    return _prepared(adapter, labels, (train, val, test), report, columns)


def _prepared(adapter: Task, labels: list[str], splits: tuple, report: ValidationReport,
              columns: tuple) -> PreparedData:  # fmt: skip
    """The result: the splits as the task's Split (a test split that is the validation split stays one)."""
    train, val, test = splits
    validation = adapter.to_split(val)
    return PreparedData(
        task=adapter.name,
        labels=labels,
        train=adapter.to_split(train),
        validation=validation,
        test=validation if test is val else adapter.to_split(test),
        report=report,
        text_column=columns[0],
        label_column=columns[1],
    )


def _examples(main: Loaded, adapter: Task, columns: tuple, split_col: str | None, files: tuple,
              report: ValidationReport) -> tuple[list[Example], dict[str, list[Example]]]:  # fmt: skip
    """The main file's usable examples (cleaned, without duplicates) and those of the evaluation and test
    files given (`files`: eval_data, test_data), keyed by their split; no usable row fails."""
    eval_data, test_data = files
    try:
        examples = extract(main, adapter.parse_row, columns, split_col, report)
        others = {}
        if eval_data is not None:
            others["validation"] = _read_other(eval_data, adapter, columns, report)
        if test_data is not None:
            others["test"] = _read_other(test_data, adapter, columns, report)
    except DataError as exc:
        raise fail(report, exc.message) from None
    adapter.clean([examples, *others.values()], report)
    examples = dedupe(examples, report)
    if not examples:
        reasons = ", ".join(f"{k}: {v}" for k, v in report.dropped.items()) or "the file has no data rows"
        raise fail(
            report,
            Message(
                'No usable rows in "{name}" ({reasons}). Check that {columns} name the right columns.',
                name=main.name,
                reasons=reasons,
            ),
        )
    labels_found = adapter.classes(ex.y for ex in examples)
    check_label_count(labels_found, report, adapter.label_word, main.frame, columns)
    adapter.check_examples([ex.y for ex in examples], report)
    return examples, others


def _check_splits(adapter: Task, splits: tuple, report: ValidationReport, read_only: bool,
                  chosen: Any) -> tuple[list[str], list[Example], list[Example]]:  # fmt: skip
    """(label names, validation, test): the training split checked, the held-out splits without labels
    training never saw and checked against it (`chosen`: the splits came from files or a split column),
    and the split sizes counted in the report."""
    train, val, test = splits
    adapter.check_training([ex.y for ex in train], report, read_only)
    labels = adapter.label_names([ex.y for ex in train], report.tag_scheme)
    val, test = drop_unseen(labels, val, test, adapter.labels_of, report)
    if chosen:
        overlap_warning(train, val, test, report)
    if val or test:
        check_held_out(*(adapter.classes(ex.y for ex in part) for part in (train, val, test)), report,
                       adapter.label_word)  # fmt: skip
    splits = {"train": train, "validation": val, "test": test}
    report.rows_used = len({id(ex) for part in splits.values() for ex in part})
    report.split_sizes = {name: len(part) for name, part in splits.items()}
    adapter.count(report, splits)
    return labels, val, test


def _check_lengths(adapter: Task, examples: list[Example], tokenizer: Any, max_length: int | None,
                   model_max_length: int, report: ValidationReport) -> None:  # fmt: skip
    """The length check (max length chosen or checked) and whether the model can read the text at all."""
    used = list({id(ex): ex for ex in examples}.values())
    inputs = adapter.inputs(adapter.to_split(used))
    # A data shape, not a policy: the tokenizer is told whether it reads word lists (is_split_into_words).
    measure(report, tokenizer, inputs, adapter.inputs_are_words, max_length, model_max_length, adapter.unit)
    unread = reading_problem(tokenizer, inputs)
    if unread:
        raise fail(report, unread)


def reading_problem(tokenizer: Any, inputs: list) -> str | None:
    """Why the model cannot read this text (most of it is in a script its vocabulary lacks), with what to
    do: the models that would read it, or how to add one; None when it reads it (or cannot be asked)."""
    from trainer.i18n import tr
    from trainer.model.catalog import model_root, models_reading
    from trainer.model.loading import default_model_path
    from trainer.writing import scripts

    get_vocab = getattr(tokenizer, "get_vocab", None)
    found = scripts.mostly(inputs)
    if get_vocab is None or found is None:
        return None
    script, share = found
    counts = scripts.vocab_scripts(get_vocab())
    if scripts.reads(counts, script):
        return None
    where = str(getattr(tokenizer, "name_or_path", "") or "")
    default = where and Path(where).resolve() == default_model_path().resolve()
    model = tr("the default model (all-MiniLM-L6-v2)") if default or not where else Path(where).name
    readers = [choice.name for choice in models_reading(script)]
    if readers:
        todo = tr("Choose a model that reads them: {models}.", models=", ".join(readers))
    else:
        todo = tr(
            "Add a model that reads them: put a BERT-family model folder (config.json, tokenizer.json and "
            "model.safetensors, as save_pretrained writes them; for Chinese, for example bert-base-chinese or "
            "chinese-roberta-wwm-ext, downloaded elsewhere) in {root}, and choose it as the model: it is then "
            "listed with the languages it reads.",
            root=str(model_root()),
        )
    return tr(
        "{share} of the letters in this text are {script}, which {model} does not read: its vocabulary holds "
        "{known} tokens in them, so a model trained here could not read your data. {todo}",
        share=f"{share:.0%}",
        script=scripts.script_name(script),
        model=model,
        known=counts.get(script, 0),
        todo=todo,
    )


def prepare_checked(
    source: Source, backbone: str, **options: Any
) -> tuple[PreparedData | None, Any, str | None]:
    """prepare() with the backbone's light tokenizer, for the app's Data page (run in a child process by
    trainer.data.isolated): (data or None, the DataError or None, the tokenizer's own problem or None)."""
    from trainer.model.light_tokenizer import load_light_tokenizer

    tokenizer, problem = None, None
    try:
        tokenizer = load_light_tokenizer(backbone)
    except (ValueError, OSError) as exc:
        problem = str(exc)
    try:
        return prepare(source, tokenizer=tokenizer, **options), None, problem
    except DataError as exc:
        return None, exc, problem
