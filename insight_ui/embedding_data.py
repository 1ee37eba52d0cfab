"""Embeddings of a run's examples before and after fine-tuning, cached as .npy under the run folder.

Computed by a background task (TaskRegistry): the worker never touches Streamlit. Projections go
through trainer.projection.project, which caches in memory and under `<run>/projections`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from insight_ui import analysis, tasks
from trainer.runs import Run

SUBSETS = {"test": "Test split", "all": "All examples"}
MAX_WORDS = 4000  # entity words on one map (token task): more would only hide each other
METHODS = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}


def folder(run_path: str | Path) -> Path:
    return Path(run_path) / "embeddings"


def files(run_path: str | Path, subset: str) -> dict[str, Path]:
    base = folder(run_path)
    return {
        "after": base / f"{subset}-finetuned.npy",
        "before": base / f"{subset}-backbone.npy",
        "before_error": base / f"{subset}-backbone-error.txt",
        "frame": base / f"{subset}-examples.csv",
    }


def examples(run: Run, subset: str) -> pd.DataFrame | None:
    """text, gold, split (+ predicted, confidence when known) for the chosen subset."""
    preds = analysis.predictions(run)
    if subset == "test" and preds is not None:
        column = analysis.text_column(preds)
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
    for file in files(run_path, subset).values():
        file.unlink(missing_ok=True)


def ready(run_path: str | Path, subset: str) -> bool:
    f = files(run_path, subset)
    return f["after"].exists() and f["frame"].exists()


def _save(
    f: dict[str, Path], frame: pd.DataFrame, after: np.ndarray, before: Callable[[], np.ndarray]
) -> None:
    """Write a map's files. The backbone (`before`) may be unavailable: then say why in a file instead,
    since the 'after' view is still useful alone."""
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
    from trainer.metrics import entity_type

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


def compute_words(model: Any, run: Run, subset: str, progress: Any = None, should_stop: Any = None) -> None:
    """Token task: embeddings of entity words (first subword, last layer), before and after fine-tuning."""
    from trainer.attribution import model_lock
    from trainer.predict import backbone_word_embeddings

    frame = examples(run, subset)
    if frame is None or frame.empty:
        raise ValueError("This run has no sentences to embed.")
    sentences = [str(t).split() for t in frame["text"]]
    f = files(run.path, subset)
    f["after"].parent.mkdir(exist_ok=True)
    if progress:
        progress(0, 3)
    with model_lock(model.model):
        preds = model.predict_tags(sentences)
        words = entity_words(frame, preds.tags, preds.confidence)
        if words.empty:
            raise ValueError("No word of these sentences is part of an entity, so there is nothing to map.")
        used = sorted(set(words["sentence_id"]))
        keep = {sid: k for k, sid in enumerate(used)}
        if progress:
            progress(1, 3)
        after_all = model.embed_words([sentences[s] for s in used])
    words = words.assign(sentence_id=[keep[s] for s in words["sentence_id"]])
    after = _pick(after_all, words, after_all[0].shape[1] if after_all else 1)
    if should_stop and should_stop():
        return
    if progress:
        progress(2, 3)

    def before() -> np.ndarray:
        vectors = backbone_word_embeddings(
            run.config.get("model") or "default", [sentences[s] for s in used], model.max_length
        )
        return _pick(vectors, words, vectors[0].shape[1])

    _save(f, words, after, before)
    if progress:
        progress(3, 3)


def compute(model: Any, run: Run, subset: str, progress: Any = None, should_stop: Any = None) -> None:
    """Background task: embeddings after (and before) fine-tuning, and predictions, saved to disk."""
    from trainer.attribution import model_lock  # the Explain page may hook this model meanwhile
    from trainer.predict import backbone_embeddings

    if tasks.is_token(model.task):
        compute_words(model, run, subset, progress, should_stop)
        return
    frame = examples(run, subset)
    if frame is None or frame.empty:
        raise ValueError("This run has no examples to embed.")
    texts = frame["text"].astype(str).tolist()
    n = len(texts)
    f = files(run.path, subset)
    f["after"].parent.mkdir(exist_ok=True)

    def step(offset: int):
        return (lambda done, total: progress(offset + done, 2 * n)) if progress else None

    if progress:
        progress(0, 2 * n)
    with model_lock(model.model):
        after = model.embed(texts, progress=step(0))
        if "predicted" not in frame.columns:
            preds = model.predict(texts)
            frame["predicted"], frame["confidence"] = preds.labels, np.round(preds.confidence, 6)
    if should_stop and should_stop():
        return
    _save(
        f,
        frame,
        after,
        lambda: backbone_embeddings(
            run.config.get("model") or "default", texts, model.max_length, progress=step(n)
        ),
    )


def load(run_path: str | Path, subset: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray | None, str | None]:
    """(examples, after (N, H), before (N, H) or None, why before is missing)."""
    f = files(run_path, subset)
    frame = pd.read_csv(f["frame"], keep_default_na=False)
    before = np.load(f["before"]) if f["before"].exists() else None
    error = f["before_error"].read_text(encoding="utf-8") if f["before_error"].exists() else None
    return frame, np.load(f["after"]), before, error


def projected(embeddings: np.ndarray, method: str, run_path: str | Path) -> np.ndarray:
    """(N, 2), cached by trainer.projection (memory and `<run>/projections`)."""
    from trainer.projection import project

    return project(embeddings, method, cache_dir=Path(run_path) / "projections")


def project_both(
    after: np.ndarray,
    before: np.ndarray | None,
    method: str,
    run_path: str,
    progress: Any = None,
    should_stop: Any = None,
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
    from trainer.projection import cache_key

    key = cache_key(embeddings, method, 0, {})
    return (Path(run_path) / "projections" / f"{method}-{key}.npy").exists()
