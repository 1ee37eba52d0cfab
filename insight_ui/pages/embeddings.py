"""Embeddings: how the model places examples in its space, before and after fine-tuning."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from insight_ui import layout, state
from insight_ui.components import background, charts
from insight_ui.components.runs import run_selector
from insight_ui.safe import md, plot_text
from trainer import i18n
from trainer.i18n import N_, tr, trn
from trainer.inspect import embedding_map as emb
from trainer.runs import Run
from trainer.runs.records import computation_name

SUBSETS = {"test": N_("Test split"), "all": N_("All examples")}
METHODS = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}  # the technical names, in help and for specialists
# Each way of drawing the map in everyday words (the choice a person makes).
METHOD_WORDS = {"pca": N_("Quick overview"), "tsne": N_("Local groups"), "umap": N_("Groups and layout")}
# How many dots a map has, per the task's map unit (one id each: the unit is part of the phrase)
COUNTED = {"examples": N_("{n} examples"), "entity words": N_("{n} entity words")}
INTRO = N_(
    "Each dot is one example, placed by the model's internal representation of it: nearby dots look "
    "alike to the model. After fine-tuning, examples of the same label should form clearer groups. "
    "Click a dot to explain it."
)


def controls(run: Run) -> tuple[str, str, str]:
    a, b, c = st.columns([2, 3, 2])  # the three ways to draw the map fit on one line
    subset = a.segmented_control(
        tr("Examples"),
        list(SUBSETS),
        format_func=lambda k: tr(SUBSETS[k]),
        default="test",
        key="emb_subset",
        required=True,
    )
    method = b.segmented_control(
        tr("How to draw the map"),
        list(METHODS),
        format_func=lambda k: tr(METHOD_WORDS[k]),
        default="pca",
        key="emb_method",
        required=True,
        help=tr(
            "Quick overview (PCA): instant, keeps the overall distances. Local groups (t-SNE): shows which "
            "examples sit close together; the distances between groups mean little. Groups and layout (UMAP): "
            "local groups with more of the overall layout kept. The last two take seconds to compute. "
            "See the Glossary."
        ),
    )
    names = run.adapter.map_colours
    state.keep_if_among(state.EMBEDDING_COLOUR, names)
    colour = c.selectbox(
        tr("Colour by"), list(names), format_func=lambda k: tr(names[k]), key=state.EMBEDDING_COLOUR
    )
    return subset, method, colour


def counted(run: Run, n: int) -> str:
    """'1,234 examples' / '1,234 entity words' in the page's language."""
    unit = run.adapter.map_unit
    if unit in COUNTED:
        return tr(COUNTED[unit], n=i18n.number(n))
    return f"{i18n.number(n)} {tr(unit)}"  # a task this page has no phrase for yet


def plot_frame(frame: pd.DataFrame, xy: np.ndarray, colour: str) -> pd.DataFrame:
    out = frame.copy()
    out["x"], out["y"], out["idx"] = xy[:, 0], xy[:, 1], np.arange(len(frame))
    if "predicted" in out.columns:
        right, wrong = tr("right"), tr("wrong")
        out["outcome"] = np.where(out["gold"].astype(str) == out["predicted"].astype(str), right, wrong)
    words = "sentence" in out.columns  # token task: each dot is a word in its sentence
    word_in = tr("<b>{word}</b> in: {sentence}")
    texts = (
        [
            i18n.fill(word_in, {"word": plot_text(w, 40), "sentence": plot_text(s)})
            for w, s in zip(out["text"], out["sentence"], strict=True)
        ]
        if words
        else [plot_text(t, 160 if len(out) <= 10_000 else 90) for t in out["text"]]
    )
    hover = (
        tr("{text}<br><b>true:</b> {gold} · <b>predicted:</b> {predicted} ({confidence})")
        if "predicted" in out.columns
        else tr("{text}<br><b>true:</b> {gold}")
    )
    out["hover"] = [
        i18n.fill(
            hover,
            {"text": t, "gold": plot_text(g, 40), "predicted": plot_text(p, 40), "confidence": f"{c:.0%}"},
        )
        for t, g, p, c in zip(
            texts,
            out["gold"],
            out.get("predicted", out["gold"]),
            out.get("confidence", pd.Series(1.0, index=out.index)),
            strict=True,
        )
    ]
    if colour not in out.columns:
        colour = "gold"
    out[colour] = out[colour] if colour == "confidence" else out[colour].astype(str)
    return out


def open_clicked(event: object, frame: pd.DataFrame) -> None:
    """A clicked dot opens that example on the Explain page."""
    points = getattr(getattr(event, "selection", None), "points", None) or []
    if not points:
        return
    point = points[0]
    idx = point.get("customdata")
    if isinstance(idx, list):
        idx = idx[0] if idx else None
    if idx is None:
        return
    row = frame.iloc[int(idx)]
    if "sentence" in frame.columns:  # a word of a sentence (token task)
        state.open_in_explain(
            str(row["sentence"]),
            tr("the word “{word}” you clicked (true type {gold})", word=row["text"], gold=row["gold"]),
            int(row["word"]),
        )
    else:
        state.open_in_explain(
            str(row["text"]), tr("the dot you clicked (true label {gold})", gold=row["gold"])
        )
    layout.go("explain")


def issue_marks(run: Run, frame: pd.DataFrame) -> np.ndarray | None:
    """Per dot, whether it is a likely label issue (of any split), else None when none were looked for."""
    issues = run.folder.issues()
    if issues is None or issues.empty or "split" not in frame.columns:
        return None
    if "sentence" in frame.columns:  # a word of a sentence
        flagged = {
            (s, t, int(w))
            for s, t, w in zip(issues["split"], issues["text"], issues["word"], strict=True)
            if w == w
        }
        keys = zip(frame["split"], frame["sentence"], frame["word"], strict=True)
        return np.array([(s, str(t), int(w)) in flagged for s, t, w in keys])
    flagged = set(zip(issues["split"], issues["index"].astype(int), strict=True))
    return np.array([(s, int(i)) in flagged for s, i in zip(frame["split"], frame["index"], strict=True)])


def scatter(
    frame: pd.DataFrame, xy: np.ndarray, colour: str, title: str, key: str, issues: np.ndarray | None
) -> None:
    data = plot_frame(frame, xy, colour)
    if issues is not None:
        data["issue"] = issues
    colour = colour if colour in data.columns else "gold"
    fig = charts.scatter(data, colour, title, continuous=colour == "confidence")
    event = st.plotly_chart(
        fig,
        on_select="rerun",
        selection_mode="points",
        key=key,
        config={"displayModeBar": False, "scrollZoom": True},
    )
    open_clicked(event, frame)


def render() -> None:
    run = run_selector("embeddings_run")
    if run is None:
        layout.empty_state(
            tr("No trained model yet. Train one first to see how it organises your examples."),
            "train",
            tr("Go to Train"),
        )
        return
    subset, method, colour = controls(run)
    if run.adapter.map_intro:
        st.caption(tr(run.adapter.map_intro))
    show(run, subset or "test", method or "pca", colour)


def show(run: Run, subset: str, method: str, colour: str) -> None:
    data = emb.load(run, subset)
    name = computation_name("embed", {"subset": subset})
    computation = state.job_manager().computation(run.path, name)
    label = tr(
        "Reading the examples with the pretrained model (first map: a sample), then every example, "
        "before and after fine-tuning…"
    )
    if data is None or data.stage == "sample":
        if background.job_computation(run.path, "embed", label, subset=subset) and data is None:
            state.job_manager().forget_computation(run.path, name)  # it finished, yet its files are gone
            st.rerun()
        if data is None:
            return
    elif computation is not None and computation.status != "finished":
        state.job_manager().forget_computation(run.path, name)
    draw(run, data, subset, method, colour)


def draw(run: Run, data: emb.MapData, subset: str, method: str, colour: str) -> None:
    """The two maps side by side (before and after fine-tuning) and what they show."""
    frame, after, before = data.frame, data.after, data.before
    issues = issue_marks(run, frame)
    if not projected_ready(run, data, subset, method):
        return
    path = str(run.path)
    left, right = st.columns(2)
    with left:
        if before is not None:
            scatter(frame, emb.projected(before, method, path), colour, tr("Before fine-tuning (pretrained model)"),
                    "emb_before", issues)  # fmt: skip
        else:
            st.info(md(tr("The before-fine-tuning map is not available: {why}", why=data.before_error or tr("the pretrained model it started from is not available"))),
                    icon=":material/info:")  # fmt: skip
    with right:
        scatter(
            frame,
            emb.projected(after, method, path),
            colour,
            tr("After fine-tuning (your model)"),
            "emb_after",
            issues,
        )
    captions(run, data, method, issues)


def projected_ready(run: Run, data: emb.MapData, subset: str, method: str) -> bool:
    """Whether both maps are projected with `method`; t-SNE and UMAP are computed in the background first."""
    registry, path, frame = state.computation_registry(), str(run.path), data.frame
    if method == "pca" or emb.has_projection(data.after, method, path):
        return True
    key = f"project|{path}|{subset}|{method}|{len(frame)}"
    return background.in_process(
        key,
        tr(
            "Drawing the “{method}” map of {n} points…",
            method=tr(METHOD_WORDS[method]),
            n=i18n.number(len(frame)),
        ),
        lambda: registry.start(key, emb.project_both, data.after, data.before, method, path),
    )


def captions(run: Run, data: emb.MapData, method: str, issues: np.ndarray | None) -> None:
    """Under the maps: a sample's note, how many dots and how they were placed, and the circled issues."""
    from trainer.inspect.projection import approach

    frame = data.frame
    if data.stage == "sample":
        st.caption(
            md(
                tr(
                    "First map: a stratified sample of {n} of the {total}, drawn while the rest are read; "
                    "the full map replaces it when it is ready.",
                    n=i18n.number(len(frame)),
                    total=counted(run, data.total),
                )
            )
        )
    st.caption(
        md(
            tr(
                "{count}. {approach} Hover a dot to read it; click it to explain it. Scroll to zoom, drag to pan.",
                count=counted(run, len(frame)),
                approach=approach(method, len(frame)),
            )
        )
    )
    if issues is not None and issues.any():
        st.caption(
            trn(
                ":red[◯] {n} circled dot is a likely label issue: a model that never saw it confidently disagrees "
                "with its label. Evaluate lists it; drop or relabel it there and train again.",
                ":red[◯] {n} circled dots are likely label issues: a model that never saw them confidently disagrees "
                "with their label. Evaluate lists them; drop or relabel them there and train again.",
                int(issues.sum()),
            )
        )


layout.page(tr("Embeddings"), tr(INTRO), render)
