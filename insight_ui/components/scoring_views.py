"""A finished scoring on the Apply page: its tiles and drift sentence, how its texts compare with the run's
own (confidence and unknown word pieces, against the thresholds of trainer.runs.trust), and its downloads
(the scored file, the alerts, the HTML report)."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pandas as pd
import streamlit as st

from insight_ui import auth
from insight_ui.components.apply_intake import file_name
from insight_ui.components.trend_charts import confidence_chart
from insight_ui.reports import apply_report
from insight_ui.safe import md
from trainer import i18n
from trainer.apply.chunk import HISTOGRAM
from trainer.apply.run_scoring import alerts_json
from trainer.data.safe_csv import file_bytes
from trainer.evaluate import drift as drifts
from trainer.i18n import N_, tr
from trainer.runs import Run, trust
from trainer.runs.scoring import Scoring

VERDICTS = {"similar": N_("similar"), "some drift": N_("some drift"), "strong drift": N_("strong drift")}


def summary(results: dict) -> None:
    """The tiles (rows scored, untrusted, alerts, drift) and the drift sentence."""
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


def _added(frame: pd.DataFrame) -> list[str]:
    """The columns scoring added after the file's own: "predicted" and every column after it."""
    columns = [str(c) for c in frame.columns]
    return columns[columns.index("predicted") :] if "predicted" in columns else []


def scored_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The scored file's rows (read as text) as shown: "trusted" ("true"/"false" in the file) as a tick box,
    the confidence and each label's chance as numbers."""
    shown, added = frame.copy(), _added(frame)
    if "trusted" in added:
        shown["trusted"] = shown["trusted"].map({"true": True, "false": False})
    for column in added:
        if column == "confidence" or column.startswith("p_"):
            shown[column] = pd.to_numeric(shown[column], errors="coerce")
    return shown


def scored_columns(frame: pd.DataFrame) -> dict:
    """The headings of the columns scoring added, in the page's language (the file's own keep their names):
    the prediction, how sure the model was, whether it can be trusted, and each label's chance."""
    bar = {"min_value": 0.0, "max_value": 1.0, "format": "percent"}
    config: dict = {
        "predicted": st.column_config.TextColumn(tr("Prediction")),
        "confidence": st.column_config.ProgressColumn(tr("Confidence"), **bar),
        "trusted": st.column_config.CheckboxColumn(
            tr("Trusted"),
            help=tr(
                "Unticked: the model is much less sure than usual, or the text looks unlike "
                "anything it was trained on."
            ),
        ),  # fmt: skip
        "tags": st.column_config.TextColumn(tr("Tags")),
    }
    for column in _added(frame):
        if column.startswith("p_"):
            config[column] = st.column_config.NumberColumn(
                tr("Chance of {label}", label=column[2:]), format="percent"
            )
    return {name: config[name] for name in _added(frame) if name in config}


def drift_section(run: Run, results: dict) -> None:
    drift = results.get("drift") or {}
    with st.expander(tr("How the new texts compare with the training data")):
        validation, _ = trust.reference(run)
        hist = results.get("confidence_histogram") or [0] * (len(HISTOGRAM) - 1)
        st.plotly_chart(confidence_chart(hist, HISTOGRAM, validation), width="stretch", key="apply_conf")
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


def export_section(run: Run, scoring: Scoring, results: dict) -> None:
    st.subheader(tr("Export"))
    name = file_name(Path(scoring.spec().source))
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
