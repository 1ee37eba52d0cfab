"""Every st.session_state key and its default, in one place; process-wide cached resources.

Per-visitor things (what was uploaded, the chosen columns, the current run) live in session state.
Process-wide things (the JobManager, in-process computations, loaded models) are `st.cache_resource`, so a
job survives a browser refresh and a second tab sees the same runs.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import streamlit as st

from trainer.jobs.manager import JobManager
from trainer.jobs.threads import ComputationRegistry

# ---------------------------------------------------------------- session keys

DATASET = "dataset"  # (file name, raw bytes) of the current dataset, or None
DATASET_ORIGIN = "dataset_origin"  # "upload", "sample" or "corrected": where it came from
DATA_MESSAGE = "data_message"  # the plain message of the last rejected file, or None
ORIGINAL_DATASET = "original_dataset"  # (name, raw bytes, origin) a corrected copy was made from, or None
INCOMING = "incoming"  # (file name, raw bytes) just uploaded, not yet checked; the Data page takes it
LAST_UPLOAD = "last_upload"  # file_id of the last upload handled, so a rerun does not redo it
TASK_CHOICE = "task_choice"  # widget key: text-classification / token-classification, per dataset
TEXT_COLUMN = "text_column"  # widget key: the chosen text (or tokens) column
LABEL_COLUMN = "label_column"  # widget key: the chosen label (or tags) column
BACKBONE = "backbone"  # widget key: the model to fine-tune (and whose tokenizer checks the data)
CURRENT_RUN = "current_run"  # path (str) of the run the analysis pages show, or None
CURRENT_JOB = "current_job"  # id of the job this visitor started last, or None
JOB_SEEN_ACTIVE = "job_seen_active"  # job id the progress panel last saw running (to refresh at its end)
EXPLAIN_TEXT = "explain_text"  # the text to explain, set by any page, or None
EXPLAIN_WORD = "explain_word"  # token task: the index of the word to explain in EXPLAIN_TEXT, or None
EXPLAIN_ORIGIN = "explain_origin"  # a short description of where EXPLAIN_TEXT came from
EXPLAIN_CHANGED = (
    "explain_changed"  # a small change of EXPLAIN_TEXT, explained beside it by the same run, or None
)
EXPLAIN_COMPARE = "explain_compare"  # widget key: path of a second run explained side by side, or None
EXPLAIN_MODE = "explain_mode"  # widget key: "test" (an example of the test split) or "own" (typed)
OWN_TEXT = "own_text"  # widget key: the text typed on the Explain page
APPLY_FILE = "apply_file"  # path (str) of the file of new text chosen on the Apply page, or None
APPLY_SCORING = "apply_scoring"  # {run path: name of the scoring the Apply page shows}
MONITOR_OPEN = "monitor_open"  # name of the monitor the Monitors page shows, or None
STORAGE_MESSAGE = "storage_message"  # what the last delete on the Train page freed, shown once
STORAGE_RUN = "storage_run"  # path (str) of the run whose space the Train page shows
LANGUAGE = "language"  # "en" or "zh": the language this visitor reads (insight_ui.language decides it)
LANGUAGE_SWITCH = "language_switch"  # widget key: the sidebar's language switch
SIGNED_IN = "signed_in"  # {"id", "name", "admin", "since", "mode", "stamp"} of who signed in
SIGN_IN_NOTE = "sign_in_note"  # why a sign-in ended (an untranslated message), shown once by the sign-in form
UPLOADER = "uploader"  # widget key: the Data page's file uploader
BACKBONE_PICK = "backbone_pick"  # the model last clicked among the pills beside the backbone box, or None
COMPARE_RUNS = "compare_runs"  # widget key: paths of the runs the Compare page compares, the baseline first
CM_TRUE = "cm_true"  # widget key: the true label of the confusion matrix cell Evaluate lists
CM_PRED = "cm_pred"  # widget key: the predicted label of that cell
CM_CLICK = "cm_last_click"  # (true, predicted) of the heatmap cell last clicked, so a rerun does not redo it
EMBEDDING_COLOUR = "emb_colour"  # widget key: what colours the dots of the Embeddings page
OWN_RULE = "own_rule"  # {run path: the rule (as JSON) a person is trying on Evaluate's small changes}

# Train form widgets: kept for the whole session, so leaving the page does not reset them.
FORM_KEYS = {
    "epochs": "form_epochs",
    "batch_size": "form_batch_size",
    "learning_rate": "form_learning_rate",
    "pooling": "form_pooling",
    "max_length": "form_max_length",
    "lora": "form_lora",
    "class_weights": "form_class_weights",
    "early_stopping_patience": "form_patience",
    "seed": "form_seed",
    "max_steps": "form_max_steps",
    "name": "form_run_name",
    "effort": "form_effort",
}

DEFAULTS: dict[str, Any] = {
    DATASET: None,
    DATASET_ORIGIN: None,
    DATA_MESSAGE: None,
    ORIGINAL_DATASET: None,
    INCOMING: None,
    LAST_UPLOAD: None,
    CURRENT_RUN: None,
    CURRENT_JOB: None,
    JOB_SEEN_ACTIVE: None,
    EXPLAIN_TEXT: None,
    EXPLAIN_ORIGIN: None,
    EXPLAIN_WORD: None,
    EXPLAIN_CHANGED: None,
    APPLY_FILE: None,
    APPLY_SCORING: {},
    MONITOR_OPEN: None,
    OWN_RULE: {},
}


def init() -> None:
    """Give every non-widget key its default (called at the top of every page)."""
    for key, value in DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = value.copy() if isinstance(value, dict) else value


def get(key: str) -> Any:
    """A session value, or its default."""
    default = DEFAULTS.get(key)
    return st.session_state.get(key, default.copy() if isinstance(default, dict) else default)


def put(key: str, value: Any) -> None:
    """Store a session value."""
    st.session_state[key] = value


def has(key: str) -> bool:
    """Whether the session holds `key` (a widget key is absent until its widget is drawn or set)."""
    return key in st.session_state


def pop(key: str) -> Any:
    """Remove `key` from the session; returns its value (None when it was not there)."""
    return st.session_state.pop(key, None)


def forget(*keys: str) -> None:
    """Remove each of `keys` from the session."""
    for key in keys:
        st.session_state.pop(key, None)


def keep_if_among(key: str, allowed: Any) -> None:
    """Forget a widget's value that is no longer one of `allowed`, so the widget starts from its default."""
    if st.session_state.get(key) not in allowed:
        st.session_state.pop(key, None)


def put_unless_among(key: str, allowed: Any, value: Any) -> None:
    """Set `key` to `value` unless it already holds one of `allowed` (a choice left from another file or run)."""
    if st.session_state.get(key) not in allowed:
        st.session_state[key] = value


def set_dataset(name: str, raw: bytes, origin: str) -> None:
    """Make (name, raw) the current dataset and forget choices that belonged to the previous one. A
    corrected copy keeps the file it was first made from (ORIGINAL_DATASET), one click away; a new file
    forgets it."""
    previous = st.session_state.get(DATASET)
    if origin != "corrected":
        st.session_state[ORIGINAL_DATASET] = None
    elif previous and not st.session_state.get(ORIGINAL_DATASET):
        st.session_state[ORIGINAL_DATASET] = (*previous, st.session_state.get(DATASET_ORIGIN) or "upload")
    st.session_state[DATASET] = (name, bytes(raw))
    st.session_state[DATASET_ORIGIN] = origin
    st.session_state[DATA_MESSAGE] = None
    st.session_state.pop(TASK_CHOICE, None)
    forget_columns()


def back_to_original() -> None:
    """Button callback: the file the corrected copy was made from becomes the current dataset again."""
    original = st.session_state.get(ORIGINAL_DATASET)
    if original:
        set_dataset(*original)


def forget_columns() -> None:
    """Drop the column choices so the proposal for the (new) dataset or task is preselected."""
    for key in (TEXT_COLUMN, LABEL_COLUMN):
        st.session_state.pop(key, None)


def set_current_run(path: str | Path | None) -> None:
    st.session_state[CURRENT_RUN] = str(path) if path else None


def open_in_explain(text: str, origin: str, word: int | None = None, changed: str | None = None) -> None:
    """Hand a text (and for a sentence, the word to explain; for a small change, the changed copy to explain
    beside it) to the Explain page; the caller then switches page."""
    st.session_state[EXPLAIN_WORD] = word
    st.session_state[EXPLAIN_CHANGED] = changed
    st.session_state[EXPLAIN_TEXT] = text
    st.session_state[EXPLAIN_ORIGIN] = origin
    st.session_state[EXPLAIN_MODE] = "own"
    st.session_state[OWN_TEXT] = text


# ---------------------------------------------------------------- process-wide resources


def runs_dir() -> Path:
    """Where runs live: env INSIGHT_RUNS_DIR, default ./runs."""
    return Path(os.environ.get("INSIGHT_RUNS_DIR") or "runs")


@st.cache_resource(show_spinner=False)
def _job_manager(path: str) -> JobManager:
    return JobManager(Path(path))


def job_manager() -> JobManager:
    """The one JobManager of this server process (per runs folder)."""
    return _job_manager(str(runs_dir().resolve()))


@st.cache_resource(show_spinner=False)
def measuring_lock() -> threading.Lock:
    """One labelling round measured at a time in this process: the page and its live part (or two
    visitors) may both find a round just finished; the second finds it measured."""
    return threading.Lock()


@st.cache_resource(show_spinner=False)
def computation_registry() -> ComputationRegistry:
    """In-process computations (projections) shared by every tab."""
    return ComputationRegistry()


@st.cache_resource(show_spinner=False, max_entries=3)
def run_model(run_path: str) -> Any:
    """`RunModel.load(run_path)`, kept in memory (imports torch on first use)."""
    from trainer.runs.predictor import RunModel

    return RunModel.load(run_path)


@st.cache_resource(show_spinner=False, max_entries=4)
def tokenizer_for(backbone: str) -> Any:
    """A tokenizer for the data checks; light (no torch) when the model is a local folder."""
    from trainer.model.light_tokenizer import load_light_tokenizer

    return load_light_tokenizer(backbone)


@st.cache_resource(show_spinner=False)
def device_label() -> str:
    """Where training runs, e.g. 'CPU (2 cores)' (imports torch)."""
    from trainer.model.loading import pick_device

    return pick_device().label


@st.cache_resource(show_spinner=False)
def device_accelerated() -> bool:
    """Whether training runs on a GPU here (then the best model is the default; imports torch)."""
    from trainer.model.loading import pick_device

    return pick_device().device != "cpu"


def setdefault(key: str, value: Any) -> Any:
    """The session value of `key`, first set to `value` when the session lacks it (a dict kept per visit)."""
    return st.session_state.setdefault(key, value)
