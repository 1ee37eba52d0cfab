"""Managing a monitor on the Monitors page: rescoring its history with another run (side by side, then
switching to it), and its settings (webhook, retention), export and deletion. Changing a monitor is its
owner's and an admin's (trainer.access.owners.may_see)."""

from __future__ import annotations

import functools
from pathlib import Path

import streamlit as st

from insight_ui import auth, state
from insight_ui.components import monitor_intake as intake
from insight_ui.components.runs import finished_runs
from insight_ui.components.trend_charts import trend_chart
from insight_ui.safe import md
from trainer import i18n
from trainer.access import owners
from trainer.i18n import N_, tr
from trainer.monitor import monitor as monitors
from trainer.monitor import reading

EVERY = {"day": N_("daily buckets"), "week": N_("weekly buckets"), "month": N_("monthly buckets")}


def _may_change(monitor: monitors.Monitor) -> bool:
    return owners.may_see(auth.me(), monitor.settings.owner)


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
        disabled=not _may_change(monitor),
    ):
        with st.spinner(tr("Scoring the stored texts with the other run…")):
            count = monitor.rescore(chosen)
        intake.say(
            "success", tr("{count} texts rescored with {run}.", count=i18n.number(count), run=labels[chosen])
        )
        st.rerun()
    rescored = monitor.rescored_run()
    if not rescored:
        return
    table = reading.side_by_side(monitor).assign(bucket=lambda f: f["bucket"].dt.date.astype(str))
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
                 disabled=not _may_change(monitor)):  # fmt: skip
        raised = monitor.switch()
        auth.record("monitor switch", monitor.name, run=names["rescored"])
        intake.say("success", tr("{monitor} now uses {run}; {raised} alerts over its history under it.",
                                 monitor=monitor.name, run=names["rescored"], raised=raised))  # fmt: skip
        st.rerun()


def settings_section(monitor: monitors.Monitor) -> None:
    with st.expander(tr("Settings, export and delete"), icon=":material/settings:"):
        s = monitor.settings
        st.caption(md(tr("Run {run} · text {text} · date {date} · group {group} · id {id} · {buckets} · owner {owner}",
                         run=Path(s.run).name, text=s.text_column, date=s.time_column, group=s.group_column or tr("none"),
                         id=s.id_column or tr("none"), buckets=tr(EVERY[s.bucket]) if s.bucket in EVERY
                         else f"{s.bucket}ly buckets", owner=s.owner)))  # fmt: skip
        if not _may_change(monitor):
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
                intake.say("success", tr("Settings saved."))
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
