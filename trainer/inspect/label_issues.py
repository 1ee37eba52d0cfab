"""Likely label mistakes over every row of a run, found by cleanlab on out-of-sample probabilities.

The probabilities must come from a model that did not train on the example: a model scored on its own
training data agrees with every label it memorised. So every row gets K-fold cross-validated
probabilities from a logistic regression on the fine-tuned model's embeddings (each row is predicted by
a regression fitted on the other folds): minutes on a CPU even at 50,000 rows, once the embeddings are
there (they are computed once and shared with the embedding map). cleanlab's `find_label_issues`
(confident learning) then flags the rows, and `get_label_quality_scores` ranks them: lower = more
suspicious. Entity runs do the same per word, through `cleanlab.token_classification`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from trainer.i18n import tr

RANKINGS = ("self_confidence", "normalized_margin")
FOLDS = 5
ISSUE_COLUMNS = ["row", "split", "index", "text", "given", "suggested", "score"]
Progress = Callable[[int, int], None] | None


@dataclass
class LabelIssue:
    """One example (or one word of a sentence) whose given label looks wrong."""

    index: int  # position in the arrays given (token task: the sentence)
    given: str
    suggested: str
    given_prob: float
    suggested_prob: float
    score: float  # label quality in [0, 1]: lower = more suspicious
    word: int | None = None  # token task: the word

    def to_dict(self) -> dict:
        return asdict(self)


def out_of_fold_probabilities(vectors: np.ndarray, labels: np.ndarray, n_classes: int, folds: int = FOLDS,
                              seed: int = 0) -> np.ndarray:  # fmt: skip
    """(N, C) probabilities, each row from a logistic regression fitted on the other folds' rows."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import KFold, StratifiedKFold
    from sklearn.preprocessing import StandardScaler

    x = StandardScaler().fit_transform(np.asarray(vectors, dtype=np.float32))
    y = np.asarray(labels)
    smallest = np.bincount(y, minlength=n_classes)[np.unique(y)].min()
    folds = max(2, min(folds, len(y)))
    split = (
        StratifiedKFold(folds, shuffle=True, random_state=seed)
        if smallest >= folds
        else KFold(folds, shuffle=True, random_state=seed)
    )
    out = np.full((len(y), n_classes), 1e-6)
    for train, held in split.split(x, y):
        classes = np.unique(y[train])
        if len(classes) == 1:  # a fold with one class left: it predicts that class
            out[held, classes[0]] = 1.0
            continue
        model = LogisticRegression(max_iter=300, C=1.0).fit(x[train], y[train])
        out[np.ix_(held, model.classes_)] = model.predict_proba(x[held])
    return out / out.sum(1, keepdims=True)


def _given(
    labels: Sequence[str], probabilities: np.ndarray, class_names: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    probs = np.asarray(probabilities, dtype=np.float64)
    names = list(class_names)
    if probs.ndim != 2 or probs.shape != (len(labels), len(names)):
        raise ValueError(f"probabilities must have shape ({len(labels)}, {len(names)}), got {probs.shape}")
    unknown = sorted(set(labels) - set(names))
    if unknown:
        raise ValueError(tr("Labels not among the classes: {labels}", labels=", ".join(map(str, unknown))))
    return np.array([names.index(label) for label in labels], dtype=int), probs


def _suggested(probs: np.ndarray, given: np.ndarray) -> np.ndarray:
    others = probs.copy()
    others[np.arange(len(given)), given] = -np.inf
    return others.argmax(1)


def label_quality(
    given: np.ndarray, probabilities: np.ndarray, ranking: str = "self_confidence"
) -> np.ndarray:
    """(N,) cleanlab label quality per example (given as class ids): lower = more likely mislabelled."""
    from cleanlab.rank import get_label_quality_scores

    if ranking not in RANKINGS:
        raise ValueError(f"ranking must be one of {', '.join(RANKINGS)}, not {ranking!r}")
    return get_label_quality_scores(
        np.asarray(given), np.asarray(probabilities, dtype=np.float64), method=ranking
    )


def find_label_issues(
    labels: Sequence[str],
    probabilities: np.ndarray,
    class_names: Sequence[str],
    ranking: str = "self_confidence",
) -> list[LabelIssue]:
    """Examples whose given label is probably wrong (cleanlab), most suspicious first."""
    from cleanlab.filter import find_label_issues as cleanlab_issues

    if ranking not in RANKINGS:
        raise ValueError(f"ranking must be one of {', '.join(RANKINGS)}, not {ranking!r}")
    given, probs = _given(labels, probabilities, class_names)
    if len(given) == 0:
        return []
    present = np.unique(given)
    if len(present) < 2:
        return []
    flagged = cleanlab_issues(given, probs, return_indices_ranked_by=ranking)
    quality = label_quality(given, probs, ranking)
    suggested = _suggested(probs, given)
    names = list(class_names)
    issues = [
        LabelIssue(
            int(i),
            names[given[i]],
            names[suggested[i]],
            float(probs[i, given[i]]),
            float(probs[i, suggested[i]]),
            float(quality[i]),
        )  # fmt: skip
        for i in flagged
    ]
    issues.sort(key=lambda issue: (issue.score, issue.index))
    return issues


def find_token_issues(
    tags: Sequence[Sequence[str]], probabilities: Sequence[np.ndarray], class_names: Sequence[str]
) -> list[LabelIssue]:
    """Words whose given tag is probably wrong (cleanlab.token_classification), most suspicious first."""
    from cleanlab.token_classification.filter import find_label_issues as cleanlab_token_issues
    from cleanlab.token_classification.rank import get_label_quality_scores

    names = list(class_names)
    labels = [np.array([names.index(t) for t in sentence], dtype=int) for sentence in tags]
    probs = [np.asarray(p, dtype=np.float64) for p in probabilities]
    keep = [i for i, sentence in enumerate(labels) if len(sentence)]
    if not keep or len(np.unique(np.concatenate([labels[i] for i in keep]))) < 2:
        return []
    flagged = cleanlab_token_issues([labels[i] for i in keep], [probs[i] for i in keep])
    _, token_scores = get_label_quality_scores([labels[i] for i in keep], [probs[i] for i in keep])
    issues = []
    for sentence, word in flagged:
        s = keep[sentence]
        given = labels[s][word]
        suggested = int(np.argsort(probs[s][word])[::-1][0 if probs[s][word].argmax() != given else 1])
        score = float(np.asarray(token_scores[sentence])[word])
        issues.append(LabelIssue(s, names[given], names[suggested], float(probs[s][word][given]),
                                 float(probs[s][word][suggested]), score, int(word)))  # fmt: skip
    issues.sort(key=lambda issue: (issue.score, issue.index, issue.word))
    return issues


# ---------------------------------------------------------------- a whole run


def run_issues(
    model: Any, run: Any, progress: Progress = None, should_stop: Callable[[], bool] | None = None
) -> pd.DataFrame:
    """Background job: likely label issues over every split of a run, saved in its folder.

    Returns (and writes) one row per issue: row (in the uploaded file, 0-based, header excluded), split,
    index (in its split), text, given, suggested, score (lower = more suspicious), most suspicious first.
    """
    from trainer.runs.trust import ensure_finetuned

    started = time.time()
    folder, task = run.folder, run.adapter
    ensure_finetuned(model, run, progress=progress, should_stop=should_stop)
    frames, vectors = [], []
    for split in ("train", "validation", "test"):
        part = run.split(split)
        if part is None or part.empty:
            continue
        stored = folder.read_array(folder.vector_file("finetuned", split))
        frame = part.rename(columns={"tokens": "text", "tags": "label"})
        frame = frame.assign(split=split, index=np.arange(len(part)), row=part.get("row", -1))
        frames.append(frame)
        vectors.append(stored)
    if not frames:
        raise ValueError(tr("This run has no data to look for label issues in."))
    frame = pd.concat(frames, ignore_index=True)
    labels = run.labels
    # A data shape: cleanlab takes one probability vector per text, or one per word of each sentence
    # (cleanlab.token_classification); this floor sits above the adapters, which cannot call it.
    if task.inputs_are_words:
        issues = _word_issues(frame, np.concatenate(vectors), labels)
    else:
        given = np.array([labels.index(g) if g in labels else -1 for g in frame["label"].astype(str)])
        known = given >= 0
        probs = np.zeros((len(frame), len(labels)))
        probs[known] = out_of_fold_probabilities(np.concatenate(vectors)[known], given[known], len(labels))
        found = find_label_issues(list(frame["label"].astype(str)[known]), probs[known], labels)
        index = np.flatnonzero(known)
        issues = _rows(frame, [(int(index[i.index]), i) for i in found])
    folder.write_issues(issues, {"rows": len(frame), "folds": FOLDS, "seconds": round(time.time() - started, 1),
                                 "method": "cleanlab on 5-fold logistic regression over the fine-tuned embeddings"})  # fmt: skip
    return issues


def _rows(frame: pd.DataFrame, issues: list[tuple[int, LabelIssue]]) -> pd.DataFrame:
    records = []
    for position, issue in issues:
        item = frame.iloc[position]
        text = str(item["text"])
        word = text.split()[issue.word] if issue.word is not None and issue.word < len(text.split()) else None
        records.append({"row": int(item["row"]), "split": item["split"], "index": int(item["index"]), "text": text,
                        "given": issue.given, "suggested": issue.suggested, "score": round(issue.score, 6),
                        "word": issue.word, "word_text": word})  # fmt: skip
    return pd.DataFrame(records, columns=[*ISSUE_COLUMNS, "word", "word_text"])


def _word_issues(frame: pd.DataFrame, vectors: np.ndarray, labels: list[str]) -> pd.DataFrame:
    tags = [str(t).split() for t in frame["label"]]
    flat = np.array([labels.index(t) if t in labels else 0 for sentence in tags for t in sentence])
    probs = out_of_fold_probabilities(vectors[: len(flat)], flat, len(labels))
    bounds = np.cumsum([0] + [len(t) for t in tags])
    per_sentence = [probs[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    known = [[t if t in labels else labels[0] for t in sentence] for sentence in tags]
    return _rows(frame, [(i.index, i) for i in find_token_issues(known, per_sentence, labels)])
