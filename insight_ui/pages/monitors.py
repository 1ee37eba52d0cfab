"""Monitors: streams of new text that grow batch by batch, scored once, with trends over their whole
history, alerts as each batch arrives (and a webhook), drift, rescoring with another run, retention, and
the rows to label next."""

from __future__ import annotations

import functools
import time
from pathlib import Path

import pandas as pd
import streamlit as st

from insight_ui import auth, layout, state
from insight_ui.components import monitor_intake as intake
from insight_ui.components.retrain import labeled_upload, start_new_run
from insight_ui.components.runs import finished_runs
from insight_ui.components.trend_charts import alert_values, trend_chart, unit, units
from insight_ui.reads import datasets
from insight_ui.safe import md, md_code, trim
from trainer import i18n
from trainer.apply import labelling
from trainer.data.safe_csv import csv_bytes
from trainer.evaluate.simulate import shown_power
from trainer.evaluate.trends import (
    ALL_GROUPS,
    ALPHA,
    BASELINE,
    PARTIAL,
)
from trainer.i18n import N_, tr, trn
from trainer.monitor import monitor as monitors
from trainer.monitor import views
from trainer.runs import load_run

INTRO = N_(
    "A **monitor** follows new text as it keeps arriving: add each day's or week's file (here, from the "
    "command line, or from a scheduler), and every row is scored once, kept in a database, and counted "
    "in the trends. Each batch is checked for surges at once; new alerts wait here for you, and can be "
    "sent to a chat or any service."
)
NEW_SEEN = "monitor_new_seen"  # {monitor: alert keys that were new when this visit opened it}
SAMPLE = datasets.SAMPLE_DIR / "market_news.csv"
BUCKET_COUNTS = {"day": N_("Days"), "week": N_("Weeks"), "month": N_("Months")}  # a metric's label
EVERY = {"day": N_("daily buckets"), "week": N_("weekly buckets"), "month": N_("monthly buckets")}


def _mine(settings: monitors.Settings) -> bool:
    person = auth.me()
    return person.admin or settings.owner.casefold() == person.id.casefold()


def visible() -> list[monitors.Monitor]:
    found = []
    for name in monitors.names(state.runs_dir()):
        try:
            monitor = monitors.Monitor(state.runs_dir(), name)
        except monitors.MonitorError:
            continue
        if _mine(monitor.settings):
            found.append(monitor)
    return found


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
    seen = st.session_state.setdefault(NEW_SEEN, {})
    fresh = {_key(a) for a in monitor.alerts(new_only=True)}
    mine = seen.setdefault(monitor.name, set())
    mine |= fresh
    if fresh and _mine(monitor.settings):
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
                                 key=f"monitor_add_{monitor.name}_{st.session_state.get('monitor_add_round', 0)}",
                                 help=md(tr("Files with the columns {text} and {date}. Rows already in the monitor "
                                            "are not added again.", text=monitor.settings.text_column,
                                            date=monitor.settings.time_column)))  # fmt: skip
        if files and st.button(trn("Add {n} file", "Add {n} files", len(files)), type="primary",
                               icon=":material/playlist_add:", key="monitor_add_go"):  # fmt: skip
            intake.add_files(monitor, [(intake.keep_upload(f), f.name) for f in files])
            st.session_state["monitor_add_round"] = st.session_state.get("monitor_add_round", 0) + 1
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
    from trainer.evaluate.trends import shares

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


def how_alerts_are_raised(bucket: str) -> None:
    with st.expander(tr("How alerts are raised")):
        st.markdown(
            tr("Each time a batch arrives, every {bucket} it touched (and any it completed) is tested, per group "
               "and for all groups together: is its mix of labels different from the {baseline} {buckets} "
               "before? The labels are tested together (their shares add up to one, so one label up and another "
               "down is one event), on the model's probabilities where it gives them. The "
               "{alpha} significance level is shared over the groups, so when nothing changes a {bucket} "
               "raises a false alarm at most 1 time in 100. A {bucket} that is still filling is tested at a "
               "stricter level ({partial} of the level, then half of that at each further look) and its "
               "alert says so; once the {bucket} is complete it is tested once more at {complete} of the "
               "level. So testing a {bucket} again as it fills keeps the rate. A {bucket} needs 10 texts, "
               "and its baseline 30, to be tested.", bucket=unit(bucket), buckets=units(bucket), baseline=BASELINE,
               alpha=i18n.percent(ALPHA), partial=i18n.percent(PARTIAL / 2), complete=i18n.percent(1 - PARTIAL))
        )  # fmt: skip
        table = pd.DataFrame(shown_power())
        if not table.empty:
            st.markdown(
                tr("**How often a surge is caught** (simulated: one label's true share multiplied in one group and "
                   "{bucket}, the same number of texts in each {bucket}, a model of the stated accuracy):",
                   bucket=unit(bucket))
            )  # fmt: skip
            shown = pd.DataFrame({
                tr("model accuracy"): table["accuracy"].map(i18n.percent),
                tr("texts per {bucket}", bucket=unit(bucket)): table["texts"],
                tr("surge"): [f"{i18n.percent(f)} → {i18n.percent(min(1.0, f * s))} ({s:g}x)" for f, s in zip(table["from"], table["surge"], strict=True)],
                tr("caught (one series)"): table["alone"].map(i18n.percent),
                tr("caught (one of 4 series)"): table["of 4 series"].map(i18n.percent),
            })  # fmt: skip
            st.dataframe(shown, hide_index=True)
            st.caption(
                tr("A model's mistakes blur a surge: at 80% accuracy, a true rise from 30% to 60% shows as a rise "
                   "of the predicted share from about 38% to 56%, which 50 texts cannot always tell from chance.")
            )  # fmt: skip


def alerts_section(monitor: monitors.Monitor, alerts: list[dict], new: set[tuple]) -> None:
    bucket = monitor.settings.bucket
    st.subheader(tr("Alerts ({n})", n=len(alerts)))
    how_alerts_are_raised(bucket)
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
            examples = views.examples(monitor, alert, 5)
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
    before = views.texts_in(monitor, start - back, start, alert.get("group"))
    with st.spinner(tr("Finding the words…")):
        words = alert_words(model, views.examples(monitor, alert, 12), before, alert["label"])
    if words:
        st.markdown(tr("Words behind it: {words}", words=" ".join(md_code(w["word"]) for w in words)))
    else:
        st.markdown(tr("Words behind it: none stood out"))


def drift_section(monitor: monitors.Monitor) -> None:
    with st.expander(tr("How the latest batches compare with the training data")):
        try:
            verdict = views.drift(monitor, 2)
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
    kept, rows = views.texts_kept(
        monitor,
    )
    if monitor.settings.keep_days:
        st.caption(
            trn("Texts are kept for {n} day: {kept} of {rows} rows still have theirs.",
                "Texts are kept for {n} days: {kept} of {rows} rows still have theirs.",
                monitor.settings.keep_days, kept=i18n.number(kept), rows=i18n.number(rows))
        )  # fmt: skip


def labelling_section(monitor: monitors.Monitor) -> None:
    st.subheader(tr("Back to training"))
    run = load_run(Path(monitor.settings.run))
    words = run.adapter.inputs_are_words
    doubtful = views.least_certain(monitor, 200)
    if doubtful.empty:
        st.caption(tr("No rows to label yet."))
        return
    st.caption(tr("The rows the model was least sure of: download them with its guess filled in, correct the label "
                  "column, upload the file, and train a new run on the run's data plus these rows."))  # fmt: skip
    rows = [{"text": r.text, "predicted": r.predicted, "confidence": round(float(r.confidence), 4),
             "time": str(r.time), "group": r.group} for r in doubtful.itertuples()]  # fmt: skip
    frame = labelling.labelling_frame(rows, words)
    st.download_button(tr("Download {n} rows to label", n=len(frame)), csv_bytes(frame), file_name=f"{monitor.name}-to-label.csv",
                       mime="text/csv", icon=":material/download:", key="monitor_label_dl",
                       on_click=auth.recorder("download", f"monitor {monitor.name}/to-label.csv", rows=len(frame)))  # fmt: skip
    combined = labeled_upload(run, "monitor_labeled")
    if combined is None:
        return
    if st.button(tr("Train a new run on it (same settings)"), type="primary", icon=":material/model_training:",
                 key="monitor_train"):  # fmt: skip
        start_new_run(run, f"{run.path.name}-plus-labeled.csv", combined)


def rescore_section(monitor: monitors.Monitor) -> None:
    """Another run scores the history beside the current one; switch when its trends look right."""
    st.subheader(tr("A new model for this stream"))
    others = [r for r in finished_runs() if str(r.path) != str(Path(monitor.settings.run))]
    if not others:
        st.caption(
            tr("Train another run (after relabelling, say) to rescore this monitor's history with it.")
        )
        return
    labels = {str(r.path): r.name for r in others}
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    chosen = left.selectbox(tr("Rescore the history with"), list(labels), format_func=lambda p: f"{labels[p]} ({Path(p).name})",
                            key=f"monitor_rescore_run_{monitor.name}")  # fmt: skip
    if right.button(
        tr("Rescore"),
        icon=":material/autorenew:",
        key="monitor_rescore",
        disabled=not _mine(monitor.settings),
    ):
        with st.spinner(tr("Scoring the stored texts with the other run…")):
            count = monitor.rescore(chosen)
        st.session_state[intake.SAID] = (
            "success",
            tr("{count} texts rescored with {run}.", count=i18n.number(count), run=labels[chosen]),
        )
        st.rerun()
    rescored = monitor.rescored_run()
    if not rescored:
        return
    table = views.side_by_side(monitor).assign(bucket=lambda f: f["bucket"].dt.date.astype(str))
    names = {"current": Path(monitor.settings.run).name, "rescored": Path(rescored).name}
    columns = st.columns(2)
    all_labels = sorted(table["label"].unique())
    for column, which in zip(columns, ("current", "rescored"), strict=True):
        column.markdown(
            md(
                tr("**Now {run}**", run=names[which])
                if which == "current"
                else tr("**With {run}**", run=names[which])
            )
        )
        column.plotly_chart(trend_chart(table[table["group"] == which], [], monitor.settings.bucket, all_labels),
                            width="stretch", key=f"monitor_side_{which}")  # fmt: skip
    if st.button(md(tr("Switch this monitor to {run}", run=names["rescored"])), icon=":material/swap_horiz:", key="monitor_switch",
                 disabled=not _mine(monitor.settings)):  # fmt: skip
        raised = monitor.switch()
        auth.record("monitor switch", monitor.name, run=names["rescored"])
        st.session_state[intake.SAID] = ("success", tr("{monitor} now uses {run}; {raised} alerts over its history "
                                                       "under it.", monitor=monitor.name, run=names["rescored"],
                                                       raised=raised))  # fmt: skip
        st.rerun()


def settings_section(monitor: monitors.Monitor) -> None:
    with st.expander(tr("Settings, export and delete"), icon=":material/settings:"):
        s = monitor.settings
        st.caption(md(tr("Run {run} · text {text} · date {date} · group {group} · id {id} · {buckets} · owner {owner}",
                         run=Path(s.run).name, text=s.text_column, date=s.time_column, group=s.group_column or tr("none"),
                         id=s.id_column or tr("none"), buckets=tr(EVERY[s.bucket]) if s.bucket in EVERY
                         else f"{s.bucket}ly buckets", owner=s.owner)))  # fmt: skip
        if not _mine(s):
            return
        hook = st.text_input(tr("Webhook (a Slack, Teams or any incoming-webhook address)"), value=s.webhook or "",
                             key=f"monitor_hook_{monitor.name}", help=tr("Each new alert is POSTed to it as JSON."))  # fmt: skip
        keep = st.number_input(tr("Keep texts for (days, 0: always)"), 0, 100_000, int(s.keep_days or 0),
                               key=f"monitor_keep_{monitor.name}")  # fmt: skip
        if st.button(tr("Save settings"), key="monitor_save"):
            try:
                monitor.set_webhook(hook.strip() or None)
                monitor.set_retention(int(keep) or None)
            except monitors.MonitorError as exc:
                st.error(md(str(exc)), icon=":material/error:")
            else:
                st.session_state[intake.SAID] = ("success", tr("Settings saved."))
                st.rerun()
        # made when clicked, in memory: nothing is left in a shared folder for the next monitor of this name
        export = functools.partial(export_data, state.runs_dir(), monitor.name, s.created)
        st.download_button(tr("Download the export"), export, help=tr("Every stored row as CSV, made when you click."),
                           file_name=f"{monitor.name}.csv", mime="text/csv", key="monitor_export_dl", icon=":material/download:",
                           on_click=auth.recorder("download", f"monitor {monitor.name}/export.csv"))  # fmt: skip
        sure = st.checkbox(md(tr("Delete {monitor} and every row it holds", monitor=monitor.name)),
                           key="monitor_delete_sure")  # fmt: skip
        if st.button(tr("Delete monitor"), disabled=not sure, icon=":material/delete:", key="monitor_delete"):
            monitors.delete(state.runs_dir(), monitor.name)
            auth.record("monitor delete", monitor.name)
            state.put(state.MONITOR_OPEN, None)
            st.rerun()


def export_data(runs_dir: Path, name: str, created: float) -> bytes:
    """A monitor's rows as CSV, in memory; nothing if the monitor was deleted or replaced since the page was drawn."""
    try:
        current = monitors.Monitor(runs_dir, name)
    except monitors.MonitorError:
        return b""
    return current.export_csv()[0] if current.settings.created == created else b""


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
    labelling_section(monitor)
    rescore_section(monitor)
    settings_section(monitor)


layout.page(tr("Monitors"), tr(INTRO), render)
