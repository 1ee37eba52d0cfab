"""How text gets into a monitor on the Monitors page: a new monitor from a first file (or the market news
sample, a week at a time), and batches added to it. Each batch is stored by trainer.monitor; what
happened is said once after the rerun (`said`)."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

import pandas as pd
import streamlit as st

from insight_ui import auth, layout, state
from insight_ui.components import quota
from insight_ui.components.runs import finished_runs
from insight_ui.reads import datasets
from insight_ui.safe import md, trim
from insight_ui.wording import in_app
from trainer import i18n
from trainer.apply.score import text_column_of
from trainer.data import DataError
from trainer.data import stream as streaming
from trainer.evaluate.trends import propose_group_column, propose_time_column
from trainer.files.duckdb_file import FILE_MODE, FOLDER_MODE, private
from trainer.i18n import N_, tr, trn
from trainer.monitor import monitor as monitors
from trainer.runs import load_run
from trainer.runs.folder import monitor_incoming_dir

SAMPLE = datasets.SAMPLE_DIR / "market_news.csv"
NONE = N_("(none)")  # the option value for no column (English); shown as tr(NONE)
BUCKETS = {"day": N_("Day"), "week": N_("Week"), "month": N_("Month")}
SAID = "monitor_said"  # (kind, sentence) to show once after the rerun
NEW_FILE_ID = (
    "monitor_new_file_id"  # the file_id of the first batch last kept, so a rerun does not keep it again
)
NEW_PATH = "monitor_new_path"  # where that upload was kept


def _columns_of(path: Path) -> pd.DataFrame | None:
    try:
        return streaming.preview(path, 200)
    except DataError as exc:
        st.error(md(in_app(exc.message)), icon=":material/error:")
        return None


def _shown(column: str) -> str:
    """A column choice as shown: "(none)" in the current language, a column of the file as it is."""
    return tr(NONE) if column == NONE else column


def keep_upload(file) -> Path:
    """An uploaded batch on disk until it is stored (the monitor reads files a chunk at a time)."""
    folder = _incoming()
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", Path(file.name).name)[:80] or "batch.csv"
    path = folder / f"{secrets.token_hex(6)}-{safe}"
    _write_private(path, file.getvalue())
    return path


def _incoming() -> Path:
    """The folder where batches wait (inside the monitors folder), private to the service's user."""
    folder = monitor_incoming_dir(state.runs_dir())
    folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    private(folder.parent, FOLDER_MODE)
    private(folder, FOLDER_MODE)
    return folder


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def create_section() -> None:
    """A new monitor: a run, a first file (or the market news sample) and its columns."""
    runs = finished_runs()
    with st.expander(tr("New monitor"), expanded=not monitors.names(state.runs_dir()), icon=":material/add:"):
        if not runs:
            layout.empty_state(
                tr("A monitor scores with a trained run: train one first."), "train", tr("Go to Train")
            )
            return
        labels = {str(r.path): r.name for r in runs}
        current = state.get(state.CURRENT_RUN)  # the run chosen in the app, else the newest
        run_path = st.selectbox(tr("Run that scores it"), list(labels), format_func=lambda p: f"{labels[p]} ({Path(p).name})",
                                index=list(labels).index(current) if current in labels else 0,
                                key="monitor_new_run")  # fmt: skip
        path, shown = _first_batch()
        if path is None:
            st.caption(tr("Upload a first file, or use the sample, to choose its columns."))
            return
        frame = _columns_of(path)
        if frame is None:
            return
        settings, keep = _settings(frame, run_path, path)
        if not st.button(
            tr("Create monitor"), type="primary", icon=":material/monitor_heart:", key="monitor_create"
        ):
            return
        if quota.monitor_refused():
            return
        _create(settings, keep, path, shown)


def _first_batch() -> tuple[Path | None, str]:
    """The first batch: an upload (kept on disk once per file) or the sample; (its path, the name shown)."""
    left, right = st.columns([3, 2], gap="large")
    file = left.file_uploader(tr("First batch (CSV, TSV, JSON Lines)"), key="monitor_new_file",
                              help=tr("Its columns set the monitor's mapping; later batches need the same columns."))  # fmt: skip
    use_sample = right.toggle(tr("Use the market news sample, one week at a time"), key="monitor_new_sample",
                              help=tr("Three months of made-up headlines over four topics; one has a bad week."))  # fmt: skip
    if file is not None:
        if state.get(NEW_FILE_ID) != file.file_id:
            state.put(NEW_FILE_ID, file.file_id)
            state.put(NEW_PATH, str(keep_upload(file)))
        return Path(state.get(NEW_PATH)), file.name
    if use_sample and SAMPLE.is_file():
        return SAMPLE, SAMPLE.name
    return None, ""


def _settings(frame: pd.DataFrame, run_path: str, path: Path) -> tuple[monitors.Settings, int]:
    """The columns, buckets, name and retention the person chose: (the new monitor's settings, days to keep
    texts, 0 for always)."""
    columns = [str(c) for c in frame.columns]
    try:
        text_guess = text_column_of(frame, load_run(Path(run_path)).adapter, None)
    except DataError:
        text_guess = columns[0]
    a, b, c, d = st.columns(4)
    text = a.selectbox(tr("Text column"), columns, index=columns.index(text_guess) if text_guess in columns else 0,
                       key="monitor_new_text")  # fmt: skip
    others = [c for c in columns if c != text]
    time_guess = propose_time_column(frame, [text])
    when = b.selectbox(tr("Date column"), others, index=others.index(time_guess) if time_guess in others else 0,
                       key="monitor_new_time", help=tr("Every row needs a date or timestamp."))  # fmt: skip
    rest = [NONE] + [c for c in others if c != when]
    group_guess = propose_group_column(frame, [text, when])
    group = c.selectbox(tr("Group column (optional)"), rest, index=rest.index(group_guess) if group_guess in rest else 0,
                        key="monitor_new_group", format_func=_shown)  # fmt: skip
    ident = d.selectbox(tr("Id column (optional)"), rest, key="monitor_new_id", format_func=_shown,
                        help=tr("A column that names each row, so a row sent twice is counted once. Without "
                                "one, a row is known by its date, group and text."))  # fmt: skip
    e, f, g = st.columns(3)
    bucket = e.selectbox(
        tr("Time buckets"),
        list(BUCKETS),
        index=1,
        format_func=lambda b: tr(BUCKETS[b]),
        key="monitor_new_bucket",
    )
    name_guess = re.sub(r"[^A-Za-z0-9._-]", "-", Path(path).stem.split("-", 2)[-1])[:40] or "monitor"
    name = f.text_input(tr("Monitor name"), value=name_guess, key="monitor_new_name", max_chars=64)
    keep = g.number_input(tr("Keep texts for (days, 0: always)"), 0, 100_000, 0, key="monitor_new_keep",
                          help=tr("Older rows keep their counts in the trends, not their texts."))  # fmt: skip
    settings = monitors.Settings(name.strip(), run_path, text, when, None if group == NONE else group,
                                 None if ident == NONE else ident, bucket, auth.me().id)  # fmt: skip
    return settings, int(keep)


def _create(settings: monitors.Settings, keep: int, path: Path, shown: str) -> None:
    """Create the monitor and add its first batch (the sample's first week, or the file); the page reruns."""
    try:
        monitor = monitors.create(state.runs_dir(), settings)
        if keep:
            monitor.set_retention(int(keep))
    except monitors.MonitorError as exc:
        st.error(md(str(exc)), icon=":material/error:")
        return
    auth.record("monitor create", monitor.name, run=Path(settings.run).name)
    state.put(state.MONITOR_OPEN, monitor.name)
    if path == SAMPLE:
        add_sample_week(monitor)
    else:
        add_files(monitor, [(path, shown)])
        state.forget(NEW_FILE_ID)  # the kept copy is stored and gone
    st.rerun()


def sample_weeks() -> list[tuple[str, pd.DataFrame]]:
    """The market news sample cut into its weeks (Monday first), oldest first."""
    frame = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    week = pd.to_datetime(frame["published"]).dt.to_period("W-SUN").dt.start_time
    return [(f"market_news week of {start.date()}", part) for start, part in frame.groupby(week)]


def add_sample_week(monitor: monitors.Monitor) -> None:
    done = {b["source"] for b in monitor.batches()}
    for name, part in sample_weeks():
        if name in done:
            continue
        path = _incoming() / f"{monitor.name}-{name.replace(' ', '-')}.csv"
        _write_private(path, part.to_csv(index=False).encode("utf-8"))
        add_files(monitor, [(path, name)])
        return
    say("info", tr("Every week of the sample is in this monitor already."))


def add_files(monitor: monitors.Monitor, paths: list[tuple[Path, str]]) -> None:
    """Add each (file, name shown) as a batch and delete the kept copy; what happened is said after the rerun."""
    said = []
    for path, name in paths:
        try:
            with st.spinner(md(tr("Scoring and storing {file}…", file=trim(name, 60)))):
                batch = monitor.add(path, label=name)
        except (DataError, monitors.MonitorError) as exc:
            message = in_app(exc.message) if isinstance(exc, DataError) else str(exc)
            say("error", message)
            return
        finally:
            if path.parent.name == "incoming":
                path.unlink(missing_ok=True)
        auth.record("monitor add", monitor.name, rows=batch.added)
        said.append(trn("{file}: {added} new rows added ({duplicates} already there), {n} new alert.",
                        "{file}: {added} new rows added ({duplicates} already there), {n} new alerts.",
                        len(batch.new_alerts), file=name, added=i18n.number(batch.added),
                        duplicates=i18n.number(batch.duplicates)))  # fmt: skip
        if batch.future:
            said.append(trn("{n} row dated in the future (more than a day from now) was refused.",
                            "{n} rows dated in the future (more than a day from now) were refused.",
                            batch.future, n=i18n.number(batch.future)))  # fmt: skip
        if batch.undated:
            said.append(trn("{n} row with no readable date was refused.", "{n} rows with no readable date were refused.",
                            batch.undated, n=i18n.number(batch.undated)))  # fmt: skip
        if batch.webhook_error:
            said.append(tr("The alert could not be sent: {reason}.", reason=batch.webhook_error))
    say("success", " ".join(said))


def say(kind: str, sentence: str) -> None:
    """What happened ("success", "error" or "info"), shown once after the rerun (`said`)."""
    state.put(SAID, (kind, sentence))


def said() -> None:
    message = state.pop(SAID)
    if message:
        kind, text = message
        {"success": st.success, "error": st.error, "info": st.info}[kind](md(text))
