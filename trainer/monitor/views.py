"""Moved to trainer.monitor.reading (what the Monitors page reads) and trainer.monitor.database (its SQL).

A re-export for one step, until insight_ui/pages/monitors.py imports trainer.monitor.reading; then this
module goes."""

from trainer.monitor.reading import (  # noqa: F401 - the old home of these names
    confidences,
    drift,
    examples,
    least_certain,
    side_by_side,
    texts_in,
    texts_kept,
)
