"""Apply: score new text with a trained model; label shares over time, alerts, drift, back to training."""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, replace
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from insight_ui import auth, layout, state
from insight_ui.components import background, quota
from insight_ui.components.retrain import labeled_upload, start_new_run
from insight_ui.components.runs import run_selector
from insight_ui.components.trend_charts import (
    alert_values,
    confidence_chart,
    trend_chart,
    unit,
    units,
)
from insight_ui.reads import datasets
from insight_ui.reports import apply_report
from insight_ui.safe import md, md_code, trim
from insight_ui.wording import in_app
from trainer import i18n, runs
from trainer.apply import labelling
from trainer.apply.run_scoring import alerts_json
from trainer.apply.score import HISTOGRAM, text_column_of
from trainer.data import DataError
from trainer.data import stream as streaming
from trainer.data.safe_csv import csv_bytes, file_bytes
from trainer.evaluate import drift as drifts
from trainer.evaluate.trends import ALL_GROUPS, BASELINE, propose_group_column, propose_time_column
from trainer.i18n import N_, tr
from trainer.jobs.worker import computation_name
from trainer.runs import Run
from trainer.runs.scoring import Scoring, Spec, keep_file, scoring_name, scorings

INTRO = N_(
    "Use a trained model on **new text**: score this week's messages or news, see how the share of each "
    "label moves over time, get an alert when one surges, check whether the new text still looks like "
    "what the model learned from, and send the doubtful rows back to labelling."
)
SAMPLE = datasets.SAMPLE_DIR / "market_news.csv"
NONE = N_("(none)")  # the option value for no column (English); shown as tr(NONE)
BUCKETS = {
    "auto": N_("Automatic (from the dates)"),
    "day": N_("Day"),
    "week": N_("Week"),
    "month": N_("Month"),
}
VERDICTS = {"similar": N_("similar"), "some drift": N_("some drift"), "strong drift": N_("strong drift")}
CHOICES = {  # what labelling.CHOICES says, shown in the current language
    "untrusted": N_("Untrusted first, then the least confident"),
    "uncertain": N_("The least confident"),
}


@st.cache_data(show_spinner=False, max_entries=8)
def _preview(path: str, mtime: float) -> pd.DataFrame:
    return streaming.preview(path, 200)


@st.cache_data(show_spinner=False, max_entries=8)
def _rows(path: str, mtime: float) -> int:
    return streaming.count_rows(path)


def source_section(run: Run) -> Path | None:
    """The uploader and the sample; returns the chosen file (kept on disk for the job), if any."""
    upload, sample = st.columns([3, 2], gap="large")
    with upload:
        file = st.file_uploader(
            tr("Upload new text (no labels needed)"),
            key="apply_uploader",
            help=tr("One row per text. A date column and a topic, channel or product column are optional."),
        )
        st.caption(
            tr("CSV, TSV, JSON Lines, or a CoNLL file of words. Large files are read a chunk at a time.")
        )
    if file is not None and file.file_id != st.session_state.get("apply_upload_id"):
        st.session_state["apply_upload_id"] = file.file_id
        state.put(state.APPLY_FILE, str(keep_file(run.path, file.name, file.getvalue())))
    with sample:
        st.markdown(tr("**…or try the sample**"))
        if SAMPLE.is_file() and st.button(
            tr("Market news headlines"), key="apply_sample", icon=":material/newspaper:"
        ):
            state.put(state.APPLY_FILE, str(SAMPLE))
        st.caption(
            tr(
                "Three months of made-up business headlines over four topics, dated: one topic has a bad week."
            )
        )
    chosen = state.get(state.APPLY_FILE)
    return Path(chosen) if chosen and Path(chosen).is_file() else None


def _index(options: list[str], value: str | None) -> int:
    return options.index(value) if value in options else 0


def mapping_section(run: Run, path: Path) -> Spec | None:
    """Preview and column choices; returns the spec once the person asks to score."""
    mtime = path.stat().st_mtime
    try:
        frame = _preview(str(path), mtime)
        total = _rows(str(path), mtime)
    except DataError as exc:
        st.error(md(in_app(exc.message)), icon=":material/error:")
        return None
    st.caption(md(tr("{file}: {rows} rows, {columns} columns. The first rows:", file=_file_name(path),
                     rows=i18n.number(total), columns=len(frame.columns))))  # fmt: skip
    st.dataframe(frame.head(50), hide_index=True, height=220)
    columns = [str(c) for c in frame.columns]
    try:
        text_guess = text_column_of(frame, run.adapter, None)
    except DataError:
        text_guess = columns[0]
    key = f"apply_{abs(hash((str(path), mtime)))}"
    with st.container(border=True):
        a, b, c, d = st.columns(4)
        text = a.selectbox(tr("Text column"), columns, _index(columns, text_guess), key=f"{key}_text",
                           help=tr("What the model reads. Proposed from the column names and contents."))  # fmt: skip
        others = [NONE] + [col for col in columns if col != text]
        time_guess = propose_time_column(frame, [text])
        when = b.selectbox(tr("Date column (optional)"), others, _index(others, time_guess), key=f"{key}_time",
                           format_func=_shown, help=tr("Dates or timestamps: label shares over time, and alerts."))  # fmt: skip
        rest = [col for col in others if col != when or col == NONE]
        group_guess = propose_group_column(frame, [text, when])
        group = c.selectbox(tr("Group column (optional)"), rest, _index(rest, group_guess), key=f"{key}_group",
                            format_func=_shown, help=tr("A topic, channel or product: trends and alerts per group."))  # fmt: skip
        bucket = d.selectbox(tr("Time buckets"), list(BUCKETS), format_func=lambda b: tr(BUCKETS[b]), key=f"{key}_bucket",
                             disabled=when == NONE, help=tr("Automatic: days up to two months, weeks up to two years."))  # fmt: skip
    if not st.button(md(tr("Score {rows} rows with “{run}”", rows=i18n.number(total), run=trim(run.info.name, 40))),
                     type="primary", icon=":material/play_arrow:", key="apply_score"):  # fmt: skip
        return None
    return Spec(str(path), text, None if when == NONE else when, None if group == NONE else group, bucket)


def _shown(column: str) -> str:
    """A column choice as shown: "(none)" in the current language, a column of the file as it is."""
    return tr(NONE) if column == NONE else column


def start(run: Run, spec: Spec) -> None:
    """Name the scoring after the file and settings (the same ones resume it) and show it."""
    spec = replace(spec, owner=auth.me().id)  # each person's scoring is their own
    scoring = Scoring(run.path, scoring_name(Path(spec.source), asdict(spec)))
    if not scoring.results():
        task = state.job_manager().computation(run.path, computation_name("score", {"name": scoring.name}))
        if (task is None or task.status not in runs.ACTIVE) and quota.scoring_refused():
            return
        scoring.write_spec(spec)
    shown = state.get(state.APPLY_SCORING)
    shown[str(run.path)] = scoring.name
    state.put(state.APPLY_SCORING, shown)
    st.rerun()


def _describe(scoring: Scoring) -> str:
    spec = scoring.spec()  # a label that stays the same while the scoring runs and after
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(scoring.spec_file.stat().st_mtime))
    return f"{_file_name(Path(spec.source))} · {spec.text_column} · {when}"


def _file_name(source: Path) -> str:
    """The name the person gave the file (uploads are kept as <hash>-<name>)."""
    return source.name.split("-", 1)[1] if source.parent.name == "files" else source.name


def _mine(run: Run, scoring: Scoring) -> bool:
    """A scoring is its owner's, and the run owner's (and an admin's) to see."""
    owner = scoring.spec().owner
    return auth.can_change(run.path) or (owner is not None and owner.casefold() == auth.me().id.casefold())


def chosen_scoring(run: Run) -> Scoring | None:
    """The scoring to show: the one just started or picked, else the newest."""
    items = [s for s in scorings(run.path) if _mine(run, s)]
    if not items:
        return None
    names = [s.name for s in items]
    shown = state.get(state.APPLY_SCORING)
    current = shown.get(str(run.path))
    st.subheader(tr("Results"))
    picked = st.selectbox(
        tr("Scored file"),
        names,
        index=_index(names, current),
        format_func=lambda n: _describe(items[names.index(n)]),
        key=f"apply_pick_{run.path.name}_{current}",
    )
    if picked != current:
        shown[str(run.path)] = picked
        state.put(state.APPLY_SCORING, shown)
    return items[names.index(picked)]


def progress_or_resume(run: Run, scoring: Scoring) -> bool:
    """The job's live progress (started if need be); a resume button after a stop. True once finished."""
    params = {"name": scoring.name}
    manager = state.job_manager()
    task = manager.computation(run.path, computation_name("score", params))
    if task is not None and task.status in (runs.CANCELLED, runs.INTERRUPTED):
        done = scoring.rows_done()
        st.info(
            tr(
                "Scoring stopped after about {rows} rows. It resumes where it stopped.",
                rows=i18n.number(done),
            ),
            icon=":material/pause:",
        )
        resume = st.button(tr("Resume scoring"), icon=":material/play_arrow:", key="apply_resume")
        if resume and not quota.scoring_refused():
            manager.forget_computation(run.path, task.name)
            manager.start_computation(run.path, "score", **params)
            st.rerun()
        return False
    if task is None and quota.scoring_refused():  # about to be started
        return False
    return background.job_task(run.path, "score", tr("Scoring"), stoppable=True, **params)


def summary(results: dict) -> None:
    scored = results.get("scored", 0)
    drift = results.get("drift") or {}
    a, b, c, d = st.columns(4)
    verdict = drift.get("verdict", "–")
    a.metric(tr("Rows scored"), i18n.number(scored), border=True,
             help=tr("{rows} rows read; empty texts are not scored.", rows=i18n.number(results.get("rows", 0))))  # fmt: skip
    b.metric(tr("Untrusted"), drifts.share(results.get("untrusted", 0) / max(scored, 1)), border=True,
             help=tr("Texts the model is much less sure of than on its own validation texts, or that look unlike "
                     "anything it was trained on."))  # fmt: skip
    c.metric(tr("Alerts"), f"{len(results.get('alerts') or [])}" if results.get("counts") else "–", border=True,
             help=tr("Needs a date column."))  # fmt: skip
    d.metric(tr("Drift"), tr(VERDICTS[verdict]) if verdict in VERDICTS else verdict, border=True)
    box = {"similar": st.success, "some drift": st.info}.get(drift.get("verdict"), st.warning)  # not an error
    box(md(drifts.describe(drift)), icon=":material/compare_arrows:")  # the tile's figures, the same way
    if results.get("bad_times"):
        st.caption(
            tr("{rows} rows had no readable date; they are scored but not in the trends.",
               rows=i18n.number(results["bad_times"]))
        )  # fmt: skip


def drift_section(run: Run, results: dict) -> None:
    drift = results.get("drift") or {}
    with st.expander(tr("How the new texts compare with the training data")):
        trust = np.load(run.folder.trust_file)
        hist = results.get("confidence_histogram") or [0] * (len(HISTOGRAM) - 1)
        st.plotly_chart(confidence_chart(hist, HISTOGRAM, trust["validation_confidence"]), width="stretch",
                        key="apply_conf")  # fmt: skip
        unknown, before = drift.get("unknown_token_share"), drift.get("training_unknown_token_share")
        rows = [
            (tr("Untrusted texts"), drifts.share(drift.get("untrusted_share", 0)), drifts.share(drift.get("expected_untrusted_share", 0))),
            (tr("Mean confidence"), drifts.share(drift.get("mean_confidence", 0)), drifts.share(drift.get("validation_mean_confidence", 0))),
            (tr("Unknown word pieces"), "–" if unknown is None else drifts.share(unknown), "–" if before is None else drifts.share(before)),
        ]  # fmt: skip
        st.dataframe(pd.DataFrame(rows, columns=["", tr("new texts"), tr("training data")]), hide_index=True)
        st.caption(
            tr("Confidence drop (Kolmogorov–Smirnov) {distance}: 0 means the model is no less sure of itself "
               "than on its validation texts (or the difference could be chance), 1 that it is less sure of "
               "every text.", distance=i18n.number(drift.get("confidence_distance", 0), 2))
        )  # fmt: skip


def trends_section(results: dict) -> None:
    """The share of each label per bucket, for all groups or one (with that group's alerts marked)."""
    counts = pd.DataFrame(results.get("counts") or [])
    if counts.empty:
        st.info(
            tr("Choose a date column when scoring to see label shares over time and alerts."),
            icon=":material/timeline:",
        )
        return
    st.subheader(tr("Share of each label per {bucket}", bucket=unit(results.get("bucket", "bucket"))))
    groups = sorted(g for g in counts["group"].unique() if g != ALL_GROUPS)
    group = ALL_GROUPS
    if groups:
        group = st.segmented_control(tr("Show"), [ALL_GROUPS, *groups], default=ALL_GROUPS, key="apply_group",
                                     format_func=lambda g: tr("All groups") if g == ALL_GROUPS else md(trim(g, 30)),
                                     required=True)  # fmt: skip
    mine = counts[counts["group"] == group]
    alerts = [a for a in results.get("alerts") or [] if (a.get("group") or ALL_GROUPS) == group]
    st.plotly_chart(trend_chart(mine, alerts, results.get("bucket", "day"), results.get("labels") or []),
                    width="stretch", key="apply_trend")  # fmt: skip


def alerts_section(results: dict) -> None:
    if not results.get("counts"):
        return
    alerts = results.get("alerts") or []
    bucket = results.get("bucket", "day")
    st.subheader(tr("Alerts ({n})", n=len(alerts)))
    with st.expander(tr("How alerts are raised")):
        st.markdown(
            tr("For every {bucket}, label and group, the {bucket}'s count of the label is compared with the "
               "previous {baseline} {buckets} by Fisher's exact test. The 1% significance level is shared out "
               "over every label and group tested in a {bucket}, so when nothing changes a {bucket} raises a "
               "false alarm at most 1 time in 100. A bucket needs 10 texts, and its baseline 30, to be tested.",
               bucket=unit(bucket), buckets=units(bucket), baseline=BASELINE)
        )  # fmt: skip
    if not alerts:
        st.success(tr("No label's share moved beyond what chance explains."), icon=":material/check_circle:")
    for i, alert in enumerate(alerts[:20]):
        said = {**alert_values(alert, bucket), "k": alert.get("baseline_buckets", BASELINE)}
        with st.container(border=True):
            if alert.get("group"):
                st.markdown(tr("{arrow} **{label}** in **{group}** {when}: **{share}** of {n} texts, against "
                               "{baseline} in the {k} {buckets} before", group=md(alert["group"]), **said))  # fmt: skip
            else:
                st.markdown(tr("{arrow} **{label}** {when}: **{share}** of {n} texts, against {baseline} in the "
                               "{k} {buckets} before", **said))  # fmt: skip
            st.caption(
                md(
                    tr("{count} of {n} texts predicted {label}; p = {p} (Fisher's exact test; alerts need p below "
                       "1% shared over the tests)", count=i18n.number(alert["count"]), n=i18n.number(alert["n"]),
                       label=trim(alert["label"], 40), p=format(alert["p_value"], ".1e"))
                )
            )  # fmt: skip
            if alert.get("words"):
                st.markdown(
                    tr("Words behind it: {words}", words=" ".join(md_code(w["word"]) for w in alert["words"]))
                )
            for j, text in enumerate(alert.get("examples", [])[:5]):
                left, right = st.columns([12, 1], vertical_alignment="center")
                left.markdown(f"• {md(trim(text, 220))}")
                if right.button(
                    "", icon=":material/lightbulb:", key=f"apply_explain_{i}_{j}", help=tr("Explain")
                ):
                    state.open_in_explain(text, tr("an alert on the Apply page"))
                    layout.go("explain")


def rows_section(scoring: Scoring) -> None:
    st.subheader(tr("Scored rows"))
    frame = pd.read_csv(scoring.scored_file, dtype=str, keep_default_na=False, nrows=500)
    only = st.toggle(tr("Only untrusted rows"), key="apply_untrusted")
    if only and "trusted" in frame.columns:
        frame = frame[frame["trusted"] == "false"]
    st.caption(tr("The first 500 rows of the file (download the whole file below)."))
    st.dataframe(frame, hide_index=True, height=300, column_config={
        "confidence": st.column_config.ProgressColumn("confidence", min_value=0.0, max_value=1.0, format="percent"),
    })  # fmt: skip


def labelling_section(run: Run, results: dict, scoring: Scoring) -> None:
    st.subheader(tr("Back to training"))
    words = run.adapter.inputs_are_words  # a data shape: the file to label holds word tags, or one label
    kept = results.get("to_label") or []
    if not kept:
        st.caption(tr("No rows were kept for labelling."))
        return
    st.caption(
        tr(
            "Label the rows the model doubts most: download them with the model's guess filled in, correct the "
            "label column, and upload the file. A new run trains on the run's data plus these rows, and is tested "
            "on the same test split, so Compare can tell whether it helped."
        )
    )
    a, b, c = st.columns([2, 1, 1], vertical_alignment="bottom")
    choice = a.radio(tr("Which rows"), list(labelling.CHOICES), horizontal=True, key="apply_label_choice",
                     format_func=lambda c: tr(CHOICES[c]) if c in CHOICES else labelling.CHOICES[c])  # fmt: skip
    limit = b.number_input(
        tr("How many"), min(10, len(kept)), len(kept), min(100, len(kept)), step=10, key="apply_label_n"
    )
    frame = labelling.labelling_frame(labelling.rows_to_label(results, choice, int(limit)), words)
    c.download_button(tr("Download to label"), csv_bytes(frame), file_name=f"{scoring.name}-to-label.csv",
                      mime="text/csv", icon=":material/download:", key="apply_label_dl",
                      on_click=auth.recorder("download", f"{run.path.name}/{scoring.name}/to-label.csv",
                                              rows=len(frame), which=choice))  # fmt: skip
    combined = labeled_upload(run, "apply_labeled")
    if combined is None:
        return
    name = f"{run.path.name}-plus-labeled.csv"
    left, right = st.columns(2)
    if left.button(tr("Train a new run on it (same settings)"), type="primary", icon=":material/model_training:",
                   key="apply_train"):  # fmt: skip
        start_new_run(run, name, combined)
    if right.button(tr("Open it on the Data page"), icon=":material/table_view:", key="apply_to_data"):
        state.set_dataset(name, combined.to_csv(index=False).encode("utf-8"), "corrected")
        layout.go("data")


def export_section(run: Run, scoring: Scoring, results: dict) -> None:
    st.subheader(tr("Export"))
    name = _file_name(Path(scoring.spec().source))
    a, b, c = st.columns(3)
    a.download_button(tr("Scored file (CSV)"), partial(file_bytes, scoring.scored_file), file_name=f"scored-{name}",
                      mime="text/csv", icon=":material/download:", key="apply_dl_scored",
                      on_click=auth.recorder("download", f"{run.path.name}/{scoring.name}/scored.csv"))  # fmt: skip
    b.download_button(tr("Alerts (JSON)"), json.dumps(alerts_json(results), indent=2, ensure_ascii=False),
                      file_name=f"alerts-{Path(name).stem}.json", mime="application/json", icon=":material/notifications:",
                      key="apply_dl_alerts", disabled=not results.get("counts"),
                      on_click=auth.recorder("download", f"{run.path.name}/{scoring.name}/alerts.json"))  # fmt: skip
    c.download_button(tr("Report (HTML)"), apply_report.scoring_html(run, name, results),
                      file_name=f"report-{Path(name).stem}.html", mime="text/html", icon=":material/description:",
                      key="apply_dl_report", on_click=auth.recorder("download", f"{run.path.name}/{scoring.name}/report.html"))  # fmt: skip


def keep_watching(run: Run, scoring: Scoring, results: dict) -> None:
    """Turn this one-off scoring into a monitor: later files of the same stream are added to it."""
    from trainer.monitor import monitor as monitors
    from trainer.monitor.scorers import ScoresMissing, reuse_scores

    spec = scoring.spec()
    if not spec.time_column or not results.get("counts"):
        return
    with st.container(border=True):
        left, right = st.columns([3, 1], vertical_alignment="center")
        left.markdown(tr("**Will more of this text arrive?** Keep watching it: a monitor keeps these rows, adds "
                         "each new file to the same history, and raises alerts as the new rows arrive."))  # fmt: skip
        if not right.button(
            tr("Keep watching this"), icon=":material/monitor_heart:", key="apply_keep_watching"
        ):
            return
    if quota.monitor_refused():
        return
    stem = (
        re.sub(r"[^A-Za-z0-9._-]", "-", Path(_file_name(Path(spec.source))).stem).strip("-._")[:40]
        or "stream"
    )
    taken = set(monitors.names(state.runs_dir()))
    name = next(n for n in (stem, *(f"{stem}-{i}" for i in range(1, 1000))) if n not in taken)
    settings = monitors.Settings(name, str(run.path), spec.text_column, spec.time_column, spec.group_column,
                                 None, results.get("bucket", "week"), auth.me().id, labels=list(run.labels)
                                 if not run.adapter.inputs_are_words else None)  # fmt: skip
    try:
        monitor = monitors.create(state.runs_dir(), settings)
        with st.spinner(tr("Storing the scored rows in the monitor…")):
            scorer = reuse_scores(scoring.scored_file, spec.text_column, settings.labels)
            monitor.add(Path(spec.source), scorer, label=_file_name(Path(spec.source)))
    except (DataError, monitors.MonitorError, ScoresMissing) as exc:
        st.error(md(in_app(exc.message) if isinstance(exc, DataError) else str(exc)), icon=":material/error:")
        return
    auth.record("monitor create", name, run=run.path.name)
    state.put(state.MONITOR_OPEN, name)
    layout.go("monitors")


def render() -> None:
    run = run_selector("apply_run")
    if run is None:
        layout.empty_state(
            tr("No trained model yet. Train one first, then use it here."), "train", tr("Go to Train")
        )
        return
    path = source_section(run)
    if path is not None:
        spec = mapping_section(run, path)
        if spec is not None:
            start(run, spec)
    scoring = chosen_scoring(run)
    if scoring is None:
        return
    results = scoring.results()
    if not results:
        if not progress_or_resume(run, scoring):
            return
        results = scoring.results()
    summary(results)
    trends_section(results)
    keep_watching(run, scoring, results)
    alerts_section(results)
    drift_section(run, results)
    rows_section(scoring)
    labelling_section(run, results, scoring)
    export_section(run, scoring, results)


layout.page(tr("Apply"), tr(INTRO), render)
