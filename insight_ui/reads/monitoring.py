"""The monitors of the runs folder, opened for the pages (the Monitors page's list, the monitor quota's
count). Who may see which is trainer.access's to say (owners.mine, quotas.monitors_of)."""

from __future__ import annotations

from insight_ui import state
from trainer.monitor import monitor as monitors


def every_monitor() -> list[monitors.Monitor]:
    """Every monitor that opens, by name; one that cannot be opened (damaged, being deleted) is left out."""
    found = []
    for name in monitors.names(state.runs_dir()):
        try:
            found.append(monitors.Monitor(state.runs_dir(), name))
        except monitors.MonitorError:
            continue
    return found
