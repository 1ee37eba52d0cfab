"""A monitor's webhook: each new alert POSTed as JSON to the URL its owner set (Slack, Teams and most
services accept an incoming webhook like this). A failure is returned, never raised: the batch is kept."""

from __future__ import annotations

import json
import urllib.request

from trainer.i18n import N_, tr

# One alert in the message, by its direction ("up" or "down", a value code compares).
ALERT_LINES = {
    "up": N_("{label} up in {group} in the {bucket} bucket: {share} against {baseline}"),
    "down": N_("{label} down in {group} in the {bucket} bucket: {share} against {baseline}"),
}


def _line(alert: dict) -> str:
    return tr(ALERT_LINES["up" if alert["direction"] == "up" else "down"], label=alert["label"],
              group=alert["group"] or tr("all groups"), bucket=alert["bucket_start"], share=f"{alert['share']:.0%}",
              baseline=f"{alert['baseline_share']:.0%}")  # fmt: skip


def post(url: str, alerts: list[dict], monitor: str, timeout: float = 10.0) -> str | None:
    """POST {"monitor", "text", "alerts"} to `url`; None when it was accepted, else why not."""
    if not alerts or not url:
        return None
    text = tr("Insight monitor {monitor}: {alerts}", monitor=monitor, alerts="; ".join(map(_line, alerts)))
    body = json.dumps({"monitor": monitor, "text": text, "alerts": alerts}, default=str).encode("utf-8")
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return (
                None
                if 200 <= answer.status < 300
                else tr("the webhook answered {status}", status=answer.status)
            )
    except OSError as exc:
        return tr("the webhook could not be reached ({error})", error=exc)
