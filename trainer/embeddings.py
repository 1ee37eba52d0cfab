"""The embedding map's data: each example's vector before and after fine-tuning, stored in the run folder.

One dot per example (text task) or per word that is part of an entity (token task): the adapter's
`map_points` says which. Vectors: mean-pooled last hidden states of a text, or the last hidden state
of a word's first subword. Computed once (in a background task) and saved under `<run>/embeddings`;
projections to 2-D go through trainer.projection, cached in memory and under `<run>/projections`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trainer.metrics import entity_type
from trainer.models import model_lock
from trainer.runs import Run, RunFolder

SUBSETS = ("test", "all")
MAX_WORDS = 4000  # entity words on one map (token task): more would only hide each other
Progress = Callable[[int, int], None] | None
StopCheck = Callable[[], bool] | None


def examples(run: Run, subset: str) -> pd.DataFrame | None:
    """text, gold, split (+ predicted, confidence when known) for the chosen subset."""
    preds = run.predictions()
    if subset == "test" and preds is not None:
        column = "tokens" if "tokens" in preds.columns and "text" not in preds.columns else "text"
        frame = preds[[column, "gold", "predicted", "confidence"]].rename(columns={column: "text"})
        frame["split"] = "test"
        return frame.reset_index(drop=True)
    parts = []
    for split in ("train", "validation", "test"):
        part = run.split(split)
        if part is None or part.empty:
            continue
        part = part.rename(columns={"tokens": "text", "tags": "label"})
        parts.append(
            pd.DataFrame(
                {"text": part["text"].astype(str), "gold": part["label"].astype(str), "split": split}
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else None


def forget(run_path: str | Path, subset: str) -> None:
    """Delete the saved embeddings of `subset` so they are computed again."""
    for file in RunFolder(run_path).embedding_files(subset).values():
        file.unlink(missing_ok=True)


def ready(run_path: str | Path, subset: str) -> bool:
    f = RunFolder(run_path).embedding_files(subset)
    return f["after"].exists() and f["frame"].exists()


def _save(
    f: dict[str, Path], frame: pd.DataFrame, after: np.ndarray, before: Callable[[], np.ndarray]
) -> None:
    """Write a map's files. The backbone (`before`) may be unavailable: then say why in a file instead,
    since the 'after' view is still useful alone."""
    f["after"].parent.mkdir(exist_ok=True)
    try:
        np.save(f["before"], before())
        f["before_error"].unlink(missing_ok=True)
    except Exception as exc:  # noqa: BLE001 - any failure of the backbone only costs the 'before' map
        f["before_error"].write_text(str(exc) or type(exc).__name__, encoding="utf-8")
    np.save(f["after"], after)
    frame.to_csv(f["frame"], index=False)


def entity_words(
    frame: pd.DataFrame, predicted: list[list[str]], confidence: list[list[float]]
) -> pd.DataFrame:
    """Token task: one row per word that is part of an entity, in the true or the predicted tags.

    Columns: text (the word), sentence, sentence_id, word (its index), gold and predicted entity
    type ("O" outside entities), confidence of the predicted tag, split.
    """
    rows = []
    for sid, (sentence, tags, split) in enumerate(
        zip(frame["text"], frame["gold"], frame["split"], strict=True)
    ):
        words, gold = str(sentence).split(), str(tags).split()
        for i, word in enumerate(words):
            g = entity_type(gold[i]) if i < len(gold) else "O"
            p = entity_type(predicted[sid][i]) if i < len(predicted[sid]) else "O"
            if g == "O" and p == "O":
                continue
            rows.append(
                {
                    "text": word,
                    "sentence": sentence,
                    "sentence_id": sid,
                    "word": i,
                    "gold": g,
                    "predicted": p,
                    "confidence": round(float(confidence[sid][i]), 6) if i < len(confidence[sid]) else 0.0,
                    "split": split,
                }
            )
            if len(rows) >= MAX_WORDS:
                return pd.DataFrame(rows)
    columns = ["text", "sentence", "sentence_id", "word", "gold", "predicted", "confidence", "split"]
    return pd.DataFrame(rows, columns=columns)


def _pick(per_sentence: list[np.ndarray], words: pd.DataFrame, hidden: int) -> np.ndarray:
    """The rows of `words` out of per-sentence (n_words, H) arrays (zeros past the model's reach)."""
    out = np.zeros((len(words), hidden), dtype=np.float32)
    for k, (sid, i) in enumerate(zip(words["sentence_id"], words["word"], strict=True)):
        vectors = per_sentence[int(sid)]
        if int(i) < len(vectors):
            out[k] = vectors[int(i)]
    return out


def _word_points(
    model: Any, run: Run, frame: pd.DataFrame, progress: Progress, should_stop: StopCheck
) -> tuple:
    """Entity words: (points, after (N, H), before() -> (N, H))."""
    from trainer.predict import backbone_embeddings

    sentences = [str(t).split() for t in frame["text"]]
    if progress:
        progress(0, 3)
    with model_lock(model.model):
        preds = model.predict(sentences)
        words = entity_words(frame, preds.tags, preds.confidence)
        if words.empty:
            raise ValueError("No word of these sentences is part of an entity, so there is nothing to map.")
        used = sorted(set(words["sentence_id"]))
        keep = {sid: k for k, sid in enumerate(used)}
        if progress:
            progress(1, 3)
        after_all = model.embed([sentences[s] for s in used])
    words = words.assign(sentence_id=[keep[s] for s in words["sentence_id"]])
    after = _pick(after_all, words, after_all[0].shape[1] if after_all else 1)
    if progress:
        progress(2, 3)

    def before() -> np.ndarray:
        model_name = run.config.get("model") or "default"
        vectors = backbone_embeddings(model_name, model.task, [sentences[s] for s in used], model.max_length)
        out = _pick(vectors, words, vectors[0].shape[1])
        if progress:
            progress(3, 3)
        return out

    return words, after, before


def _example_points(
    model: Any, run: Run, frame: pd.DataFrame, progress: Progress, should_stop: StopCheck
) -> tuple:
    """One dot per example: (points, after (N, H), before() -> (N, H))."""
    from trainer.predict import backbone_embeddings

    texts = frame["text"].astype(str).tolist()
    n = len(texts)

    def step(offset: int) -> Progress:
        return (lambda done, total: progress(offset + done, 2 * n)) if progress else None

    if progress:
        progress(0, 2 * n)
    with model_lock(model.model):  # the Explain page may hook this model meanwhile
        after = model.embed(texts, progress=step(0))
        if "predicted" not in frame.columns:
            preds = model.predict(texts)
            frame["predicted"], frame["confidence"] = preds.labels, np.round(preds.confidence, 6)
    model_name = run.config.get("model") or "default"
    return (
        frame,
        after,
        lambda: backbone_embeddings(model_name, model.task, texts, model.max_length, progress=step(n)),
    )


POINTS = {"examples": _example_points, "entity_words": _word_points}


def compute(
    model: Any, run: Run, subset: str, progress: Progress = None, should_stop: StopCheck = None
) -> None:
    """Background task: the map's points and their embeddings after (and before) fine-tuning, saved."""
    frame = examples(run, subset)
    if frame is None or frame.empty:
        raise ValueError(f"This run has no {model.adapter.units()} to embed.")
    points, after, before = POINTS[model.adapter.map_points](model, run, frame, progress, should_stop)
    if should_stop and should_stop():
        return
    _save(run.folder.embedding_files(subset), points, after, before)


def load(run_path: str | Path, subset: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray | None, str | None]:
    """(examples, after (N, H), before (N, H) or None, why before is missing)."""
    f = RunFolder(run_path).embedding_files(subset)
    frame = pd.read_csv(f["frame"], keep_default_na=False)
    before = np.load(f["before"]) if f["before"].exists() else None
    error = f["before_error"].read_text(encoding="utf-8") if f["before_error"].exists() else None
    return frame, np.load(f["after"]), before, error


def projected(embeddings: np.ndarray, method: str, run_path: str | Path) -> np.ndarray:
    """(N, 2), cached by trainer.projection (memory and `<run>/projections`)."""
    from trainer.projection import project

    return project(embeddings, method, cache_dir=RunFolder(run_path).projections_dir)


def project_both(
    after: np.ndarray,
    before: np.ndarray | None,
    method: str,
    run_path: str,
    progress: Progress = None,
    should_stop: StopCheck = None,
) -> None:
    """Background task for the slow projections (t-SNE, UMAP); the results land in the caches."""
    total = 1 + (before is not None)
    if progress:
        progress(0, total)
    projected(after, method, run_path)
    if before is not None and not (should_stop and should_stop()):
        if progress:
            progress(1, total)
        projected(before, method, run_path)
    if progress:
        progress(total, total)


def has_projection(embeddings: np.ndarray, method: str, run_path: str | Path) -> bool:
    """Whether `projected` would answer from its disk cache."""
    from trainer.projection import cached_path

    return cached_path(embeddings, method, RunFolder(run_path).projections_dir).exists()
