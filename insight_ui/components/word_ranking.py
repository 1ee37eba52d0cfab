"""The Explain page's dataset-wide word ranking: the words that push the model toward each label over
the test split, computed in its own process (a stratified sample first, then every text), with its
progress, the time left at the measured speed, and the bar charts once it is ready."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from insight_ui import layout, state
from insight_ui.components import charts
from insight_ui.components.progress import duration
from insight_ui.safe import md, plot_label
from trainer.data.safe_csv import csv_bytes
from trainer.i18n import N_, tr
from trainer.runs import Run
from trainer.runs.records import computation_name

LIMITS = ("sample", "all")  # a stratified sample of the test split first, then every text
RANKING_HELP = N_(
    "Each text is explained with integrated gradients (the model's score followed from a blank text to this "
    "one, shared out among its words); a word's rank is its mean attribution over the texts. The sample is "
    "stratified: each label keeps its share. See the Glossary."
)


def dataset_section(run: Run, frame: pd.DataFrame | None) -> None:
    """The words that push most toward each label over the test split: a stratified sample answers first."""
    from trainer.attribution.dataset import SAMPLE, estimate_seconds

    if not run.adapter.supports("dataset_ranking"):
        return  # entity runs: one word's tag is explained above; a heading with nothing under it says nothing
    st.divider()
    st.subheader(tr("Words that matter across the test texts"))
    if frame is None or frame.empty:
        st.caption(
            tr("Dataset-wide word rankings are computed for text classification runs with a test split.")
        )
        return
    manager = state.job_manager()
    n, speed = len(frame), run.folder.rank_speed()  # seconds per text, as last measured here
    sample, everything = min(SAMPLE, n), estimate_seconds(n, speed)
    computations = {
        limit: manager.computation(run.path, computation_name("rank", {"limit": limit})) for limit in LIMITS
    }
    running = next((limit for limit, c in computations.items() if c is not None and c.running), None)
    if run.folder.top_words() is None and running is None:
        if everything is None:
            intro = tr(
                "Rank the words that push the model toward each label, over the test texts. A sample of "
                "{sample} texts, with every label in its share, answers first; how long it takes is measured on "
                "the first texts and shown while it runs.",
                sample=f"{sample:,}",
            )
        else:
            intro = tr(
                "Rank the words that push the model toward each label, over the test texts. A sample of "
                "{sample} texts, with every label in its share, answers first (about {sample_time} at the speed "
                "last measured on this computer); all {n} take about {all_time}.",
                sample=f"{sample:,}",
                sample_time=duration(estimate_seconds(sample, speed)),
                n=f"{n:,}",
                all_time=duration(everything),
            )
        st.caption(intro, help=tr(RANKING_HELP))
        if st.button(
            tr("Find the words that matter"), icon=":material/travel_explore:", key="start_top_words"
        ):
            manager.start_computation(run.path, "rank", limit="sample")
            st.rerun()
        return
    live_ranking(run, running, n)


def progress_line(done: int, total: int, eta_seconds: float | None) -> str:
    """The line under the ranking's bar: how far, and the time left at the speed measured so far."""
    if eta_seconds is None:
        return tr(
            "Explaining test texts: {done} of {total} (measuring this computer's speed on the first texts…)",
            done=f"{done:,}",
            total=f"{total:,}" if total else "…",
        )
    return tr(
        "Explaining test texts: {done} of {total}, about {time} left at the speed measured here",
        done=f"{done:,}",
        total=f"{total:,}",
        time=duration(eta_seconds),
    )


def live_ranking(run: Run, running: str | None, n: int) -> None:
    """The ranking as it stands, refreshed while the job explains more texts."""
    from trainer.attribution.dataset import estimate_seconds

    manager = state.job_manager()

    @st.fragment(run_every=2.0 if running else None)
    @layout.guarded
    def live() -> None:
        now = manager.computation(run.path, computation_name("rank", {"limit": running})) if running else None
        if running and (now is None or not now.running):
            st.rerun()  # it just finished: draw the final ranking with its buttons
        if now is not None:
            st.progress(now.progress, text=progress_line(now.done, now.total, now.eta_seconds))
            if st.button(tr("Stop"), key="stop_top_words", icon=":material/stop_circle:"):
                manager.stop_computation(run.path, now.name)
        saved, meta = run.folder.top_words(), run.folder.top_words_meta()
        if saved is not None:
            top_words_view(run, saved, meta, done=now is None)
        failed = [c for c in (manager.computation(run.path, computation_name("rank", {"limit": x})) for x in LIMITS)
                  if c is not None and c.status == "failed"]  # fmt: skip
        if failed and now is None:
            st.error(md(failed[0].error or tr("The ranking failed.")), icon=":material/error:")
        everything = estimate_seconds(n, run.folder.rank_speed())
        label = (
            tr("Explain all {n} test texts", n=f"{n:,}")
            if everything is None
            else tr("Explain all {n} test texts (about {time})", n=f"{n:,}", time=duration(everything))
        )
        if (
            now is None
            and meta.get("explained", 0) < n
            and st.button(label, key="rank_all", icon=":material/playlist_add_check:")
        ):
            manager.forget_computation(run.path, computation_name("rank", {"limit": "all"}))
            manager.start_computation(run.path, "rank", limit="all")
            st.rerun()

    live()


def left_out_caption(frame: pd.DataFrame, common: int) -> str:
    """What the ranking leaves out, with examples of common words in the language of its words."""
    from trainer.data.common_words import EXAMPLES
    from trainer.data.word_rule import is_cjk

    chinese = any(is_cjk(ch) for word in frame["word"].astype(str) for ch in word)
    examples = ", ".join(f"“{w}”" for w in EXAMPLES["zh" if chinese else "en"])
    return tr(
        "Left out: punctuation, pieces of words and {n} common words such as {examples}.",
        n=f"{common:,}",
        examples=examples,
    )


def top_words_view(run: Run, frame: pd.DataFrame, meta: dict, done: bool = True) -> None:
    explained, total = meta.get("explained"), meta.get("total")
    basis = (
        tr("{explained} of {total} test texts", explained=f"{explained:,}", total=f"{total:,}")
        if explained is not None and total
        else tr("the test texts")
    )
    if frame.empty:
        st.info(tr("No word stands out yet ({basis}): too few texts, or each word appears only once.", basis=basis),
                icon=":material/info:")  # fmt: skip
    else:
        st.caption(
            tr(
                "How strongly each word pushes the model toward the label it predicted, on average over {basis} "
                "(words seen at least twice). Longer red bars push harder; a wide grey whisker means the word "
                "rests on few texts.",
                basis=basis,
            ),
            help=tr(
                "Each bar is the word's mean attribution (integrated gradients) toward the predicted label; the "
                "whiskers are 95% bootstrap intervals. A stratified sample of the test texts is explained first. "
                "See the Glossary."
            ),
        )
        if meta.get("common_left_out"):
            st.caption(left_out_caption(frame, int(meta["common_left_out"])))
        labels = [x for x in run.labels if x in set(frame["class"])]
        for start in range(0, len(labels), 2):
            cols = st.columns(2)
            for col, label in zip(cols, labels[start : start + 2], strict=False):
                part = frame[frame["class"] == label].head(10)
                col.plotly_chart(
                    charts.top_words(
                        list(part["word"]),
                        list(part["mean attribution"]),
                        tr("Toward “{label}”", label=plot_label(label, 30)),
                        list(part.get("low", part["mean attribution"])),
                        list(part.get("high", part["mean attribution"])),
                    ),  # fmt: skip
                    config={"displayModeBar": False},
                    key=f"top_words_{label}",
                )
    if not done:
        return
    left, right = st.columns([1, 3])
    left.download_button(
        tr("Download as CSV"),
        csv_bytes(frame),
        file_name=f"{run.path.name}-top-words.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
    )
    if right.button(tr("Compute again"), key="recompute_top_words", icon=":material/refresh:"):
        run.folder.forget_top_words()
        for limit in LIMITS:
            state.job_manager().forget_computation(run.path, computation_name("rank", {"limit": limit}))
        st.rerun()
