"""Back to training from Apply or a monitor: a new run with the old run's settings on its data plus the
rows a person labeled."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from insight_ui import auth, layout, state
from insight_ui.safe import md, trim
from insight_ui.wording import in_app
from trainer import i18n
from trainer.apply import labelling
from trainer.data import DataError
from trainer.i18n import tr
from trainer.jobs.start import StartRefused, start_run
from trainer.prepare import prepare
from trainer.runs import Run


def start_new_run(run: Run, name: str, combined: pd.DataFrame) -> None:
    """Queue a run with the old run's settings on the combined data (its split column kept)."""
    from trainer.config import TrainConfig

    raw = combined.to_csv(index=False).encode("utf-8")
    config = TrainConfig.from_dict(run.folder.asked_config())  # not the resolved device ("CPU (2 cores)")
    try:
        data = prepare((name, raw), task=run.adapter.name, text_column="text", label_column="label",
                       split_column="split", tokenizer=state.tokenizer_for(str(config.model)),
                       max_length=config.max_length, seed=config.seed)  # fmt: skip
    except DataError as exc:
        st.error(md(in_app(exc.message)), icon=":material/error:")
        return
    try:  # the old run's model, as that run was started with it: not checked against the model roots again
        job_id = start_run(auth.me(), config, data, f"{run.info.name}-plus-labeled",
                           manager=state.job_manager(), runs_dir=state.runs_dir(), check_model=False)  # fmt: skip
    except StartRefused as exc:  # a quota reached
        st.error(md(str(exc)), icon=":material/block:")
        return
    state.set_dataset(name, raw, "corrected")
    state.put(state.CURRENT_JOB, job_id)
    layout.go("train")


def labeled_upload(run: Run, key: str) -> pd.DataFrame | None:
    """The uploader for the file a person labeled; the run's data plus its rows (said, with the rows that
    are already held-out examples of the run), or None until a readable file is there."""
    words = run.adapter.labels_each_word()
    labeled = st.file_uploader(tr("Upload the labeled file"), key=key, type=["csv", "tsv", "jsonl"])
    if labeled is None:
        return None
    try:
        rows, said = labelling.read_labeled((labeled.name, labeled.getvalue()), words, run.labels)
    except DataError as exc:
        st.error(md(in_app(exc.message)), icon=":material/error:")
        return None
    combined = labelling.combined_dataset(run, rows)
    st.success(md(tr("{said} With the run's data: {rows} rows.", said=said, rows=i18n.number(len(combined)))),
               icon=":material/check:")  # fmt: skip
    held_out = labelling.held_out_matches(run, rows)
    if held_out:
        st.info(md(tr("{rows} labeled rows are already validation or test examples of this run (the first: "
                      "“{first}”). They keep their labels there and are not trained on, so the new run is tested "
                      "on the same examples.", rows=i18n.number(len(held_out)), first=trim(held_out[0], 80))),
                icon=":material/info:")  # fmt: skip
    return combined
