"""A monitor's webhook: each new alert POSTed as JSON to the URL its owner set (Slack, Teams and most
services accept an incoming webhook like this). A failure is returned, never raised: the batch is kept."""

from __future__ import annotations

import json
import urllib.request


def post(url: str, alerts: list[dict], monitor: str, timeout: float = 10.0) -> str | None:
    """POST {"monitor", "text", "alerts"} to `url`; None when it was accepted, else why not."""
    if not alerts or not url:
        return None
    lines = [f"{a['label']} {a['direction']} in {a['group'] or 'all groups'} in the {a['bucket_start']} bucket: "
             f"{a['share']:.0%} against {a['baseline_share']:.0%}" for a in alerts]  # fmt: skip
    body = json.dumps({"monitor": monitor, "text": f"Insight monitor {monitor}: " + "; ".join(lines),
                       "alerts": alerts}, default=str).encode("utf-8")  # fmt: skip
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return None if 200 <= answer.status < 300 else f"the webhook answered {answer.status}"
    except OSError as exc:
        return f"the webhook could not be reached ({exc})"
