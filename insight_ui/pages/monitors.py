"""Monitors: streams of new text that grow batch by batch, scored once, with trends over their whole
history, alerts as each batch arrives (and a webhook), drift, rescoring with another run, retention, and
the rows to label next."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import streamlit as st

from insight_ui import auth, layout, state
from insight_ui.components import alert_rules, back_to_training, monitor_manage
from insight_ui.components import monitor_intake as intake
from insight_ui.components.trend_charts import alert_values, trend_chart, unit
from insight_ui.reads import monitoring
from insight_ui.safe import md, md_code, trim
from trainer import i18n
from trainer.access import owners
from trainer.evaluate.trends import ALL_GROUPS, BASELINE, shares
from trainer.i18n import N_, tr, trn
from trainer.monitor import monitor as monitors
from trainer.monitor import reading

INTRO = N_(
    "A **monitor** follows new text as it keeps arriving: add each day's or week's file (here, from the "
    "command line, or from a scheduler), and every row is scored once, kept in a database, and counted "
    "in the trends. Each batch is checked for surges at once; new alerts wait here for you, and can be "
    "sent to a chat or any service."
)
NEW_SEEN = "monitor_new_seen"  # {monitor: alert keys that were new when this visit opened it}
ADD_ROUND = "monitor_add_round"  # how many times batches were added this visit: a fresh uploader after each
BUCKET_COUNTS = {"day": N_("Days"), "week": N_("Weeks"), "month": N_("Months")}  # a metric's label


def visible() -> list[monitors.Monitor]:
    """The monitors the person using the app may see: their own (an admin: every one)."""
    return owners.mine(auth.me(), monitoring.every_monitor(), lambda m: m.settings.owner)


def _key(alert: dict) -> tuple:
    return alert["bucket_start"], alert["group"], alert["label"], alert["direction"]


def listing(items: list[monitors.Monitor]) -> monitors.Monitor | None:
    """The table of monitors and the one to open."""
    if not items:
        st.info(
            tr("No monitor yet. Create one below from a file of new text and a trained run."),
            icon=":material/info:",
        )
        return None
    rows = []
    for monitor in items:
        batches = monitor.batches()
        rows.append({tr("monitor"): monitor.name, tr("run"): Path(monitor.settings.run).name,
                     tr("rows"): monitor.row_count(), tr("batches"): len(batches),
                     tr("new alerts"): len(monitor.alerts(new_only=True)),
                     tr("last batch"): time.strftime("%Y-%m-%d %H:%M", time.localtime(batches[-1]["received"]))
                     if batches else ""})  # fmt: skip
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    names = [m.name for m in items]
    current = state.get(state.MONITOR_OPEN) if state.get(state.MONITOR_OPEN) in names else names[0]
    chosen = st.selectbox(
        tr("Open monitor"), names, index=names.index(current), key=f"monitor_pick_{current}"
    )
    if chosen != state.get(state.MONITOR_OPEN):
        state.put(state.MONITOR_OPEN, chosen)
    return items[names.index(chosen)]


def badge(monitor: monitors.Monitor) -> set[tuple]:
    """'N new alerts since your last visit': the alerts new when this visit opened the monitor (and those
    raised since by batches added during it), marked seen for the next visit."""
    seen = state.setdefault(NEW_SEEN, {})
    fresh = {_key(a) for a in monitor.alerts(new_only=True)}
    mine = seen.setdefault(monitor.name, set())
    mine |= fresh
    if fresh and owners.may_see(auth.me(), monitor.settings.owner):
        monitor.mark_seen()
    if mine:
        st.badge(trn("{n} new alert since your last visit", "{n} new alerts since your last visit", len(mine)),
                 icon=":material/notifications_active:", color="red")  # fmt: skip
    else:
        st.badge(tr("No new alerts since your last visit"), icon=":material/notifications:", color="gray")
    return mine


def batches_section(monitor: monitors.Monitor, batches: list[dict]) -> None:
    left, right = st.columns([3, 2], gap="large")
    with left:
        files = st.file_uploader(tr("Add a batch of new text"), accept_multiple_files=True,
                                 key=f"monitor_add_{monitor.name}_{state.get(ADD_ROUND) or 0}",
                                 help=md(tr("Files with the columns {text} and {date}. Rows already in the monitor "
                                            "are not added again.", text=monitor.settings.text_column,
                                            date=monitor.settings.time_column)))  # fmt: skip
        if files and st.button(trn("Add {n} file", "Add {n} files", len(files)), type="primary",
                               icon=":material/playlist_add:", key="monitor_add_go"):  # fmt: skip
            intake.add_files(monitor, [(intake.keep_upload(f), f.name) for f in files])
            state.put(ADD_ROUND, (state.get(ADD_ROUND) or 0) + 1)
            st.rerun()
    with right:
        st.markdown(tr("**From the command line or a scheduler**"))
        st.code(f"python -m trainer monitor add {monitor.name} FILE_OR_FOLDER", language="bash")
        from_sample = any(b["source"].startswith("market_news week of") for b in batches)
        next_week = from_sample and st.button(
            tr("Add the next week of the sample"), icon=":material/skip_next:", key="monitor_next_week"
        )
        if next_week:
            intake.add_sample_week(monitor)
            st.rerun()


def trend_section(monitor: monitors.Monitor, counts: pd.DataFrame, alerts: list[dict]) -> None:
    if counts.empty:
        st.info(tr("No rows with a readable date yet."), icon=":material/timeline:")
        return
    bucket = monitor.settings.bucket
    st.subheader(tr("Share of each label per {bucket}, over the whole history", bucket=unit(bucket)))
    table = shares(counts).assign(bucket=lambda f: f["bucket"].dt.date.astype(str))
    groups = sorted(g for g in table["group"].unique() if g != ALL_GROUPS)
    group = ALL_GROUPS
    if groups:
        group = st.segmented_control(tr("Show"), [ALL_GROUPS, *groups], default=ALL_GROUPS, key=f"monitor_group_{monitor.name}",
                                     format_func=lambda g: tr("All groups") if g == ALL_GROUPS else md(trim(g, 30)),
                                     required=True)  # fmt: skip
    labels = monitor.settings.labels or sorted(table["label"].unique())
    mine = [a for a in alerts if (a.get("group") or ALL_GROUPS) == group]
    st.plotly_chart(trend_chart(table[table["group"] == group], mine, bucket, labels), width="stretch",
                    key=f"monitor_trend_{monitor.name}")  # fmt: skip


def alerts_section(monitor: monitors.Monitor, alerts: list[dict], new: set[tuple]) -> None:
    bucket = monitor.settings.bucket
    st.subheader(tr("Alerts ({n})", n=len(alerts)))
    alert_rules.for_monitor(bucket)
    if not alerts:
        st.success(tr("No label's share moved beyond what chance explains."), icon=":material/check_circle:")
    ordered = sorted(alerts, key=lambda a: a["p_value"])
    ordered.sort(key=lambda a: a["bucket_start"], reverse=True)
    ordered.sort(key=lambda a: _key(a) not in new)  # the new ones first, then the latest, the strongest first
    for i, alert in enumerate(ordered[:20]):
        up = alert["direction"] == "up"
        said = {**alert_values(alert, bucket),
                "filling": " " + tr("({bucket} still filling)", bucket=unit(bucket)) if alert.get("partial") else "",
                "tag": " " + tr(":red-badge[new]") if _key(alert) in new else ""}  # fmt: skip
        with st.container(border=True):
            if alert.get("group"):
                st.markdown(tr("{arrow} **{label}** in **{group}** {when}{filling}: **{share}** of {n} texts, "
                               "against {baseline} in the {buckets} before{tag}", group=md(alert["group"]), **said))  # fmt: skip
            else:
                st.markdown(tr("{arrow} **{label}** {when}{filling}: **{share}** of {n} texts, against {baseline} "
                               "in the {buckets} before{tag}", **said))  # fmt: skip
            st.caption(tr("p = {p} (the labels tested together; see How alerts are raised)",
                          p=format(alert["p_value"], ".1e")))  # fmt: skip
            examples = reading.examples(monitor, alert, 5)
            for text in examples:
                st.markdown(f"• {md(trim(text, 220))}")
            if (
                up
                and examples
                and st.button(tr("Words behind it"), icon=":material/lightbulb:", key=f"monitor_words_{i}")
            ):
                words_of(monitor, alert)


def words_of(monitor: monitors.Monitor, alert: dict) -> None:
    """The words that drove the label more in the alert's texts than before (integrated gradients)."""
    from trainer.apply.run_scoring import alert_words

    model = state.run_model(monitor.settings.run)
    if not model.adapter.supports("alert_words"):
        st.caption(tr("Word attributions are for text runs."))
        return
    start = pd.Timestamp(alert["bucket_start"])
    back = {"day": pd.DateOffset(days=BASELINE), "week": pd.DateOffset(weeks=BASELINE),
            "month": pd.DateOffset(months=BASELINE)}[monitor.settings.bucket]  # fmt: skip
    before = reading.texts_in(monitor, start - back, start, alert.get("group"))
    with st.spinner(tr("Finding the words…")):
        words = alert_words(model, reading.examples(monitor, alert, 12), before, alert["label"])
    if words:
        st.markdown(tr("Words behind it: {words}", words=" ".join(md_code(w["word"]) for w in words)))
    else:
        st.markdown(tr("Words behind it: none stood out"))


def drift_section(monitor: monitors.Monitor) -> None:
    with st.expander(tr("How the latest batches compare with the training data")):
        try:
            verdict = reading.drift(monitor, 2)
        except (OSError, KeyError, ValueError) as exc:
            st.caption(md(tr("No comparison: {reason}", reason=exc)))
            return
        box = {"similar": st.success, "some drift": st.info}.get(verdict.verdict, st.warning)
        box(md(verdict.sentence), icon=":material/compare_arrows:")


def batches_table(monitor: monitors.Monitor, batches: list[dict]) -> None:
    st.subheader(tr("Batches received ({n})", n=len(batches)))
    if batches:
        frame = pd.DataFrame(batches)
        frame["received"] = frame["received"].map(
            lambda t: time.strftime("%Y-%m-%d %H:%M", time.localtime(t))
        )
        frame["already there"] = (
            frame["rows_read"] - frame["rows_added"] - frame["rows_future"] - frame["rows_undated"]
        )
        headers = {"id": tr("batch"), "received": tr("received"), "source": tr("source"),
                   "rows_read": tr("rows read"), "rows_added": tr("rows added"), "already there": tr("already there"),
                   "rows_future": tr("dated in the future"), "rows_undated": tr("no readable date")}  # fmt: skip
        st.dataframe(frame.rename(columns=headers), hide_index=True, width="stretch")
    kept, rows = reading.texts_kept(
        monitor,
    )
    if monitor.settings.keep_days:
        st.caption(
            trn("Texts are kept for {n} day: {kept} of {rows} rows still have theirs.",
                "Texts are kept for {n} days: {kept} of {rows} rows still have theirs.",
                monitor.settings.keep_days, kept=i18n.number(kept), rows=i18n.number(rows))
        )  # fmt: skip


def render() -> None:
    intake.said()
    items = visible()
    monitor = listing(items)
    intake.create_section()
    if monitor is None:
        return
    st.header(md(monitor.name), divider="gray")
    new = badge(monitor)
    counts, alerts, batches = monitor.counts(), monitor.alerts(), monitor.batches()  # read once per rerun
    a, b, c, d = st.columns(4)
    bucket = monitor.settings.bucket
    a.metric(tr("Rows"), i18n.number(monitor.row_count()), border=True)
    b.metric(tr("Batches"), i18n.number(len(batches)), border=True)
    c.metric(
        tr(BUCKET_COUNTS[bucket]) if bucket in BUCKET_COUNTS else f"{bucket.capitalize()}s",
        f"{counts['bucket'].nunique() if not counts.empty else 0}",
        border=True,
    )
    d.metric(tr("Alerts"), f"{len(alerts)}", border=True)
    batches_section(monitor, batches)
    trend_section(monitor, counts, alerts)
    alerts_section(monitor, alerts, new)
    drift_section(monitor)
    batches_table(monitor, batches)
    back_to_training.from_monitor(monitor)
    monitor_manage.rescore_section(monitor)
    monitor_manage.settings_section(monitor)


layout.page(tr("Monitors"), tr(INTRO), render)
