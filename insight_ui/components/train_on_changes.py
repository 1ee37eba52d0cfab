"""Evaluate's "Train again with these changes" (issue 31, fix it): a new run with the same settings on the same
splits, its training texts grown by changed copies for each change that changed some answers
(TrainConfig.augment); Compare then says whether it is more robust and what it cost."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from insight_ui import auth, layout, state
from insight_ui.safe import md
from trainer.i18n import tr
from trainer.jobs.start import StartRefused, start_run
from trainer.runs import Run


def failing(results: dict) -> list[str]:
    """The built-in changes (not a person's rules) that changed at least one answer."""
    from trainer.data.perturb import FAMILIES

    return [t["name"] for t in results.get("tests", [])
            if t["name"] in FAMILIES and not t.get("rule") and t.get("failed")]  # fmt: skip


def offer(run: Run, results: dict, names: dict[str, str]) -> None:
    """The button, for a text run with changes that moved answers; `names`: each change in words."""
    families = failing(results)
    if not families or not run.adapter.supports("small_changes"):
        return
    st.caption(tr("Train again on the same data and settings, adding to the training texts a changed copy of each "
                  "for: {changes}. Then Compare says whether the new run is more robust and what it cost.",
                  changes="; ".join(md(names.get(f, f)) for f in families)))  # fmt: skip
    if st.button(
        tr("Train again with these changes"), icon=":material/model_training:", key="train_on_changes"
    ):
        start(run, families)


def start(run: Run, families: list[str]) -> None:
    from trainer.config import TrainConfig
    from trainer.runs import RunFolder

    config = replace(TrainConfig.from_dict(run.folder.asked_config()), augment=tuple(families))
    try:  # the run's own model, as it was started with it: not checked against the model roots again
        job_id = start_run(auth.me(), config, RunFolder(run.path).load_data(), f"{run.info.name}-with-changes",
                           manager=state.job_manager(), runs_dir=state.runs_dir(), check_model=False)  # fmt: skip
    except StartRefused as exc:  # a quota reached
        st.error(md(str(exc)), icon=":material/block:")
        return
    state.put(state.CURRENT_JOB, job_id)
    layout.go("train")
