"""The models one can fine-tune, beside the backbone box: the default and each folder under the model
root, with the languages its vocabulary reads; a click puts one in the box."""

from __future__ import annotations

import streamlit as st

from insight_ui import auth, state
from insight_ui.safe import md, md_code
from trainer.i18n import tr
from trainer.model.catalog import available_models, model_root

PICK = state.BACKBONE_PICK


def _picked(key: str) -> None:
    """Pills callback: the model clicked (under the pills' own `key`) goes into the backbone box."""
    value = state.get(key)
    if value:
        state.put(state.BACKBONE, value)
    state.put(PICK, None)


def model_choice(where: str) -> None:
    """Pills of the available models (usable ones), and how to add one; `where` keys the widget per page."""
    models = available_models()
    usable = {m.value: m for m in models if m.problem is None}
    key = f"{PICK}_{where}"
    st.pills(
        tr("Models you can choose"),
        list(usable),
        format_func=lambda value: md(usable[value].shown),
        key=key,
        on_change=_picked,
        args=(key,),
        help=tr(
            "The default model and every model folder in the model root, with the languages its vocabulary reads."
        ),
    )
    broken = [m for m in models if m.problem]
    for m in broken:
        st.caption(md(m.shown))
    # Words for everyone; the server's folder only to whoever runs Insight (an admin, or the local user),
    # one hover away.
    where = tr(
        "For whoever runs Insight: put the model's folder (config.json, tokenizer.json and model.safetensors) "
        "in {root}.",
        root=md_code(model_root()),
    )
    st.caption(
        tr(
            "To add a model (for example one that reads Chinese, such as bert-base-chinese), ask whoever runs "
            "Insight to put it in Insight's models folder; it then appears here."
        ),
        help=where if auth.me().admin else None,
    )
