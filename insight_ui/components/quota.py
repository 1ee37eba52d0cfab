"""The quota check before a scoring or a monitor is started (trainer.access.quotas), said on the page."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from insight_ui import auth, state
from insight_ui.safe import md
from insight_ui.wording import in_app
from trainer.access import quotas
from trainer.data import DataError


def refused(check: Callable[[], None]) -> bool:
    """Run a quota check; on a refusal, say it (one sentence) and return True."""
    try:
        check()
    except quotas.QuotaError as exc:
        st.error(md(str(exc)), icon=":material/block:")
        return True
    except DataError as exc:  # a quota setting that is not a whole number
        st.error(md(in_app(exc.message)), icon=":material/error:")
        return True
    return False


def scoring_refused() -> bool:
    """Whether the person using the app may start no other scoring now (said if so)."""
    return refused(lambda: quotas.check_scoring(auth.me(), state.runs_dir()))


def my_monitor_sizes() -> list[int]:
    """The bytes each monitor the person using the app owns takes (its file, or its tables on the server)."""
    from insight_ui.reads.monitoring import every_monitor

    owned = quotas.monitors_of(auth.me(), every_monitor(), lambda m: m.settings.owner)
    return [m.store.size_bytes() for m in owned]


def monitor_refused() -> bool:
    """Whether the person using the app may create no other monitor now (said if so)."""
    person = auth.me()
    if person.admin:  # no quota: the monitors are not opened to count them
        return False
    return refused(lambda: quotas.check_monitor(person, state.runs_dir(), my_monitor_sizes()))
