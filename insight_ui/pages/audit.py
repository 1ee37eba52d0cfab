"""Audit: who signed in, started, cancelled, shared, downloaded or deleted what, and when (admins only)."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from insight_ui import auth, layout, state
from trainer.access import audit
from trainer.i18n import N_, tr

INTRO = N_(
    "Everything people did with this Insight, newest first: sign-ins, training started and cancelled, runs "
    "shared, downloaded and deleted. The log is kept in the runs folder and only ever grows "
    "(`python -m trainer audit` prints it too)."
)


def render() -> None:
    if not auth.me().admin:
        st.error(tr("Only an admin can read the audit log."), icon=":material/lock:")
        return
    events = list(reversed(audit.events(state.runs_dir())))
    if not events:
        st.info(tr("Nothing has happened yet."), icon=":material/info:")
        return
    frame = pd.DataFrame(
        {
            "when": [time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e.get("time", 0))) for e in events],
            "who": [str(e.get("who", "")) for e in events],
            "did": [str(e.get("action", "")) for e in events],
            "what": [str(e.get("target", "")) for e in events],
        }
    )
    headers = {"when": tr("when"), "who": tr("who"), "did": tr("did"), "what": tr("what")}
    st.dataframe(frame, hide_index=True, width="stretch", column_config=headers)


layout.page(tr("Audit"), tr(INTRO), render)
