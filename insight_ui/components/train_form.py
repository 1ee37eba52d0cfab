"""The training settings form: a function that returns a TrainConfig (or raises ValueError)."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

import streamlit as st

from insight_ui import auth, state
from insight_ui.components.model_choice import model_choice
from trainer.config import HELP, TrainConfig
from trainer.i18n import N_, tr
from trainer.model.heads import POOLING
from trainer.tasks import Task, get_task
from trainer.train import estimate as timing
from trainer.train.speed import calibrating

DEFAULTS = {f.name: f.default for f in fields(TrainConfig)}
MODEL_HINT = N_(
    " Type a local folder (e.g. /models/bert-base-chinese) or a Hugging Face id (e.g. bert-base-uncased, "
    "needs internet)."
)


def _optional_int(text: str, what: str) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return int(float(text))
    except ValueError:
        raise ValueError(
            tr("{what} must be a whole number (or empty), not {text}", what=what, text=repr(text))
        ) from None


def _optional_float(text: str, what: str, example: str = "3") -> float | None:
    text = (text or "").strip()
    return _float(text, what, example) if text else None


def _float(text: str, what: str, example: str) -> float:
    try:
        return float((text or "").strip())
    except ValueError:
        raise ValueError(
            tr(
                "{what} must be a number like {example}, not {text}",
                what=what,
                example=example,
                text=repr(text),
            )
        ) from None


def _fmt(value: object) -> str:
    return "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def train_form(
    task: str, text_column: str | None, label_column: str | None, n_train: int | None = None, data: Any = None
) -> TrainConfig:
    """Draw the settings; returns the TrainConfig they describe. Raises ValueError with a plain message.

    `n_train` (training examples) lets the Epochs box say what 'auto' will choose; with `data` (the checked
    PreparedData) the choice between a quick first model and the best one says the minutes each takes here.
    """
    # A kept choice that is no longer one of the options (a label kept in place of its value) starts from the
    # default instead of stopping the form with an error.
    state.keep_if_among(state.FORM_KEYS["effort"], timing.EFFORT_CHOICES)
    model = _model_box()
    choice_box = st.container()
    adapter = get_task(task)
    basic = _basic_settings(adapter, n_train)
    with st.expander(tr("Advanced settings")):
        advanced = _advanced_settings(adapter)
    try:
        config = _config(task, text_column, label_column, model, basic, advanced)
    except ValueError:
        with choice_box:
            effort_choice(None)
        raise
    found = _estimate(config, data) if data is not None else None
    with choice_box:
        picked = effort_choice(found)
    if found is not None and found.pending:
        rerun_when_measured()
    return replace(config, effort=picked)


def _estimate(config: TrainConfig, data: Any) -> timing.Estimate | None:
    """The minutes of each plan at the speed measured here (never for a model this visitor may not use)."""
    try:
        config = replace(config, model=auth.model_for(config.model))
    except ValueError:
        return None
    return timing.estimate(state.runs_dir(), config, data)


def effort_choice(found: timing.Estimate | None) -> str:
    """Quick first model or best model, each with its minutes when measured; quick first on a CPU."""
    plans = found.plans if found else {}
    labels = {e: plans[e].label() if e in plans else timing.Plan(e, 0, 0, None, None).label()
              for e in timing.EFFORT_CHOICES}  # fmt: skip
    default = "best" if state.device_accelerated() else "quick"
    picked = st.radio(
        tr("How long to train"),
        timing.EFFORT_CHOICES,
        index=timing.EFFORT_CHOICES.index(default),
        format_func=labels.get,
        key=state.FORM_KEYS["effort"],
        persist_state="session",
        horizontal=True,
        help=tr(HELP["effort"]),
    )
    if found is not None:
        quick, best = plans["quick"], plans["best"]
        budget = timing.minutes_text(quick.budget_seconds) if quick.budget_seconds else tr("no limit")
        st.caption(
            tr(
                "Quick: at most {budget} of training, keeping the best model so far. Best: up to {best} epochs, "
                "however long they take, stopping early when the validation score stops improving. {source}",
                budget=budget,
                best=format(best.epochs, "g"),
                source=found.sentence(),
            )
        )
    return picked or default


def rerun_when_measured() -> None:
    """Redraw the page once the speed of this computer is measured (a calibration in the background)."""

    @st.fragment(run_every=1.0)
    def wait() -> None:
        if not calibrating():
            st.rerun()

    wait()


def _model_box() -> str:
    """The backbone box, the model picker under it and what 'default' is; returns what was typed."""
    model = st.text_input(
        tr("Backbone model"),
        value=DEFAULTS["model"],
        key=state.BACKBONE,
        persist_state="session",
        help=tr(HELP["model"]) + tr(MODEL_HINT),
    )
    model_choice("train")
    st.caption(
        tr("`default` is all-MiniLM-L6-v2 (small, English). For other languages, give a local model folder.")
    )
    return model


def _basic_settings(adapter: Task, n_train: int | None) -> dict[str, Any]:
    """Epochs, batch size, learning rate and max length in one row, as drawn (text boxes not yet read)."""
    keys = state.FORM_KEYS
    c1, c2, c3, c4 = st.columns(4)
    batch = state.get(keys["batch_size"]) or DEFAULTS["batch_size"]
    effort = state.get(keys["effort"]) if state.get(keys["effort"]) in timing.EFFORT_CHOICES else "auto"
    chosen = TrainConfig(batch_size=int(batch), effort=effort).resolved_epochs(
        n_train or 0, state.device_accelerated()
    )
    auto = tr("auto ({value})", value=format(chosen, "g")) if n_train else tr("auto")
    epochs = c1.text_input(
        tr("Epochs"),
        value=_fmt(DEFAULTS["epochs"]),
        placeholder=auto,
        key=keys["epochs"],
        persist_state="session",
        help=tr(HELP["epochs"]),
    )
    batch_size = c2.number_input(
        tr("Batch size"),
        min_value=1,
        max_value=4096,
        value=int(DEFAULTS["batch_size"]),
        step=8,
        key=keys["batch_size"],
        persist_state="session",
        help=tr(HELP["batch_size"]),
    )
    learning_rate = c3.text_input(
        tr("Learning rate"),
        value=_fmt(DEFAULTS["learning_rate"]),
        placeholder=tr("auto ({value})", value=format(adapter.default_learning_rate, "g")),
        key=keys["learning_rate"],
        persist_state="session",
        help=tr(HELP["learning_rate"]),
    )
    max_length = c4.text_input(
        tr("Max length (tokens)"),
        value=_fmt(DEFAULTS["max_length"]),
        placeholder=tr("auto"),
        key=keys["max_length"],
        persist_state="session",
        help=tr(HELP["max_length"]),
    )
    return {
        "epochs": epochs,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "max_length": max_length,
    }


def _advanced_settings(adapter: Task) -> dict[str, Any]:
    """LoRA, class weights, early stopping, the sentence head (tasks that have one), seed and max steps."""
    keys = state.FORM_KEYS
    a1, a2, a3, a4 = st.columns(4)
    lora = a1.checkbox(
        tr("LoRA adapters"),
        value=DEFAULTS["lora"],
        key=keys["lora"],
        persist_state="session",
        help=tr(HELP["lora"]),
    )
    class_weights = a1.checkbox(
        tr("Class weights"),
        value=DEFAULTS["class_weights"],
        key=keys["class_weights"],
        persist_state="session",
        help=tr(HELP["class_weights"]),
    )
    patience = a2.number_input(
        tr("Early stopping patience"),
        min_value=0,
        max_value=100,
        value=int(DEFAULTS["early_stopping_patience"]),
        key=keys["early_stopping_patience"],
        persist_state="session",
        help=tr(HELP["early_stopping_patience"]),
    )
    pooling = DEFAULTS["pooling"]
    if adapter.sentence_head:
        pooling = a2.selectbox(
            tr("Sentence head"),
            POOLING,
            index=POOLING.index(DEFAULTS["pooling"]),
            format_func=lambda p: {"mean": tr("mean of all words"), "cls": tr("first token ([CLS])")}[p],
            key=keys["pooling"],
            persist_state="session",
            help=tr(HELP["pooling"]),
        )
    seed = a3.number_input(
        tr("Seed"),
        min_value=0,
        max_value=2**31 - 1,
        value=int(DEFAULTS["seed"]),
        key=keys["seed"],
        persist_state="session",
        help=tr(HELP["seed"]),
    )
    max_steps = a4.text_input(
        tr("Max steps"),
        value="",
        placeholder=tr("no limit"),
        key=keys["max_steps"],
        persist_state="session",
        help=tr("Stop after this many training steps, whatever the epochs say (handy for a quick try)."),
    )
    return {"lora": lora, "class_weights": class_weights, "patience": patience, "pooling": pooling,
            "seed": seed, "max_steps": max_steps}  # fmt: skip


def _config(
    task: str,
    text_column: str | None,
    label_column: str | None,
    model: str,
    basic: dict[str, Any],
    advanced: dict[str, Any],
) -> TrainConfig:
    """The TrainConfig the boxes describe; the first box that does not read (in form order) raises."""
    return TrainConfig(
        model=(model or "").strip() or DEFAULTS["model"],
        task=task,
        epochs=_optional_float(basic["epochs"], tr("epochs"), tr("3 (or empty for auto)")),
        batch_size=int(basic["batch_size"]),
        learning_rate=_optional_float(
            basic["learning_rate"], tr("learning rate"), tr("5e-5 or 0.0001 (or empty for auto)")
        ),
        pooling=advanced["pooling"],
        max_length=_optional_int(basic["max_length"], tr("max length")),
        lora=bool(advanced["lora"]),
        class_weights=bool(advanced["class_weights"]),
        early_stopping_patience=int(advanced["patience"]),
        seed=int(advanced["seed"]),
        max_steps=_optional_int(advanced["max_steps"], tr("max steps")),
        text_column=text_column,
        label_column=label_column,
    )
