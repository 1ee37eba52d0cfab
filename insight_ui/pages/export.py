"""Export: take the model, its predictions, its scores and a shareable report away."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from insight_ui import auth, layout
from insight_ui.components import variants_card
from insight_ui.components.runs import run_selector
from insight_ui.reports import run_report as report
from trainer.data.safe_csv import csv_bytes
from trainer.i18n import N_, tr
from trainer.runs import Run

INTRO = N_(
    "Share what the model found, or hand the model on. The report and the predictions are for you and your "
    "colleagues: they open in a browser and in a spreadsheet. The model itself is for whoever runs your "
    "systems: send them this page's last part."
)


def _contents(path: Path) -> bytes:
    """A file to download; a CSV with every formula-like cell neutralised (CSV injection)."""
    if not path.exists():
        return b""
    if path.suffix == ".csv":
        return csv_bytes(pd.read_csv(path, keep_default_na=False))
    return path.read_bytes()


def file_download(run: Run, path: Path, label: str, mime: str, icon: str) -> None:
    """A download button for one file of the run folder, disabled while the file is missing."""
    st.download_button(
        label,
        _contents(path),
        file_name=f"{run.path.name}-{path.name}",
        mime=mime,
        icon=icon,
        disabled=not path.exists(),
        key=f"dl_{path.stem}",
        on_click=auth.recorder("download", f"{run.path.name}/{path.name}"),
    )


def downloads(run: Run) -> None:
    """What a person shares (the report, the predictions as a spreadsheet), then what whoever runs the systems
    takes (the model, the scores as data)."""
    st.subheader(tr("Share the results"))
    a, b = st.columns(2, gap="large")
    with a, st.container(border=True):
        report_card(run)
    with b, st.container(border=True):
        predictions_card(run)
    with st.expander(tr("Preview the report")):
        st.markdown(report.markdown_report(run))
    st.subheader(tr("For whoever runs your systems"))
    st.caption(
        tr(
            "To use the model in another tool (a ticketing system, a news feed), send these two files and the "
            "instructions below to whoever runs your systems: they can run it as a service your tools call."
        )
    )
    c, d = st.columns(2, gap="large")
    with c, st.container(border=True):
        model_card(run)
    with d, st.container(border=True):
        scores_card(run)


def model_card(run: Run) -> None:
    name = run.path.name
    st.markdown(tr("**The model**"))
    st.caption(tr("A zip of the model folder: weights, configuration and tokenizer."))
    st.download_button(
        tr("Download model (.zip)"),
        lambda: report.model_zip(run.path),
        file_name=f"{name}-model.zip",
        mime="application/zip",
        icon=":material/deployed_code:",
        key="dl_model",
        on_click=auth.recorder("download", f"{name}/model.zip"),
    )


def predictions_card(run: Run) -> None:
    st.markdown(tr("**Predictions, as a spreadsheet**"))
    st.caption(
        tr(
            "Opens in Excel or any spreadsheet: each test text, its true label, the model's answer, how sure it "
            "was, and each label's chance."
        )
    )
    file_download(
        run,
        run.folder.predictions_file,
        tr("Download predictions (.csv)"),
        "text/csv",
        ":material/table:",
    )


def scores_card(run: Run) -> None:
    st.markdown(tr("**Scores, as data**"))
    st.caption(
        tr("Every metric on validation and test, per class, the confusion matrix and the training history.")
    )
    file_download(
        run,
        run.folder.metrics_file,
        tr("Download metrics (.json)"),
        "application/json",
        ":material/data_object:",
    )


def report_card(run: Run) -> None:
    name = run.path.name
    st.markdown(tr("**The report**"))
    st.caption(
        tr(
            "One page to send to colleagues: how often the model is right, for each label, the settings in words "
            "and the data check. The web page opens in any browser."
        )
    )
    row = st.container(horizontal=True)
    row.download_button(
        tr("Report as a web page (HTML)"),
        report.html_report(run),
        file_name=f"{name}-report.html",
        mime="text/html",
        icon=":material/description:",
        key="dl_report_html",
        on_click="ignore",
    )
    row.download_button(
        tr("Report as text (Markdown)"),
        report.markdown_report(run),
        file_name=f"{name}-report.md",
        mime="text/markdown",
        icon=":material/article:",
        key="dl_report_md",
        on_click="ignore",
        help=tr("Plain text with light formatting, for a wiki or a code repository."),
    )


def for_developers(run: Run) -> None:
    """The code samples, for whoever runs the systems: in Python, and as an HTTP service."""
    with st.expander(tr("Instructions for developers: Python and an HTTP service"), icon=":material/code:"):
        usage(run)
        variants_card.usage(run)
        serving(run)


def usage(run) -> None:
    st.subheader(tr("Use the model in Python"))
    st.caption(tr("Unzip the model, then:"))
    st.code(
        "from transformers import pipeline\n\n"
        f'model = pipeline("{run.adapter.name}", model="model")  # the unzipped folder\n'
        'print(model("Your text here"))',
        language="python",
    )


def serving(run) -> None:
    """The run behind an HTTP API: the commands, the address and a curl line (see the README's Serve)."""
    st.subheader(tr("Serve it over HTTP"))
    st.caption(
        tr(
            "Other systems (a ticketing tool, a news feed) call the model over HTTP: FastAPI on uvicorn, "
            "concurrent requests batched into one pass, a bearer token per caller, Prometheus metrics, "
            "interactive docs at /docs. Add --monitor NAME to store every served text in a monitor."
        )
    )
    folder = run.path.name
    st.code(
        "python -m trainer tokens create my-system      # prints the token once\n"
        f"python -m trainer serve {folder} --host 127.0.0.1 --port 8000",
        language="bash",
    )
    sample = run.adapter.example_input
    st.markdown(
        tr(
            "Address: `http://127.0.0.1:8000` (endpoints `/predict`, `/explain`, `/health`, `/info`, `/metrics`)"
        )
    )
    st.code(
        'curl -s http://127.0.0.1:8000/predict -H "Authorization: Bearer $TOKEN" '
        f"-H 'Content-Type: application/json' -d '{{\"inputs\": [\"{sample}\"]}}'",
        language="bash",
    )


def render() -> None:
    run = run_selector("export_run")
    if run is None:
        layout.empty_state(tr("No trained model to export yet. Train one first."), "train", tr("Go to Train"))
        return
    downloads(run)
    variants_card.section(run)
    for_developers(run)


layout.page(tr("Export"), tr(INTRO), render)
