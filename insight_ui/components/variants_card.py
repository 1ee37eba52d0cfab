"""Export's "Faster versions" part: the run's compressed variants (trainer.train.compress) with their verdicts
in words, a button that makes them in the background, and a zip of the model with an accepted variant and the
lines that load it."""

from __future__ import annotations

import streamlit as st

from insight_ui import auth, state
from insight_ui.components import background
from insight_ui.safe import md
from trainer.i18n import N_, tr
from trainer.runs import Run
from trainer.runs.records import computation_name

KIND = "compress"
WHAT = {
    "onnx": N_("The same model run by ONNX Runtime, a faster engine"),
    "int8": N_("The same model with its numbers stored in 8 bits: faster and smaller"),
    "smaller": N_("Half the layers, trained again briefly on your training texts"),
}


def _line(name: str, record: dict) -> str:
    """'Kept: the same answer on 99.1% of the test texts, 2.4x faster, 4.0x smaller.'"""
    shrunk = record["original_size_mb"] / record["size_mb"] if record.get("size_mb") else 1.0
    numbers = tr("the same answer on {agree} of the test texts; one text {latency}x as fast, 64 at a time "
                 "{speed}x; {smaller}x smaller", agree=f"{record['agreement']:.1%}",
                 latency=f"{record.get('latency_speedup') or 1:.1f}", speed=f"{record['speedup']:.1f}",
                 smaller=f"{shrunk:.1f}")  # fmt: skip
    if record.get("accepted"):
        return tr("**Kept**: {numbers}.", numbers=numbers)
    return tr("**Not kept**: the check could not show it answers as well as the model ({numbers}).",
              numbers=numbers)  # fmt: skip


def verdicts(run: Run) -> None:
    from trainer.runs.variants import Variants

    records = Variants(run.folder).records()
    for name, record in records.items():
        with st.container(border=True):
            icon = ":material/check_circle:" if record.get("accepted") else ":material/block:"
            st.markdown(f"{icon} **{md(name)}**: {md(tr(WHAT.get(name, name)))}")
            st.markdown(_line(name, record))
            with st.expander(tr("How this was decided")):
                st.markdown(md(record.get("reason", "")))


def maker(run: Run) -> None:
    """The button that makes (or makes again) the variants, and the job's progress while it runs."""
    manager, name = state.job_manager(), computation_name(KIND, {})
    found = manager.computation(run.path, name)
    if found is not None and found.active:
        background.job_computation(run.path, KIND, tr("Making faster versions"), stoppable=True, start=False)
        return
    if found is not None and found.error:
        st.error(md(found.error), icon=":material/error:")
    from trainer.runs.variants import Variants

    label = tr("Make them again") if Variants(run.folder).records() else tr("Make faster versions")
    if st.button(label, icon=":material/speed:", key="compress_start",
                 help=tr("Takes a few minutes: the smaller version is trained again briefly.")):  # fmt: skip
        manager.forget_computation(run.path, name)
        manager.start_computation(run.path, KIND)
        st.rerun()


def downloads(run: Run) -> None:
    """A zip of the model with each accepted variant (the lines that load it are in the developers' part)."""
    from insight_ui.reports import run_report as report
    from trainer.runs.variants import Variants

    for name in Variants(run.folder).accepted():
        st.download_button(tr("Download the model with its {name} version (.zip)", name=name),
                           lambda name=name: report.model_zip(run.path, variant=name),
                           file_name=f"{run.path.name}-model-{name}.zip", mime="application/zip",
                           icon=":material/deployed_code:", key=f"dl_variant_{name}",
                           on_click=auth.recorder("download", f"{run.path.name}/model-{name}.zip"))  # fmt: skip


def usage(run: Run) -> None:
    """For the developers' part: the lines that load each accepted variant from its unzipped download."""
    from insight_ui.reports import run_report as report
    from trainer.runs.variants import Variants

    for name in Variants(run.folder).accepted():
        st.subheader(tr("Use the {name} version in Python", name=name))
        st.caption(tr("Unzip the model with its {name} version, then:", name=name))
        st.code(report.variant_usage(run.adapter, name), language="python")


def section(run: Run) -> None:
    st.subheader(tr("Faster versions of the model"))
    st.caption(tr("Smaller, faster copies of the model for scoring and serving. Each is kept only when a test on "
                  "your test texts finds no real loss of accuracy (at most 1 point), so a faster version never "
                  "quietly gives worse answers."))  # fmt: skip
    verdicts(run)
    maker(run)
    downloads(run)
