"""Cached calls into the run's task adapter for the Explain page (explanations, one sentence's tags).

The attribution machinery (trainer.attribution) pulls in torch and captum; it is reached through
the loaded run model only when a page asks.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from insight_ui import state
from trainer import i18n
from trainer.i18n import trn

N_STEPS = 50


def explain_text(run_path: str, text: str, target: str | None) -> Any:
    """One Explanation of a text toward `target` (None: the predicted class), with its sentences (the trust
    reason) in the visitor's language: the language is part of the cache key."""
    return _explain_text(run_path, text, target, i18n.language())


def explain_word(run_path: str, tokens: tuple[str, ...], word_index: int, target: str | None) -> Any:
    """One Explanation of the tag of word `word_index` of a sentence (token task), in the visitor's language."""
    return _explain_word(run_path, tokens, word_index, target, i18n.language())


@st.cache_resource(show_spinner=False, max_entries=256)
def _explain_text(run_path: str, text: str, target: str | None, lang: str) -> Any:
    model = state.run_model(run_path)
    return model.adapter.explain(
        model.model,
        model.tokenizer,
        model.labels,
        [text],
        [target],
        max_length=model.max_length,
        n_steps=N_STEPS,
    )[0]


@st.cache_resource(show_spinner=False, max_entries=256)
def _explain_word(
    run_path: str, tokens: tuple[str, ...], word_index: int, target: str | None, lang: str
) -> Any:
    model = state.run_model(run_path)
    return model.adapter.explain(
        model.model, model.tokenizer, model.labels, [list(tokens)], [target], [word_index],
        max_length=model.max_length, n_steps=N_STEPS,
    )[0]  # fmt: skip


@st.cache_resource(show_spinner=False, max_entries=64)
def predict_tags(run_path: str, tokens: tuple[str, ...]) -> tuple[list[str], list[float]]:
    """Predicted tag and confidence per word of one sentence (the forward pass holds the model's lock)."""
    preds = state.run_model(run_path).predict([list(tokens)])
    return preds.tags[0], preds.confidence[0]


def faithfulness_sentence(exp: Any) -> str | None:
    """'Removing the top 2 words (…) drops the probability of X from 0.94 to 0.21; 2 random words: 0.90.'"""
    f = getattr(exp, "faithfulness", None)
    if f is None:
        return None
    values = {
        "words": ", ".join(f"“{w}”" for w in f.top_words),
        "target": exp.target,
        "full": f"{f.prob_full:.2f}",
        "without": f"{f.prob_without_top:.2f}",
        "random": f"{f.prob_without_random:.2f}",
    }
    if f.prob_full - f.prob_without_top >= 0.01:
        return trn(
            "Removing the top word ({words}) drops the probability of “{target}”: {full} → {without}. "
            "Removing {n} random word instead gives {random}.",
            "Removing the top {n} words ({words}) drops the probability of “{target}”: {full} → {without}. "
            "Removing {n} random words instead gives {random}.",
            f.k,
            **values,
        )
    return trn(
        "Removing the top word ({words}) barely changes the probability of “{target}”: {full} → {without}. "
        "Removing {n} random word instead gives {random}.",
        "Removing the top {n} words ({words}) barely changes the probability of “{target}”: {full} → {without}. "
        "Removing {n} random words instead gives {random}.",
        f.k,
        **values,
    )


def token_frame(exp: Any) -> pd.DataFrame:
    """The token-level view: each subword token, its score and the word it belongs to."""
    words = [exp.words[i] if 0 <= i < len(exp.words) else "" for i in exp.token_words]
    return pd.DataFrame({"token": exp.tokens, "score": exp.token_scores, "word": words})


def gold_tags(frame: pd.DataFrame | None, tokens: tuple[str, ...]) -> list[str] | None:
    """The true tags of a test sentence, when `tokens` is one."""
    if frame is None or frame.empty or "tokens" not in frame.columns:
        return None
    match = frame[frame["tokens"].astype(str) == " ".join(tokens)]
    return str(match.iloc[0]["gold"]).split() if len(match) else None
