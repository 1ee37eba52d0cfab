"""A monitor's webhook: each new alert POSTed as JSON to the URL its owner set (Slack, Teams and most
services accept an incoming webhook like this), through the outbound-URL guard (trainer.monitor.webhook).
A failure is returned as one plain sentence, never raised: the batch is kept.

The rest of Insight reaches the webhook through this module only: `refusal` when an address is set,
`post` when new alerts are sent."""

from __future__ import annotations

import json

from trainer.i18n import N_, tr
from trainer.monitor import webhook

# One alert in the message, by its direction ("up" or "down", a value code compares).
ALERT_LINES = {
    "up": N_("{label} up in {group} in the {bucket} bucket: {share} against {baseline}"),
    "down": N_("{label} down in {group} in the {bucket} bucket: {share} against {baseline}"),
}


def _line(alert: dict) -> str:
    return tr(ALERT_LINES["up" if alert["direction"] == "up" else "down"], label=alert["label"],
              group=alert["group"] or tr("all groups"), bucket=alert["bucket_start"], share=f"{alert['share']:.0%}",
              baseline=f"{alert['baseline_share']:.0%}")  # fmt: skip


def refusal(url: str) -> str | None:
    """Why the guard will not call `url`, in one sentence; None where it will."""
    try:
        webhook.check(url)
    except webhook.Refused as exc:
        return str(exc)
    return None


def post(url: str, alerts: list[dict], monitor: str, seconds: float | None = None) -> str | None:
    """POST {"monitor", "text", "alerts"} to `url`; None when it was accepted (2xx), else why not, said
    plainly: never the system's own error, which would tell the owner what listens where."""
    if not alerts or not url:
        return None
    text = tr("Insight monitor {monitor}: {alerts}", monitor=monitor, alerts="; ".join(map(_line, alerts)))
    body = json.dumps({"monitor": monitor, "text": text, "alerts": alerts}, default=str).encode("utf-8")
    try:
        status = webhook.send(url, body, seconds)
    except webhook.Refused as exc:
        return str(exc)
    except webhook.Unreachable:
        return tr("the webhook could not be reached")
    if 300 <= status < 400:
        return tr("the webhook answered {status}, a redirect, which is not followed", status=status)
    return None if 200 <= status < 300 else tr("the webhook answered {status}", status=status)
