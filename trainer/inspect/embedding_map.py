"""The embedding map's data: each example's vector before and after fine-tuning, computed once.

Text task, one dot per example. The fine-tuned model's vectors and probabilities of validation and test
come out of fine-tuning's own evaluation pass (trainer.train.fit); what is missing is computed by one
background job (`compute_map`), in three stages so that something is there to look at within seconds:

1. a stratified sample of up to SAMPLE examples that already have fine-tuned vectors gets the pretrained
   backbone's vectors: the first map (before and after) is drawn from it;
2. the fine-tuned vectors (and probabilities) of the remaining splits (training, for "all examples");
3. the backbone's vectors of every example: the full map replaces the sample.

Everything lands in the run folder (`RunFolder.vector_file`, float16) for every page to reuse (the label
issues use the same vectors). The pretrained backbone runs in bf16 on the CPU when that was checked safe
(trainer.model.bf16_check).

Token task, one dot per word that is part of a true or predicted entity (at most MAX_WORDS): computed in
one go and saved under `<run>/embeddings`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trainer.evaluate.metrics import entity_type
from trainer.runs import SPLITS, Run, RunFolder
from trainer.runs.trust import ensure_finetuned  # the run keeps these vectors; the map reads them

SUBSETS = ("test", "all")
SAMPLE = 3000  # dots of the first map
MAX_WORDS = 4000  # entity words on one map (token task): more would only hide each other
Progress = Callable[[int, int], None] | None
StopCheck = Callable[[], bool] | None


@dataclass
class MapData:
    """What a map shows: one row of `frame` per dot, its vectors after and (if known) before fine-tuning."""

    frame: pd.DataFrame  # text, gold, split, index (in its split), row (in its file), predicted, confidence
    after: np.ndarray  # (N, H)
    before: np.ndarray | None
    before_error: str | None
    stage: str  # "sample": the first map, "full": every example
    total: int  # examples in the subset


def splits_of(subset: str) -> tuple[str, ...]:
    return ("test",) if subset == "test" else SPLITS


# ---------------------------------------------------------------- the examples (text task)


def points(run: Run, subset: str) -> pd.DataFrame:
    """Every example of the subset: text, gold, split, index, row, and predicted/confidence where known."""
    parts = []
    for split in splits_of(subset):
        part = run.split(split)
        if part is None or part.empty:
            continue
        frame = pd.DataFrame(
            {"text": part["text"].astype(str), "gold": part["label"].astype(str), "split": split}
        )
        frame["index"] = np.arange(len(part))
        frame["row"] = part["row"].to_numpy() if "row" in part.columns else -1
        probs = run.folder.read_array(run.folder.probs_file(split))
        if probs is not None and len(probs) == len(part):
            frame["predicted"] = [run.labels[i] for i in probs.argmax(1)]
            frame["confidence"] = probs.max(1).round(4)
        parts.append(frame)
    columns = ["text", "gold", "split", "index", "row", "predicted", "confidence"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def sample_file(folder: RunFolder, subset: str) -> Path:
    return folder.map_sample_file(subset)


def choose_sample(
    frame: pd.DataFrame, available: set[str], size: int = SAMPLE, seed: int = 0
) -> pd.DataFrame:
    """Up to `size` examples from the splits in `available`, each label in its share (stratified)."""
    pool = frame[frame["split"].isin(available)]
    if len(pool) <= size:
        return pool
    rng = np.random.default_rng(seed)
    picked = []
    for _, group in pool.groupby("gold", sort=True):
        take = max(1, round(size * len(group) / len(pool)))
        picked.append(group.iloc[rng.choice(len(group), size=min(take, len(group)), replace=False)])
    return pd.concat(picked).sort_index().head(size)


def _vectors(folder: RunFolder, model: str, frame: pd.DataFrame) -> np.ndarray | None:
    """The stored vectors of `model` for the rows of `frame` (by split and index), or None if missing."""
    out = None
    for split, group in frame.groupby("split", sort=False):
        stored = folder.read_array(folder.vector_file(model, str(split)))
        if stored is None:
            return None
        if out is None:
            out = np.zeros((len(frame), stored.shape[1]), dtype=np.float32)
        out[frame.index.get_indexer(group.index)] = stored[group["index"].to_numpy()]
    return out


def missing(folder: RunFolder, model: str, subset: str, run: Run) -> list[str]:
    """Splits of the subset (with examples) whose `model` vectors are not stored yet."""
    return [
        s
        for s in splits_of(subset)
        if not folder.vector_file(model, s).exists() and (part := run.split(s)) is not None and not part.empty
    ]


def load_map(run: Run, subset: str) -> MapData | None:
    """The best map available now: every example, else the first map's sample, else None."""
    folder = run.folder
    frame = points(run, subset)
    if frame.empty:
        return None
    after = _vectors(folder, "finetuned", frame)
    before = _vectors(folder, "backbone", frame)
    if after is not None and before is not None:
        return MapData(frame, after, before, None, "full", len(frame))
    if not sample_file(folder, subset).exists():
        return None
    chosen = json.loads(sample_file(folder, subset).read_text())
    keys = set(zip(chosen["split"], chosen["index"], strict=True))
    sample = frame[[(s, i) in keys for s, i in zip(frame["split"], frame["index"], strict=True)]]
    sample_after = _vectors(folder, "finetuned", sample)
    sample_before = folder.read_array(folder.vector_file("backbone", f"sample-{subset}"))
    if sample_after is None or sample_before is None or len(sample_before) != len(sample):
        return None
    error = (folder.inference().get("backbone") or {}).get("error")
    return MapData(sample.reset_index(drop=True), sample_after, sample_before, error, "sample", len(frame))


def compute_map(
    model: Any, run: Run, subset: str, progress: Progress = None, should_stop: StopCheck = None
) -> None:
    """Background job: the first map's sample, then the fine-tuned and backbone vectors of every example."""
    from trainer.model.bf16_check import check_model
    from trainer.model.inference import stack
    from trainer.runs.predictor import backbone

    folder, task = run.folder, model.adapter
    frame = points(run, subset)
    if frame.empty:
        raise ValueError(f"This run has no {task.units()} to map.")
    todo_after = missing(folder, "finetuned", subset, run)
    todo_before = missing(folder, "backbone", subset, run)
    have_sample = sample_file(folder, subset).exists()
    sizes = frame.groupby("split").size()
    sample = choose_sample(frame, set(frame["split"]) - set(todo_after)) if not have_sample else None
    if sample is not None and sample.empty:  # no fine-tuned vectors yet (an older run): no first map
        sample = None
    total = (len(sample) if sample is not None else 0) + sum(int(sizes[s]) for s in todo_after + todo_before)
    done = [0]

    def step(done_here: int, _total: int) -> None:
        if progress:
            progress(min(total, done[0] + done_here), total)

    def finish(n: int) -> None:
        done[0] += n
        step(0, total)

    encoder = tokenizer = precision = None
    if sample is not None or todo_before:
        encoder, tokenizer = backbone(run.config.get("model") or "default")
        probe = (sample if sample is not None else frame)["text"].tolist()
        check = check_model(encoder, tokenizer, task, probe, model.max_length, classifier=False)
        precision = check.precision
        folder.write_inference("backbone", check.to_dict())
    if sample is not None:
        vectors = task.embed(
            encoder, tokenizer, sample["text"].tolist(), model.max_length, progress=step, precision=precision
        )
        folder.write_array(folder.vector_file("backbone", f"sample-{subset}"), stack(vectors))
        sample_file(folder, subset).write_text(json.dumps({"split": sample["split"].tolist(),
                                                           "index": [int(i) for i in sample["index"]]}))  # fmt: skip
        finish(len(sample))
    ensure_finetuned(model, run, splits_of(subset), progress=step, should_stop=should_stop)
    finish(sum(int(sizes[s]) for s in todo_after))
    for split in todo_before:
        if should_stop and should_stop():
            return
        texts = frame.loc[frame["split"] == split, "text"].tolist()
        vectors = task.embed(encoder, tokenizer, texts, model.max_length, progress=step, precision=precision)
        folder.write_array(folder.vector_file("backbone", split), stack(vectors))
        finish(len(texts))


def forget(run_path: str | Path, subset: str) -> None:
    """Delete the map's stored data (entity words; the examples' sample) so it is computed again."""
    folder = RunFolder(run_path)
    for file in folder.embedding_files(subset).values():
        file.unlink(missing_ok=True)
    sample_file(folder, subset).unlink(missing_ok=True)


# ---------------------------------------------------------------- entity words (token task)


def sentences(run: Run, subset: str) -> pd.DataFrame | None:
    """text (the sentence), gold (its tags), split, for the chosen subset."""
    preds = run.predictions()
    if subset == "test" and preds is not None:
        frame = preds[["tokens", "gold", "predicted", "confidence"]].rename(columns={"tokens": "text"})
        frame["split"] = "test"
        return frame.reset_index(drop=True)
    parts = []
    for split in SPLITS:
        part = run.split(split)
        if part is not None and not part.empty:
            parts.append(
                pd.DataFrame(
                    {"text": part["tokens"].astype(str), "gold": part["tags"].astype(str), "split": split}
                )
            )
    return pd.concat(parts, ignore_index=True) if parts else None


def entity_words(
    frame: pd.DataFrame, predicted: list[list[str]], confidence: list[list[float]]
) -> pd.DataFrame:
    """One row per word that is part of an entity, in the true or the predicted tags.

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


def compute_words(
    model: Any, run: Run, subset: str, progress: Progress = None, should_stop: StopCheck = None
) -> None:
    """Background job (token task): entity words and their vectors before and after fine-tuning."""
    from trainer.runs.predictor import backbone_embeddings

    frame = sentences(run, subset)
    if frame is None or frame.empty:
        raise ValueError("This run has no sentences to map.")
    tokens = [str(t).split() for t in frame["text"]]
    if progress:
        progress(0, 3)
    preds = model.predict(tokens)
    words = entity_words(frame, preds.tags, preds.confidence)
    if words.empty:
        raise ValueError("No word of these sentences is part of an entity, so there is nothing to map.")
    used = sorted(set(words["sentence_id"]))
    keep = {sid: k for k, sid in enumerate(used)}
    if progress:
        progress(1, 3)
    after_all = model.embed([tokens[s] for s in used])
    words = words.assign(sentence_id=[keep[s] for s in words["sentence_id"]])
    after = _pick(after_all, words, after_all[0].shape[1] if after_all else 1)
    if should_stop and should_stop():
        return
    if progress:
        progress(2, 3)
    f = run.folder.embedding_files(subset)
    f["after"].parent.mkdir(exist_ok=True)
    try:
        model_name = run.config.get("model") or "default"
        vectors = backbone_embeddings(model_name, model.task, [tokens[s] for s in used], model.max_length)
        np.save(f["before"], _pick(vectors, words, vectors[0].shape[1]))
        f["before_error"].unlink(missing_ok=True)
    except Exception as exc:  # noqa: BLE001 - the backbone only costs the 'before' map
        f["before_error"].write_text(str(exc) or type(exc).__name__, encoding="utf-8")
    np.save(f["after"], after)
    words.to_csv(f["frame"], index=False)
    if progress:
        progress(3, 3)


def load_words(run: Run, subset: str) -> MapData | None:
    """The entity-word map, when computed."""
    f = run.folder.embedding_files(subset)
    if not (f["after"].exists() and f["frame"].exists()):
        return None
    frame = pd.read_csv(f["frame"], keep_default_na=False)
    before = np.load(f["before"]) if f["before"].exists() else None
    error = f["before_error"].read_text(encoding="utf-8") if f["before_error"].exists() else None
    return MapData(frame, np.load(f["after"]), before, error, "full", len(frame))


JOBS = {"examples": compute_map, "entity_words": compute_words}
LOADERS = {"examples": load_map, "entity_words": load_words}


def compute(
    model: Any, run: Run, subset: str, progress: Progress = None, should_stop: StopCheck = None
) -> None:
    """The map's background job for the run's task (see the adapter's `map_points`)."""
    JOBS[model.adapter.map_points](model, run, subset, progress, should_stop)


def load(run: Run, subset: str) -> MapData | None:
    """The map to draw now, or None while it is being computed."""
    return LOADERS[run.adapter.map_points](run, subset)


# ---------------------------------------------------------------- 2-D maps


def projected(embeddings: np.ndarray, method: str, run_path: str | Path) -> np.ndarray:
    """(N, 2), cached by trainer.inspect.projection (memory and `<run>/projections`)."""
    from trainer.inspect.projection import project

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
    from trainer.inspect.projection import cached_path

    return cached_path(embeddings, method, RunFolder(run_path).projections_dir).exists()
