"""Cached calls into trainer.attribution for the Explain page, and the dataset-wide background task.

trainer.attribution is imported inside functions: it pulls in torch and captum.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from insight_ui import state

N_STEPS = 50
TOP_WORDS_FILE = Path("attributions") / "top_words.csv"


@st.cache_resource(show_spinner=False, max_entries=256)
def explain_text(run_path: str, text: str, target: str | None) -> Any:
    """One Explanation of a text toward `target` (None: the predicted class)."""
    from trainer.attribution import explain

    model = state.run_model(run_path)
    return explain(
        model.model,
        model.tokenizer,
        model.labels,
        [text],
        [target],
        max_length=model.max_length,
        n_steps=N_STEPS,
    )[0]


@st.cache_resource(show_spinner=False, max_entries=256)
def explain_word(run_path: str, tokens: tuple[str, ...], word_index: int, target: str | None) -> Any:
    """One Explanation of the tag of word `word_index` (token task)."""
    from trainer.attribution import explain_token

    model = state.run_model(run_path)
    return explain_token(
        model.model,
        model.tokenizer,
        model.labels,
        list(tokens),
        word_index=word_index,
        target=target,
        max_length=model.max_length,
        n_steps=N_STEPS,
    )


@st.cache_resource(show_spinner=False, max_entries=64)
def predict_tags(run_path: str, tokens: tuple[str, ...]) -> tuple[list[str], list[float]]:
    """Predicted tag and confidence per word of one sentence."""
    from trainer.attribution import model_lock

    model = state.run_model(run_path)
    with model_lock(model.model):  # Captum hooks the same model while attributing
        preds = model.predict_tags([list(tokens)])
    return preds.tags[0], preds.confidence[0]


def faithfulness_sentence(exp: Any) -> str | None:
    """'Removing the top 2 words (…) drops the probability of X from 0.94 to 0.21; 2 random words: 0.90.'"""
    f = getattr(exp, "faithfulness", None)
    if f is None:
        return None
    words = ", ".join(f"“{w}”" for w in f.top_words)
    noun = "word" if f.k == 1 else f"{f.k} words"
    change = "drops" if f.prob_full - f.prob_without_top >= 0.01 else "barely changes"
    return (
        f"Removing the top {noun} ({words}) {change} the probability of “{exp.target}”: "
        f"{f.prob_full:.2f} → {f.prob_without_top:.2f}. Removing {f.k} random "
        f"{'word' if f.k == 1 else 'words'} instead gives {f.prob_without_random:.2f}."
    )


def token_frame(exp: Any) -> pd.DataFrame:
    """The token-level view: each subword token, its score and the word it belongs to."""
    words = [exp.words[i] if 0 <= i < len(exp.words) else "" for i in exp.token_words]
    return pd.DataFrame({"token": exp.tokens, "score": exp.token_scores, "word": words})


# ---------------------------------------------------------------- dataset-wide


def dataset_key(run_path: str) -> str:
    return f"top-words|{run_path}"


def top_words_job(
    model: Any, texts: list[str], progress: Any = None, should_stop: Any = None
) -> pd.DataFrame:
    """Background task: explain every text toward its prediction, then rank words per class."""
    from trainer.attribution import explain_dataset, top_words_per_class

    explanations = explain_dataset(
        model.model,
        model.tokenizer,
        model.labels,
        texts,
        progress=progress,
        should_stop=should_stop,
        max_length=model.max_length,
        n_steps=N_STEPS,
    )
    per_class = top_words_per_class(explanations, min_count=2, top_k=15)
    rows = [
        {"class": label, "word": s.word, "mean attribution": s.mean, "total": s.total, "count": s.count}
        for label, stats in per_class.items()
        for s in stats
    ]
    done = sum(e is not None for e in explanations)
    frame = pd.DataFrame(rows, columns=["class", "word", "mean attribution", "total", "count"])
    frame.attrs["explained"] = done
    return frame


def saved_top_words(run_path: str) -> pd.DataFrame | None:
    path = Path(run_path) / TOP_WORDS_FILE
    return pd.read_csv(path, keep_default_na=False) if path.exists() else None


def save_top_words(run_path: str, frame: pd.DataFrame) -> None:
    path = Path(run_path) / TOP_WORDS_FILE
    path.parent.mkdir(exist_ok=True)
    frame.to_csv(path, index=False)
