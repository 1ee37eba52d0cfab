"""Apply: score new text with a trained model; label shares over time, alerts, drift, back to training."""

from __future__ import annotations

import time
from dataclasses import asdict, replace
from pathlib import Path

import pandas as pd
import streamlit as st

from insight_ui import auth, layout, state
from insight_ui.components import alert_rules, back_to_training, background, quota, scoring_views
from insight_ui.components.apply_intake import file_name, mapping_section, source_section
from insight_ui.components.keep_watching import keep_watching
from insight_ui.components.runs import run_selector
from insight_ui.components.trend_charts import alert_values, trend_chart, unit
from insight_ui.safe import md, md_code, trim
from trainer import i18n, runs
from trainer.access import owners
from trainer.evaluate.trends import ALL_GROUPS, BASELINE
from trainer.i18n import N_, tr
from trainer.runs import Run
from trainer.runs.records import computation_name
from trainer.runs.scoring import Scoring, Spec, scoring_name, scorings

INTRO = N_(
    "Use a trained model on **new text**: score this week's messages or news, see how the share of each "
    "label moves over time, get an alert when one surges, check whether the new text still looks like "
    "what the model learned from, and send the doubtful rows back to labelling."
)


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
    return f"{file_name(Path(spec.source))} · {spec.text_column} · {when}"


def chosen_scoring(run: Run) -> Scoring | None:
    """The scoring to show (the person's own, or every one to whoever may change the run): the one just
    started or picked, else the newest."""
    items = owners.mine_on_run(auth.me(), run.path, scorings(run.path), lambda s: s.spec().owner)
    if not items:
        return None
    names = [s.name for s in items]
    shown = state.get(state.APPLY_SCORING)
    box = f"apply_pick_{run.path.name}"  # one key for good: a key that follows the choice loses the next pick
    if shown.get(str(run.path)) not in names:
        shown[str(run.path)] = names[0]
    state.put(state.APPLY_SCORING, shown)
    state.put(box, shown[str(run.path)])  # a scoring just started (`start`) shows at once

    def picked_by_hand() -> None:
        state.get(state.APPLY_SCORING)[str(run.path)] = state.get(box)

    st.subheader(tr("Results"))
    picked = st.selectbox(
        tr("Scored file"),
        names,
        format_func=lambda n: _describe(items[names.index(n)]),
        key=box,
        on_change=picked_by_hand,
    )
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
    return background.job_computation(run.path, "score", tr("Scoring"), stoppable=True, **params)


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
    alert_rules.for_scoring(bucket)
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
            st.caption(md(alert_rules.chance_in_words(alert)),
                       help=tr("p = {p} by Fisher's exact test. See the Glossary.", p=format(alert["p_value"], ".1e")))  # fmt: skip
            if alert.get("words"):
                st.markdown(
                    tr("Words behind it: {words}", words=" ".join(md_code(w["word"]) for w in alert["words"]))
                )
            for j, text in enumerate(alert.get("examples", [])[:5]):
                left, right = st.columns([6, 1], vertical_alignment="center")
                left.markdown(f"• {md(trim(text, 220))}")
                if right.button(tr("Explain"), icon=":material/lightbulb:", key=f"apply_explain_{i}_{j}",
                                help=tr("Explain this text: which words drove the prediction")):  # fmt: skip
                    state.open_in_explain(text, tr("an alert on the Apply page"))
                    layout.go("explain")


def rows_section(scoring: Scoring) -> None:
    st.subheader(tr("Scored rows"))
    frame = pd.read_csv(scoring.scored_file, dtype=str, keep_default_na=False, nrows=500)
    only = st.toggle(tr("Only untrusted rows"), key="apply_untrusted")
    if only and "trusted" in frame.columns:
        frame = frame[frame["trusted"] == "false"]
    st.caption(tr("The first 500 rows of the file (download the whole file below)."))
    st.dataframe(scoring_views.scored_rows(frame), hide_index=True, height=300,
                 column_config=scoring_views.scored_columns(frame))  # fmt: skip


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
    scoring_views.summary(results)
    trends_section(results)
    keep_watching(run, scoring, results)
    alerts_section(results)
    scoring_views.drift_section(run, results)
    rows_section(scoring)
    back_to_training.from_scoring(run, results, scoring)
    scoring_views.export_section(run, scoring, results)


layout.page(tr("Apply"), tr(INTRO), render)
