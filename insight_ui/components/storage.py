"""The space a run takes, and deleting it or what it keeps besides its model (Train page, run picked)."""

from __future__ import annotations

import streamlit as st

from insight_ui import auth, state
from insight_ui.safe import md
from trainer import runs as run_store
from trainer.access import owners
from trainer.runs.space import Busy, delete_item, delete_run, human_size, run_busy, run_items, size_of

KINDS = {"scoring": "Scoring", "upload": "Uploaded file", "checkpoints": "Checkpoints (to resume training)"}


def share_section(picked: run_store.RunInfo) -> None:
    """Who may see the run: only its owner, everyone, or named people (the owner's and an admin's choice)."""
    if not auth.signed_in():
        return
    access = owners.access_of(picked.path)
    if not auth.can_change(picked.path):
        st.caption(md(f"Shared with you by {access.owner}."))
        return
    choices = ["Only me", "Everyone", "These people"]
    now = 1 if access.with_everyone else 2 if access.shared else 0
    with st.expander("Sharing: " + ("everyone" if now == 1 else ", ".join(access.shared) if now == 2 else "only you"),
                     icon=":material/group:"):  # fmt: skip
        pick = st.radio(
            "Who can see this run", choices, index=now, key=f"share_mode_{picked.id}", horizontal=True
        )
        names = st.text_input("Their names or e-mails, separated by commas", value=", ".join(
            s for s in access.shared if s != owners.EVERYONE), key=f"share_names_{picked.id}",
            disabled=pick != "These people")  # fmt: skip
        if st.button("Save sharing", key=f"share_save_{picked.id}", icon=":material/share:"):
            wanted = (
                [] if pick == "Only me" else [owners.EVERYONE] if pick == "Everyone" else names.split(",")
            )
            done = owners.share(picked.path, wanted)
            auth.record("share", picked.id, shared=done.shared)
            st.success(
                "Saved: " + ("only you can see it." if not done.shared else "shared."),
                icon=":material/check:",
            )


def storage_section(picked: run_store.RunInfo) -> None:
    """An expander: the run's size, its scorings, uploads and checkpoints with sizes, and delete buttons."""
    share_section(picked)
    if not auth.can_change(picked.path):
        return  # deleting is the owner's (and an admin's)
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
                _delete(lambda i=item: delete_item(picked.path, i.kind, i.name), f"Deleted {item.name}",
                        f"{picked.id}/{item.kind}/{item.name}")  # fmt: skip
        busy = run_busy(picked.path)
        sure = st.checkbox("Delete the whole run: its model, reports and files", key=f"sure_{picked.id}",
                           disabled=bool(busy), help=busy)  # fmt: skip
        if st.button("Delete run", key=f"delete_run_{picked.id}", type="primary", disabled=not sure or bool(busy),
                     icon=":material/delete_forever:"):  # fmt: skip
            if state.get(state.CURRENT_RUN) == str(picked.path):
                state.set_current_run(None)
            _delete(
                lambda: delete_run(picked.path, state.runs_dir()), f"Deleted the run {picked.name}", picked.id
            )


def _delete(action, said: str, target: str) -> None:
    try:
        freed = action()
    except (Busy, FileNotFoundError, OSError) as exc:
        st.error(md(str(exc)), icon=":material/error:")
        return
    auth.record("delete", target, freed=freed)
    state.put(state.STORAGE_MESSAGE, f"{said} ({human_size(freed)} freed).")
    st.rerun()
