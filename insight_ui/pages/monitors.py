"""Monitors: streams of new text that grow batch by batch, scored once, with trends over their whole
history, alerts as each batch arrives (and a webhook), drift, rescoring with another run, retention, and
the rows to label next."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pandas as pd
import streamlit as st

from insight_ui import auth, layout, state
from insight_ui.components import monitor_intake as intake
from insight_ui.components.retrain import labeled_upload, start_new_run
from insight_ui.components.runs import finished_runs
from insight_ui.components.trend_charts import trend_chart
from insight_ui.reads import datasets
from insight_ui.safe import md, md_code, trim
from trainer.apply import labelling
from trainer.apply.simulate import shown_power
from trainer.apply.trends import (
    ALL_GROUPS,
    ALPHA,
    BASELINE,
    PARTIAL,
)
from trainer.data.safe_csv import csv_bytes
from trainer.monitor import monitor as monitors
from trainer.monitor import views
from trainer.runs import load_run

INTRO = (
    "A **monitor** follows new text as it keeps arriving: add each day's or week's file (here, from the "
    "command line, or from a scheduler), and every row is scored once, kept in a database, and counted "
    "in the trends. Each batch is checked for surges at once; new alerts wait here for you, and can be "
    "sent to a chat or any service."
)
NEW_SEEN = "monitor_new_seen"  # {monitor: alert keys that were new when this visit opened it}
SAMPLE = datasets.SAMPLE_DIR / "market_news.csv"
NONE = "(none)"
WHEN = {"day": "on {}", "week": "in the week of {}", "month": "in the month of {}"}
BUCKETS = {"day": "Day", "week": "Week", "month": "Month"}


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
            "No monitor yet. Create one below from a file of new text and a trained run.",
            icon=":material/info:",
        )
        return None
    rows = []
    for monitor in items:
        batches = monitor.batches()
        rows.append({"monitor": monitor.name, "run": Path(monitor.settings.run).name, "rows": monitor.row_count(),
                     "batches": len(batches), "new alerts": len(monitor.alerts(new_only=True)),
                     "last batch": time.strftime("%Y-%m-%d %H:%M", time.localtime(batches[-1]["received"]))
                     if batches else ""})  # fmt: skip
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    names = [m.name for m in items]
    current = state.get(state.MONITOR_OPEN) if state.get(state.MONITOR_OPEN) in names else names[0]
    chosen = st.selectbox("Open monitor", names, index=names.index(current), key=f"monitor_pick_{current}")
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
        st.badge(f"{len(mine)} new alert{'s' if len(mine) != 1 else ''} since your last visit",
                 icon=":material/notifications_active:", color="red")  # fmt: skip
    else:
        st.badge("No new alerts since your last visit", icon=":material/notifications:", color="gray")
    return mine


def batches_section(monitor: monitors.Monitor, batches: list[dict]) -> None:
    left, right = st.columns([3, 2], gap="large")
    with left:
        files = st.file_uploader("Add a batch of new text", accept_multiple_files=True,
                                 key=f"monitor_add_{monitor.name}_{st.session_state.get('monitor_add_round', 0)}",
                                 help=md(f"Files with the columns {monitor.settings.text_column} and "
                                         f"{monitor.settings.time_column}. Rows already in the monitor are not added again."))  # fmt: skip
        if files and st.button(f"Add {len(files)} file{'s' if len(files) != 1 else ''}", type="primary",
                               icon=":material/playlist_add:", key="monitor_add_go"):  # fmt: skip
            intake.add_files(monitor, [(intake.keep_upload(f), f.name) for f in files])
            st.session_state["monitor_add_round"] = st.session_state.get("monitor_add_round", 0) + 1
            st.rerun()
    with right:
        st.markdown("**From the command line or a scheduler**")
        st.code(f"python -m trainer monitor add {monitor.name} FILE_OR_FOLDER", language="bash")
        from_sample = any(b["source"].startswith("market_news week of") for b in batches)
        next_week = from_sample and st.button(
            "Add the next week of the sample", icon=":material/skip_next:", key="monitor_next_week"
        )
        if next_week:
            intake.add_sample_week(monitor)
            st.rerun()


def trend_section(monitor: monitors.Monitor, counts: pd.DataFrame, alerts: list[dict]) -> None:
    from trainer.apply.trends import shares

    if counts.empty:
        st.info("No rows with a readable date yet.", icon=":material/timeline:")
        return
    bucket = monitor.settings.bucket
    st.subheader(f"Share of each label per {bucket}, over the whole history")
    table = shares(counts).assign(bucket=lambda f: f["bucket"].dt.date.astype(str))
    groups = sorted(g for g in table["group"].unique() if g != ALL_GROUPS)
    group = ALL_GROUPS
    if groups:
        group = st.segmented_control("Show", [ALL_GROUPS, *groups], default=ALL_GROUPS, key=f"monitor_group_{monitor.name}",
                                     format_func=lambda g: "All groups" if g == ALL_GROUPS else md(trim(g, 30)),
                                     required=True)  # fmt: skip
    labels = monitor.settings.labels or sorted(table["label"].unique())
    mine = [a for a in alerts if (a.get("group") or ALL_GROUPS) == group]
    st.plotly_chart(trend_chart(table[table["group"] == group], mine, bucket, labels), width="stretch",
                    key=f"monitor_trend_{monitor.name}")  # fmt: skip


def how_alerts_are_raised(bucket: str) -> None:
    with st.expander("How alerts are raised"):
        st.markdown(
            f"Each time a batch arrives, every {bucket} it touched (and any it completed) is tested, per group "
            f"and for all groups together: is its mix of labels different from the {BASELINE} {bucket}s "
            "before? The labels are tested together (their shares add up to one, so one label up and another "
            "down is one event), on the model's probabilities where it gives them. The "
            f"{ALPHA:.0%} significance level is shared over the groups, so when nothing changes a {bucket} "
            f"raises a false alarm at most 1 time in 100. A {bucket} that is still filling is tested at a "
            f"stricter level ({PARTIAL / 2:.0%} of the level, then half of that at each further look) and its "
            f"alert says so; once the {bucket} is complete it is tested once more at {1 - PARTIAL:.0%} of the "
            f"level. So testing a {bucket} again as it fills keeps the rate. A {bucket} needs 10 texts, "
            "and its baseline 30, to be tested."
        )
        table = pd.DataFrame(shown_power())
        if not table.empty:
            st.markdown(
                "**How often a surge is caught** (simulated: one label's true share multiplied in one group and "
                f"{bucket}, the same number of texts in each {bucket}, a model of the stated accuracy):"
            )
            shown = pd.DataFrame({
                "model accuracy": table["accuracy"].map("{:.0%}".format),
                f"texts per {bucket}": table["texts"],
                "surge": [f"{f:.0%} → {min(1.0, f * s):.0%} ({s:g}x)" for f, s in zip(table["from"], table["surge"], strict=True)],
                "caught (one series)": table["alone"].map("{:.0%}".format),
                "caught (one of 4 series)": table["of 4 series"].map("{:.0%}".format),
            })  # fmt: skip
            st.dataframe(shown, hide_index=True)
            st.caption(
                "A model's mistakes blur a surge: at 80% accuracy, a true rise from 30% to 60% shows as a rise of "
                "the predicted share from about 38% to 56%, which 50 texts cannot always tell from chance."
            )


def alerts_section(monitor: monitors.Monitor, alerts: list[dict], new: set[tuple]) -> None:
    bucket = monitor.settings.bucket
    st.subheader(f"Alerts ({len(alerts)})")
    how_alerts_are_raised(bucket)
    if not alerts:
        st.success("No label's share moved beyond what chance explains.", icon=":material/check_circle:")
    ordered = sorted(alerts, key=lambda a: a["p_value"])
    ordered.sort(key=lambda a: a["bucket_start"], reverse=True)
    ordered.sort(key=lambda a: _key(a) not in new)  # the new ones first, then the latest, the strongest first
    for i, alert in enumerate(ordered[:20]):
        up = alert["direction"] == "up"
        where = f" in **{md(alert['group'])}**" if alert.get("group") else ""
        when = WHEN.get(bucket, "in {}").format(alert["bucket_start"])
        tag = " :red-badge[new]" if _key(alert) in new else ""
        filling = f" ({bucket} still filling)" if alert.get("partial") else ""
        with st.container(border=True):
            st.markdown(
                f"{':red[▲]' if up else ':blue[▼]'} **{md(alert['label'])}**{where} {when}{filling}: "
                f"**{alert['share']:.0%}** of {alert['n']:,} texts, against {alert['baseline_share']:.0%} "
                f"in the {bucket}s before{tag}"
            )
            st.caption(f"p = {alert['p_value']:.1e} (the labels tested together; see How alerts are raised)")
            examples = views.examples(monitor, alert, 5)
            for text in examples:
                st.markdown(f"• {md(trim(text, 220))}")
            if (
                up
                and examples
                and st.button("Words behind it", icon=":material/lightbulb:", key=f"monitor_words_{i}")
            ):
                words_of(monitor, alert)


def words_of(monitor: monitors.Monitor, alert: dict) -> None:
    """The words that drove the label more in the alert's texts than before (integrated gradients)."""
    from trainer.apply.results import alert_words

    model = state.run_model(monitor.settings.run)
    if not model.adapter.supports("alert_words"):
        st.caption("Word attributions are for text runs.")
        return
    start = pd.Timestamp(alert["bucket_start"])
    back = {"day": pd.DateOffset(days=BASELINE), "week": pd.DateOffset(weeks=BASELINE),
            "month": pd.DateOffset(months=BASELINE)}[monitor.settings.bucket]  # fmt: skip
    before = views.texts_in(monitor, start - back, start, alert.get("group"))
    with st.spinner("Finding the words…"):
        words = alert_words(model, views.examples(monitor, alert, 12), before, alert["label"])
    st.markdown("Words behind it: " + (" ".join(md_code(w["word"]) for w in words) or "none stood out"))


def drift_section(monitor: monitors.Monitor) -> None:
    with st.expander("How the latest batches compare with the training data"):
        try:
            verdict = views.drift(monitor, 2)
        except (OSError, KeyError, ValueError) as exc:
            st.caption(md(f"No comparison: {exc}"))
            return
        box = {"similar": st.success, "some drift": st.info}.get(verdict.verdict, st.warning)
        box(md(verdict.sentence), icon=":material/compare_arrows:")


def batches_table(monitor: monitors.Monitor, batches: list[dict]) -> None:
    st.subheader(f"Batches received ({len(batches)})")
    if batches:
        frame = pd.DataFrame(batches)
        frame["received"] = frame["received"].map(
            lambda t: time.strftime("%Y-%m-%d %H:%M", time.localtime(t))
        )
        frame["already there"] = frame["rows_read"] - frame["rows_added"]
        st.dataframe(frame.rename(columns={"id": "batch", "rows_read": "rows read", "rows_added": "rows added"}),
                     hide_index=True, width="stretch")  # fmt: skip
    kept, rows = views.texts_kept(
        monitor,
    )
    if monitor.settings.keep_days:
        st.caption(
            f"Texts are kept for {monitor.settings.keep_days} days: {kept:,} of {rows:,} rows still have theirs."
        )


def labelling_section(monitor: monitors.Monitor) -> None:
    st.subheader("Back to training")
    run = load_run(Path(monitor.settings.run))
    words = run.adapter.inputs_are_words
    doubtful = views.least_certain(monitor, 200)
    if doubtful.empty:
        st.caption("No rows to label yet.")
        return
    st.caption("The rows the model was least sure of: download them with its guess filled in, correct the label "
               "column, upload the file, and train a new run on the run's data plus these rows.")  # fmt: skip
    rows = [{"text": r.text, "predicted": r.predicted, "confidence": round(float(r.confidence), 4),
             "time": str(r.time), "group": r.group} for r in doubtful.itertuples()]  # fmt: skip
    frame = labelling.labelling_frame(rows, words)
    st.download_button(f"Download {len(frame)} rows to label", csv_bytes(frame), file_name=f"{monitor.name}-to-label.csv",
                       mime="text/csv", icon=":material/download:", on_click="ignore", key="monitor_label_dl")  # fmt: skip
    combined = labeled_upload(run, "monitor_labeled")
    if combined is None:
        return
    if st.button("Train a new run on it (same settings)", type="primary", icon=":material/model_training:",
                 key="monitor_train"):  # fmt: skip
        start_new_run(run, f"{run.path.name}-plus-labeled.csv", combined)


def rescore_section(monitor: monitors.Monitor) -> None:
    """Another run scores the history beside the current one; switch when its trends look right."""
    st.subheader("A new model for this stream")
    others = [r for r in finished_runs() if str(r.path) != str(Path(monitor.settings.run))]
    if not others:
        st.caption("Train another run (after relabelling, say) to rescore this monitor's history with it.")
        return
    labels = {str(r.path): r.name for r in others}
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    chosen = left.selectbox("Rescore the history with", list(labels), format_func=lambda p: f"{labels[p]} ({Path(p).name})",
                            key=f"monitor_rescore_run_{monitor.name}")  # fmt: skip
    if right.button(
        "Rescore", icon=":material/autorenew:", key="monitor_rescore", disabled=not _mine(monitor.settings)
    ):
        with st.spinner("Scoring the stored texts with the other run…"):
            count = monitor.rescore(chosen)
        st.session_state[intake.SAID] = ("success", f"{count:,} texts rescored with {labels[chosen]}.")
        st.rerun()
    rescored = monitor.rescored_run()
    if not rescored:
        return
    table = views.side_by_side(monitor).assign(bucket=lambda f: f["bucket"].dt.date.astype(str))
    names = {"current": Path(monitor.settings.run).name, "rescored": Path(rescored).name}
    columns = st.columns(2)
    all_labels = sorted(table["label"].unique())
    for column, which in zip(columns, ("current", "rescored"), strict=True):
        column.markdown(md(f"**{'Now' if which == 'current' else 'With'} {names[which]}**"))
        column.plotly_chart(trend_chart(table[table["group"] == which], [], monitor.settings.bucket, all_labels),
                            width="stretch", key=f"monitor_side_{which}")  # fmt: skip
    if st.button(md(f"Switch this monitor to {names['rescored']}"), icon=":material/swap_horiz:", key="monitor_switch",
                 disabled=not _mine(monitor.settings)):  # fmt: skip
        raised = monitor.switch()
        auth.record("monitor switch", monitor.name, run=names["rescored"])
        st.session_state[intake.SAID] = ("success", f"{monitor.name} now uses {names['rescored']}; "
                                            f"{raised} alerts over its history under it.")  # fmt: skip
        st.rerun()


def settings_section(monitor: monitors.Monitor) -> None:
    with st.expander("Settings, export and delete", icon=":material/settings:"):
        s = monitor.settings
        st.caption(md(f"Run {Path(s.run).name} · text {s.text_column} · date {s.time_column} · group "
                      f"{s.group_column or 'none'} · id {s.id_column or 'none'} · {s.bucket}ly buckets · owner {s.owner}"))  # fmt: skip
        if not _mine(s):
            return
        hook = st.text_input("Webhook (a Slack, Teams or any incoming-webhook address)", value=s.webhook or "",
                             key=f"monitor_hook_{monitor.name}", help="Each new alert is POSTed to it as JSON.")  # fmt: skip
        keep = st.number_input("Keep texts for (days, 0: always)", 0, 100_000, int(s.keep_days or 0),
                               key=f"monitor_keep_{monitor.name}")  # fmt: skip
        if st.button("Save settings", key="monitor_save"):
            try:
                monitor.set_webhook(hook.strip() or None)
                monitor.set_retention(int(keep) or None)
            except monitors.MonitorError as exc:
                st.error(md(str(exc)), icon=":material/error:")
            else:
                st.session_state[intake.SAID] = ("success", "Settings saved.")
                st.rerun()
        out = Path(tempfile.gettempdir()) / f"insight-{monitor.name}-export.csv"
        if st.button("Prepare the export (CSV of every row)", key="monitor_export"):
            monitor.export(out)
        if out.is_file():
            st.download_button("Download the export", out.read_bytes(), file_name=f"{monitor.name}.csv", mime="text/csv",
                               on_click="ignore", key="monitor_export_dl", icon=":material/download:")  # fmt: skip
        sure = st.checkbox(md(f"Delete {monitor.name} and every row it holds"), key="monitor_delete_sure")
        if st.button("Delete monitor", disabled=not sure, icon=":material/delete:", key="monitor_delete"):
            monitors.delete(state.runs_dir(), monitor.name)
            auth.record("monitor delete", monitor.name)
            state.put(state.MONITOR_OPEN, None)
            st.rerun()


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
    a.metric("Rows", f"{monitor.row_count():,}", border=True)
    b.metric("Batches", f"{len(batches):,}", border=True)
    c.metric(
        f"{monitor.settings.bucket.capitalize()}s",
        f"{counts['bucket'].nunique() if not counts.empty else 0}",
        border=True,
    )
    d.metric("Alerts", f"{len(alerts)}", border=True)
    batches_section(monitor, batches)
    trend_section(monitor, counts, alerts)
    alerts_section(monitor, alerts, new)
    drift_section(monitor)
    batches_table(monitor, batches)
    labelling_section(monitor)
    rescore_section(monitor)
    settings_section(monitor)


layout.page("Monitors", INTRO, render)
