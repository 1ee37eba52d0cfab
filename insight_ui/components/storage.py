"""The space a run takes, and deleting it or what it keeps besides its model (Train page, run picked)."""

from __future__ import annotations

import streamlit as st

from insight_ui import state
from insight_ui.safe import md
from trainer import runs as run_store
from trainer.runs.space import Busy, delete_item, delete_run, human_size, run_busy, run_items, size_of

KINDS = {"scoring": "Scoring", "upload": "Uploaded file", "checkpoints": "Checkpoints (to resume training)"}


def storage_section(picked: run_store.RunInfo) -> None:
    """An expander: the run's size, its scorings, uploads and checkpoints with sizes, and delete buttons."""
    items = run_items(picked.path)
    state.put(state.STORAGE_RUN, str(picked.path))
    with st.expander(f"Space: {human_size(size_of(picked.path))}", icon=":material/hard_drive:"):
        message = state.get(state.STORAGE_MESSAGE)
        if message:
            st.success(md(message), icon=":material/check_circle:")
            state.put(state.STORAGE_MESSAGE, None)
        if not items:
            st.caption("This run keeps nothing besides its model and its reports.")
        for item in items:
            left, right = st.columns([5, 1], vertical_alignment="center")
            left.markdown(md(f"{KINDS[item.kind]}: {item.name} · {human_size(item.size)}"))
            if right.button("Delete", key=f"delete_{item.kind}_{item.name}", disabled=bool(item.busy),
                            help=item.busy or f"Delete this {item.kind} for good", icon=":material/delete:"):  # fmt: skip
                _delete(lambda i=item: delete_item(picked.path, i.kind, i.name), f"Deleted {item.name}")
        busy = run_busy(picked.path)
        sure = st.checkbox("Delete the whole run: its model, reports and files", key=f"sure_{picked.id}",
                           disabled=bool(busy), help=busy)  # fmt: skip
        if st.button("Delete run", key=f"delete_run_{picked.id}", type="primary", disabled=not sure or bool(busy),
                     icon=":material/delete_forever:"):  # fmt: skip
            if state.get(state.CURRENT_RUN) == str(picked.path):
                state.set_current_run(None)
            _delete(lambda: delete_run(picked.path, state.runs_dir()), f"Deleted the run {picked.name}")


def _delete(action, said: str) -> None:
    try:
        freed = action()
    except (Busy, FileNotFoundError, OSError) as exc:
        st.error(md(str(exc)), icon=":material/error:")
        return
    state.put(state.STORAGE_MESSAGE, f"{said} ({human_size(freed)} freed).")
    st.rerun()
