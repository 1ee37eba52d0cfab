"""When a run's answer on new text can be trusted: the one reader and writer of `<run>/trust.npz`.

A text is untrusted when the model's confidence is below the 5th percentile of its confidence on its own
validation split, or when its embedding is farther from everything it was trained on (the nearest of up to
256 k-means centres of the training split's embeddings) than 99% of the validation texts are. The
thresholds are computed once from the vectors and probabilities the run keeps (`ensure_finetuned`) and
saved; Apply, Monitors and the HTTP service all read them here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from trainer.runs.folder import SPLITS, RunFolder

if TYPE_CHECKING:  # types only
    from trainer.runs.listing import Run

CONFIDENCE_QUANTILE = 0.05  # untrusted below this quantile of the validation split's confidence
DISTANCE_QUANTILE = 0.99  # untrusted beyond this quantile of the validation split's distance to training
Progress = Callable[[int, int], None] | None
StopCheck = Callable[[], bool] | None


@dataclass
class Trust:
    """The thresholds that make a text untrusted, from the run's own validation split."""

    confidence: float
    distance: float
    expected_untrusted: float  # share of validation texts the rule flags
    centres: np.ndarray  # (k, H) unit vectors: k-means centres of the training split's embeddings
    unknown_share: float | None = None  # share of the training texts' word pieces the vocabulary lacks
    validation_confidence: np.ndarray | None = None  # the validation texts' confidences the cut came from

    def untrusted(self, confidence: np.ndarray, vectors: np.ndarray) -> np.ndarray:
        return (confidence < self.confidence) | (distances(vectors, self.centres) > self.distance)


def distances(vectors: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """1 - cosine similarity to the nearest centre, per row."""
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    return 1.0 - (unit @ centres.T).max(axis=1)


def read(folder: RunFolder) -> Trust | None:
    """The saved thresholds of a run, or None before they were computed."""
    if not folder.trust_file.exists():
        return None
    data = np.load(folder.trust_file)
    unknown = float(data["unknown"]) if "unknown" in data else None
    validation = data.get("validation_confidence")
    return Trust(float(data["confidence"]), float(data["distance"]), float(data["expected"]), data["centres"],
                 unknown if unknown is None or unknown >= 0 else None, validation)  # fmt: skip


def reference(run: Run) -> tuple[np.ndarray, float]:
    """(the validation texts' confidences, the confidence cut) a run's new texts are compared with: the saved
    thresholds, else the kept validation probabilities (empty when the run has none)."""
    saved = read(run.folder)
    if saved is not None and saved.validation_confidence is not None:
        return np.asarray(saved.validation_confidence), saved.confidence
    folder = run.folder
    probs = folder.read_array(folder.probs_file("validation"))
    _, probs = run.adapter.stored_per_input(None, probs, folder.load_split("validation"))
    validation = np.asarray(probs).max(1) if probs is not None else np.array([])
    return validation, float(np.quantile(validation, CONFIDENCE_QUANTILE)) if len(validation) else 0.0


def calibrate(model: Any, run: Run, progress: Progress = None) -> Trust:
    """The trust thresholds of a run (computed once, kept as trust.npz in its folder)."""
    from sklearn.cluster import MiniBatchKMeans

    folder = run.folder
    saved = read(folder)
    if saved is not None:
        return saved
    ensure_finetuned(model, run, ("train", "validation"), progress=progress)
    task = model.adapter
    per_split = {}
    for split in ("train", "validation"):
        vectors = folder.read_array(folder.vector_file("finetuned", split))
        probs = folder.read_array(folder.probs_file(split))
        per_split[split] = task.stored_per_input(vectors, probs, folder.load_split(split))
    train_vectors, _ = per_split["train"]
    val_vectors, val_probs = per_split["validation"]
    if val_vectors is None or not len(val_vectors):  # no validation split: judge by the training split
        val_vectors, val_probs = per_split["train"]
    unit = train_vectors / np.maximum(np.linalg.norm(train_vectors, axis=1, keepdims=True), 1e-9)
    k = int(min(256, max(1, len(unit) // 20)))
    centres = MiniBatchKMeans(n_clusters=k, random_state=0, n_init=3).fit(unit).cluster_centers_
    centres = centres / np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-9)
    val_conf = val_probs.max(1)
    val_dist = distances(val_vectors, centres)
    trust = Trust(float(np.quantile(val_conf, CONFIDENCE_QUANTILE)), float(np.quantile(val_dist, DISTANCE_QUANTILE)),
                  0.0, centres, validation_confidence=val_conf)  # fmt: skip
    trust.expected_untrusted = float(trust.untrusted(val_conf, val_vectors).mean())
    trust.unknown_share = unknown_share(model, task.inputs(folder.load_split("train"))[:5000])
    np.savez(folder.trust_file, confidence=trust.confidence, distance=trust.distance,
             expected=trust.expected_untrusted, centres=centres, validation_confidence=val_conf,
             unknown=-1.0 if trust.unknown_share is None else trust.unknown_share)  # fmt: skip
    return trust


def ensure_finetuned(model: Any, run: Run, splits: tuple[str, ...] = SPLITS, progress: Progress = None,
                     should_stop: StopCheck = None) -> None:  # fmt: skip
    """Store the fine-tuned model's vectors and probabilities of every split that lacks them (the trust
    thresholds, the embedding map and the label issues read them).

    Two jobs that need them at once (the map and the label issues) take turns: the second finds them done.
    """
    from trainer.files import locks
    from trainer.model.inference import stack

    folder = run.folder
    folder.vectors_dir.mkdir(exist_ok=True)
    with locks.locked(folder.vectors_lock):
        todo = [s for s in splits if not folder.vector_file("finetuned", s).exists()]
        inputs = {s: model.adapter.inputs(folder.load_split(s)) for s in todo}
        total, done = sum(len(v) for v in inputs.values()), 0
        for split in todo:
            if should_stop and should_stop() or not inputs[split]:
                continue
            step = (lambda d, _t, base=done: progress(base + d, total)) if progress else None
            preds, vectors = model.outputs(inputs[split], progress=step)
            folder.write_array(folder.probs_file(split), stack(preds.probabilities))
            folder.write_array(folder.vector_file("finetuned", split), stack(vectors))
            done += len(inputs[split])


def unknown_counts(model: Any, inputs: list) -> tuple[int, int]:
    """(unknown word pieces, word pieces) of the inputs under the model's tokenizer."""
    if not inputs:
        return 0, 0
    words = bool(inputs) and isinstance(inputs[0], list)
    ids = model.tokenizer(inputs, add_special_tokens=False, is_split_into_words=words)["input_ids"]
    return sum(x.count(model.tokenizer.unk_token_id) for x in ids), sum(len(x) for x in ids)


def unknown_share(model: Any, inputs: list) -> float | None:
    unknown, pieces = unknown_counts(model, inputs)
    return unknown / pieces if pieces else None
