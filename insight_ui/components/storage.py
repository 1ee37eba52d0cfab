"""The space a run takes, and deleting it or what it keeps besides its model (Train page, run picked)."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from insight_ui import auth, state
from insight_ui.safe import md
from trainer import runs as run_store
from trainer.access import owners
from trainer.i18n import N_, tr
from trainer.runs.space import Busy, delete_item, delete_run, human_size, run_busy, run_items, size_of

KINDS = {
    "scoring": N_("Scoring"),
    "upload": N_("Uploaded file"),
    "checkpoints": N_("Checkpoints (to resume training)"),
}
DELETE_HELP = {
    "scoring": N_("Delete this scoring for good"),
    "upload": N_("Delete this upload for good"),
    "checkpoints": N_("Delete this checkpoints for good"),
}
SHARE_CHOICES = (N_("Only me"), N_("Everyone"), N_("These people"))  # compared in English, shown translated


def share_section(picked: run_store.RunInfo) -> None:
    """Who may see the run: only its owner, everyone, or named people (the owner's and an admin's choice)."""
    if not auth.signed_in():
        return
    access = owners.access_of(picked.path)
    if not auth.can_change(picked.path):
        st.caption(md(tr("Shared with you by {owner}.", owner=access.owner)))
        return
    choices = list(SHARE_CHOICES)
    now = 1 if access.with_everyone else 2 if access.shared else 0
    sharing = (
        tr("Sharing: everyone")
        if now == 1
        else tr("Sharing: {people}", people=", ".join(access.shared))
        if now == 2
        else tr("Sharing: only you")
    )
    with st.expander(sharing, icon=":material/group:"):
        pick = st.radio(
            tr("Who can see this run"),
            choices,
            index=now,
            format_func=tr,
            key=f"share_mode_{picked.id}",
            horizontal=True,
        )
        names = st.text_input(tr("Their names or e-mails, separated by commas"), value=", ".join(
            s for s in access.shared if s != owners.EVERYONE), key=f"share_names_{picked.id}",
            disabled=pick != "These people")  # fmt: skip
        if st.button(tr("Save sharing"), key=f"share_save_{picked.id}", icon=":material/share:"):
            wanted = (
                [] if pick == "Only me" else [owners.EVERYONE] if pick == "Everyone" else names.split(",")
            )
            done = owners.share(picked.path, wanted)
            auth.record("share", picked.id, shared=done.shared)
            st.success(
                tr("Saved: only you can see it.") if not done.shared else tr("Saved: shared."),
                icon=":material/check:",
            )


def storage_section(picked: run_store.RunInfo) -> None:
    """An expander: the run's size, its scorings, uploads and checkpoints with sizes, and delete buttons."""
    share_section(picked)
    if not auth.can_change(picked.path):
        return  # deleting is the owner's (and an admin's)
    items = run_items(picked.path)
    state.put(state.STORAGE_RUN, str(picked.path))
    with st.expander(
        tr("Space: {size}", size=human_size(size_of(picked.path))), icon=":material/hard_drive:"
    ):
        message = state.get(state.STORAGE_MESSAGE)
        if message:
            st.success(md(message), icon=":material/check_circle:")
            state.put(state.STORAGE_MESSAGE, None)
        if not items:
            st.caption(tr("This run keeps nothing besides its model and its reports."))
        for item in items:
            left, right = st.columns([5, 1], vertical_alignment="center")
            kind = tr(KINDS[item.kind]) if item.kind in KINDS else item.kind
            left.markdown(md(f"{kind}: {item.name} · {human_size(item.size)}"))
            deletes = (
                tr(DELETE_HELP[item.kind])
                if item.kind in DELETE_HELP
                else f"Delete this {item.kind} for good"
            )
            if right.button(tr("Delete"), key=f"delete_{item.kind}_{item.name}", disabled=bool(item.busy),
                            help=item.busy or deletes, icon=":material/delete:"):  # fmt: skip
                _delete(lambda i=item: delete_item(picked.path, i.kind, i.name),
                        lambda size, i=item: tr("Deleted {name} ({size} freed).", name=i.name, size=size),
                        f"{picked.id}/{item.kind}/{item.name}")  # fmt: skip
        busy = run_busy(picked.path)
        sure = st.checkbox(tr("Delete the whole run: its model, reports and files"), key=f"sure_{picked.id}",
                           disabled=bool(busy), help=busy)  # fmt: skip
        if st.button(tr("Delete run"), key=f"delete_run_{picked.id}", type="primary", disabled=not sure or bool(busy),
                     icon=":material/delete_forever:"):  # fmt: skip
            if state.get(state.CURRENT_RUN) == str(picked.path):
                state.set_current_run(None)
            _delete(
                lambda: delete_run(picked.path, state.runs_dir()),
                lambda size: tr("Deleted the run {name} ({size} freed).", name=picked.name, size=size),
                picked.id,
            )


def _delete(action, said: Callable[[str], str], target: str) -> None:
    """Do `action`; on success, remember `said(freed space)` to show after the rerun."""
    try:
        freed = action()
    except (Busy, FileNotFoundError, OSError) as exc:
        st.error(md(str(exc)), icon=":material/error:")
        return
    auth.record("delete", target, freed=freed)
    state.put(state.STORAGE_MESSAGE, said(human_size(freed)))
    st.rerun()
