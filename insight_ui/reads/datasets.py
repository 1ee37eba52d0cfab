"""The current dataset: accepting files, the samples, and cached reading/validation.

Light imports only (pandas, trainer.data): the Data page must not import torch.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from insight_ui import state
from trainer import i18n
from trainer.data import CONLL_EXTENSIONS, DataError, ValidationReport, read_table
from trainer.data.isolated import run as run_isolated
from trainer.i18n import N_, tr
from trainer.prepare import PreparedData, prepare_checked, propose_columns, propose_task
from trainer.tasks import TASKS, TOKEN_TASK

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_data"
SAMPLE_EXTENSIONS = (".csv", ".tsv", ".jsonl", ".json", ".conll", ".bio", ".iob")
SAMPLE_TITLES = {
    "product_sentiment.csv": N_("Product reviews"),
    "support_intents.csv": N_("Support intents"),
    "chinese_reviews.csv": N_("Chinese reviews"),
    "news_entities.conll": N_("News entities"),
    "chinese_entities.conll": N_("Chinese entities"),
}
SAMPLE_NOTES = {
    "product_sentiment.csv": N_("Product reviews labeled positive, negative or neutral."),
    "support_intents.csv": N_("Customer-support messages labeled by intent."),
    "chinese_reviews.csv": N_(
        "Chinese reviews: needs a model that reads Chinese (the data check says how to add one)."
    ),
    "chinese_entities.conll": N_(
        "Chinese sentences with people, places and organisations tagged, one character per line: needs a model "
        "that reads Chinese."
    ),
    "news_entities.conll": N_(
        "News sentences with people, places and organisations tagged (named entities)."
    ),
}


UNLABELED_SAMPLES = ("market_news.csv",)  # new text to score on the Apply page, not training data
# The samples the default model (all-MiniLM-L6-v2, English) cannot read: listed after the others, their notes
# say they need a model that reads Chinese.
NEEDS_CHINESE_MODEL = ("chinese_reviews.csv", "chinese_entities.conll")
# The order the Data page offers the known samples in: what the default model reads first, the easiest first.
SAMPLE_ORDER = ("product_sentiment.csv", "support_intents.csv", "news_entities.conll", *NEEDS_CHINESE_MODEL)


def _sample_rank(path: Path) -> tuple[int, int, str]:
    """Known samples the default model reads, then the other files, then those it cannot read."""
    if path.name in NEEDS_CHINESE_MODEL:
        return 2, SAMPLE_ORDER.index(path.name), path.name
    if path.name in SAMPLE_ORDER:
        return 0, SAMPLE_ORDER.index(path.name), path.name
    return 1, 0, path.name


def samples() -> list[Path]:
    """The labeled sample files shipped in sample_data/: the ones the default model reads first (known ones
    in SAMPLE_ORDER), those that need a model that reads Chinese last."""
    if not SAMPLE_DIR.is_dir():
        return []
    files = [
        p
        for p in SAMPLE_DIR.iterdir()
        if p.is_file() and p.suffix.lower() in SAMPLE_EXTENSIONS and p.name not in UNLABELED_SAMPLES
    ]
    return sorted(files, key=_sample_rank)


def accept(name: str, raw: bytes, origin: str) -> bool:
    """Make a file the current dataset if it can be read; otherwise keep the old one and say why."""
    try:
        read_frame(name, raw)
    except DataError as exc:
        state.put(state.DATA_MESSAGE, tr("{name} was not loaded: {problem}", name=name, problem=str(exc)))
        return False
    state.set_dataset(name, raw, origin)
    return True


def take_incoming() -> None:
    """Handle a file the uploader (or a test) put into session state."""
    incoming = state.get(state.INCOMING)
    if incoming:
        state.put(state.INCOMING, None)
        accept(incoming[0], incoming[1], "upload")


def on_upload() -> None:
    """file_uploader callback: copy the file into session state as (name, bytes)."""
    uploaded = state.get(state.UPLOADER)
    if uploaded is not None:
        state.put(state.INCOMING, (uploaded.name, uploaded.getvalue()))


def load_sample(path: str) -> None:
    """Button callback: load one of the samples."""
    accept(Path(path).name, Path(path).read_bytes(), "sample")


# Files larger than this are read and checked in a child process (trainer.data.isolated): a parse that
# takes seconds of CPU must not hold up the other visitors this server process serves.
ISOLATE_OVER_BYTES = 1_000_000


def isolated(raw: bytes) -> bool:
    return len(raw) > ISOLATE_OVER_BYTES


@st.cache_resource(show_spinner=False, max_entries=8, ttl="1h")
def read_frame(name: str, raw: bytes) -> pd.DataFrame:
    """The file as a table (CoNLL: tokens, tags). Raises DataError."""
    if isolated(raw):
        return run_isolated("trainer.data.readers:read_table", (name, raw))
    return read_table((name, raw))


def proposal(frame: pd.DataFrame, task: str) -> tuple[str | None, str | None]:
    """The proposed (text, label) columns for `task`."""
    return propose_columns(frame, task)


def proposed_task(name: str, frame: pd.DataFrame) -> str:
    """Named entities for CoNLL files and token/tag tables, text classification otherwise."""
    return TOKEN_TASK if Path(name).suffix.lower() in CONLL_EXTENSIONS else propose_task(frame)


@dataclass
class Prepared:
    """The outcome of validation: data to train on, or the message and what was found so far."""

    task: str
    data: PreparedData | None
    error: str | None  # a trainer message: show it with `in_app`
    report: ValidationReport | None
    tokenizer_problem: str | None = None


@st.cache_resource(show_spinner=False, max_entries=8, ttl="1h")
def prepared(
    name: str,
    raw: bytes,
    task: str,
    text_column: str | None,
    label_column: str | None,
    backbone: str,
    seed: int = 42,
    max_length: int | None = None,
    lang: str | None = None,
) -> Prepared:
    """Validate and split the dataset, with the backbone's tokenizer checks when it loads; its messages in
    `lang` (the visitor's language by default: part of the cache key, the cache is shared)."""
    if lang is None:
        return prepared(
            name, raw, task, text_column, label_column, backbone, seed, max_length, i18n.language()
        )
    from insight_ui import auth

    try:
        backbone = auth.model_for(backbone.strip() or "default")
    except ValueError as exc:  # with sign-in on, a folder outside the model roots: checked without it
        data_only = prepared(name, raw, task, text_column, label_column, "default", seed, max_length, lang)
        return Prepared(data_only.task, data_only.data, data_only.error, data_only.report, str(exc))
    options = {"task": task, "text_column": text_column, "label_column": label_column,
               "max_length": max_length, "seed": seed}  # fmt: skip
    if isolated(raw):
        data, error, problem = run_isolated(
            "trainer.prepare:prepare_checked", (name, raw), backbone, **options
        )
    else:
        data, error, problem = prepare_checked((name, raw), backbone, **options)
    if error is not None:
        return Prepared(task, None, error.message, error.report, problem)
    return Prepared(data.task, data, None, data.report, problem)


def current_choice() -> tuple[str, str | None, str | None] | None:
    """(task, text column, label column) of the current dataset: the visitor's choice, else the proposal."""
    dataset = state.get(state.DATASET)
    if not dataset:
        return None
    name, raw = dataset
    frame = read_frame(name, raw)
    task = state.get(state.TASK_CHOICE)
    task = task if task in TASKS else proposed_task(name, frame)
    guess = proposal(frame, task)
    text_column = state.get(state.TEXT_COLUMN)
    label_column = state.get(state.LABEL_COLUMN)
    # A choice that names no column of this file (left from another file) is never kept.
    return (
        task,
        text_column if text_column in frame.columns else guess[0],
        label_column if label_column in frame.columns else guess[1],
    )


def current_prepared(seed: int = 42, max_length: int | None = None) -> Prepared | None:
    """The current dataset validated with the current column choices (None when nothing is loaded)."""
    choice = current_choice()
    if choice is None:
        return None
    name, raw = state.get(state.DATASET)
    backbone = state.get(state.BACKBONE) or "default"
    return prepared(name, raw, *choice, backbone, seed, max_length)


# No action on the Data page removes more than this share of a file's rows: that many is a wrong column
# choice or a wrong file, not a cleaning step.
MAX_DROP_SHARE = 0.5


def _labeled(frame: pd.DataFrame, label_column: str, labels: list[str]) -> pd.Series:
    """Which rows have one of `labels` (compared as the report merges them: trimmed, any case)."""
    unwanted = {str(label).strip().casefold() for label in labels}
    return frame[label_column].astype(str).str.strip().str.casefold().isin(unwanted)


def rows_labeled(name: str, raw: bytes, label_column: str, labels: list[str]) -> tuple[int, int]:
    """(rows whose label is one of `labels`, all rows): what dropping them would remove, said before."""
    frame = read_frame(name, raw)
    return int(_labeled(frame, label_column, labels).sum()), len(frame)


def without_labels(name: str, raw: bytes, label_column: str, labels: list[str]) -> tuple[str, bytes, int]:
    """The dataset as CSV without the rows whose label is one of `labels`; returns (new name, bytes, rows
    dropped). Refuses (ValueError) to drop more than MAX_DROP_SHARE of the rows."""
    frame = read_frame(name, raw)
    drop = _labeled(frame, label_column, labels)
    if int(drop.sum()) > MAX_DROP_SHARE * len(frame):
        raise ValueError(f"{int(drop.sum())} of {len(frame)} rows: more than half the file")
    buffer = io.StringIO()
    frame[~drop].to_csv(buffer, index=False)
    stem = Path(name).stem.removesuffix("-without-rare-labels")
    return f"{stem}-without-rare-labels.csv", buffer.getvalue().encode("utf-8"), int(drop.sum())
