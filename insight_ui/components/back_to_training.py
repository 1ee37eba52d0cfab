"""Back to training, from the Apply page (a scoring's doubtful rows) and the Monitors page (a monitor's least
certain rows): download them with the model's guess filled in, upload them labeled, train a new run on the
run's data plus these rows (trainer.apply.labelling; the upload and the new run: components.retrain)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from insight_ui import auth, layout, state
from insight_ui.components.retrain import labeled_upload, start_new_run
from trainer.apply import labelling
from trainer.data.safe_csv import csv_bytes
from trainer.i18n import N_, tr
from trainer.monitor import reading
from trainer.monitor.monitor import Monitor
from trainer.runs import Run, load_run
from trainer.runs.scoring import Scoring

CHOICES = {  # what labelling.CHOICES says, shown in the current language
    "untrusted": N_("Untrusted first, then the least confident"),
    "uncertain": N_("The least confident"),
}


def from_scoring(run: Run, results: dict, scoring: Scoring) -> None:
    """The Apply page's: which of the rows kept while scoring, how many, the download, the upload."""
    st.subheader(tr("Back to training"))
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
    rows = labelling.rows_to_label(results, choice, int(limit))
    frame = labelling.labelling_frame(rows, run.adapter.labels_each_word())
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


def from_monitor(monitor: Monitor) -> None:
    """The Monitors page's: the 200 rows the model was least sure of, the download, the upload."""
    st.subheader(tr("Back to training"))
    run = load_run(Path(monitor.settings.run))
    doubtful = reading.least_certain(monitor, 200)
    if doubtful.empty:
        st.caption(tr("No rows to label yet."))
        return
    st.caption(tr("The rows the model was least sure of: download them with its guess filled in, correct the label "
                  "column, upload the file, and train a new run on the run's data plus these rows."))  # fmt: skip
    rows = [{"text": r.text, "predicted": r.predicted, "confidence": round(float(r.confidence), 4),
             "time": str(r.time), "group": r.group} for r in doubtful.itertuples()]  # fmt: skip
    frame = labelling.labelling_frame(rows, run.adapter.labels_each_word())
    st.download_button(tr("Download {n} rows to label", n=len(frame)), csv_bytes(frame), file_name=f"{monitor.name}-to-label.csv",
                       mime="text/csv", icon=":material/download:", key="monitor_label_dl",
                       on_click=auth.recorder("download", f"monitor {monitor.name}/to-label.csv", rows=len(frame)))  # fmt: skip
    combined = labeled_upload(run, "monitor_labeled")
    if combined is None:
        return
    if st.button(tr("Train a new run on it (same settings)"), type="primary", icon=":material/model_training:",
                 key="monitor_train"):  # fmt: skip
        start_new_run(run, f"{run.path.name}-plus-labeled.csv", combined)
