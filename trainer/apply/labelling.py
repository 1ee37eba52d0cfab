"""Back to training: the rows a scoring doubts most, out for labelling with the model's guess filled in,
and back in, added to the run's own data for a new run.

The download has `text` and `label` columns (for an entity run: `text` as its words separated by spaces
and `label` as one tag per word), so a person corrects `label` in a spreadsheet and uploads the file
again. Rows left with an empty label are not used. The combined dataset keeps every row of the run with
its split (`split` column: train / validation / test) and adds the new rows to train, so the new run is
tested on the same test split as the old one and the Compare page can pair their scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from trainer import i18n
from trainer.data import DataError, read_table
from trainer.i18n import N_, tr
from trainer.inspect.corrections import split_frames
from trainer.runs import Run

CHOICES = {  # shown translated (tr) where a page offers them
    "untrusted": N_("Untrusted first, then the least confident"),
    "uncertain": N_("The least confident"),
}
# What read_labeled says it took: by (rows left without a label, new labels or tags the model did not have).
TAKEN = {
    (False, None): N_("{rows} labeled rows."),
    (True, None): N_("{rows} labeled rows ({unlabeled} without a label were left out)."),
    (False, "labels"): N_("{rows} labeled rows; new labels the model did not have: {shown}."),
    (True, "labels"): N_(
        "{rows} labeled rows ({unlabeled} without a label were left out); new labels the model did not have: "
        "{shown}."
    ),
    (False, "tags"): N_("{rows} labeled rows; new tags the model did not have: {shown}."),
    (True, "tags"): N_(
        "{rows} labeled rows ({unlabeled} without a label were left out); new tags the model did not have: "
        "{shown}."
    ),
}


def rows_to_label(results: dict, choice: str = "untrusted", limit: int = 100) -> list[dict]:
    """The scoring's doubtful rows (kept while it streamed), in the order a person should label them."""
    rows = list(results.get("to_label") or [])
    if choice == "untrusted":
        rows.sort(key=lambda r: (bool(r.get("trusted")), r.get("confidence", 1.0)))
    else:
        rows.sort(key=lambda r: r.get("confidence", 1.0))
    return rows[: max(0, int(limit))]


def labelling_frame(rows: Sequence[dict], words: bool) -> pd.DataFrame:
    """The file to label: `label` pre-filled with the model's guess, and what the model said beside it."""
    frame = pd.DataFrame(
        {
            "row": [r.get("row") for r in rows],
            "text": [r.get("words", r.get("text", "")) if words else r.get("text", "") for r in rows],
            "label": [r.get("tags", "") if words else r.get("predicted", "") for r in rows],
            "model_guess": [r.get("predicted", "") for r in rows],
            "confidence": [r.get("confidence") for r in rows],
            "trusted": [r.get("trusted") for r in rows],
        }
    )
    for column in ("time", "group"):
        if any(column in r for r in rows):
            frame[column] = [r.get(column, "") for r in rows]
    return frame


def read_labeled(source: Any, words: bool, labels: Sequence[str]) -> tuple[pd.DataFrame, str]:
    """The labeled file (text, label) and a sentence on what was taken. Raises DataError."""
    frame = read_table(source)
    if words and {"tokens", "tags"} <= set(frame.columns):
        frame = frame.rename(columns={"tokens": "text", "tags": "label"})
    missing = [c for c in ("text", "label") if c not in frame.columns]
    if missing:
        found = ", ".join(map(str, frame.columns))
        if len(missing) == 1:
            raise DataError(
                tr(
                    "The labeled file needs the columns text and label (as downloaded); {column} is missing. "
                    "Columns found: {found}.",
                    column=missing[0],
                    found=found,
                )
            )
        raise DataError(
            tr(
                "The labeled file needs the columns text and label (as downloaded); text and label are missing. "
                "Columns found: {found}.",
                found=found,
            )
        )
    frame = frame[["text", "label"]].fillna("").astype(str)
    frame["text"], frame["label"] = frame["text"].str.strip(), frame["label"].str.strip()
    unlabeled = int((frame["label"] == "").sum())
    frame = frame[(frame["label"] != "") & (frame["text"] != "")]
    if words:
        counts = frame["text"].str.split().str.len() != frame["label"].str.split().str.len()
        if counts.any():
            raise DataError(
                tr(
                    '{n} labeled rows have a different number of tags than words (the first: "{first}"). Give one '
                    "tag per word, separated by spaces.",
                    n=int(counts.sum()),
                    first=frame.loc[counts, "text"].iloc[0][:80],
                )
            )
        seen = {tag for tags in frame["label"] for tag in tags.split()}
        new = sorted(seen - set(labels))
    else:
        new = sorted(set(frame["label"]) - set(labels))
    if frame.empty:
        raise DataError(tr("No row of the file has a label. Fill in the label column and upload it again."))
    shown = ", ".join(f'"{x[:30]}"' for x in new[:5]) + (" …" if len(new) > 5 else "")
    template = TAKEN[(bool(unlabeled), ("tags" if words else "labels") if new else None)]
    said = tr(template, rows=i18n.number(len(frame)), unlabeled=i18n.number(unlabeled), shown=shown)
    return frame.reset_index(drop=True), said


def _run_rows(run: Run) -> pd.DataFrame:
    parts = []
    for split, part in split_frames(run):
        for column in ("text", "label"):
            part[column] = [" ".join(map(str, v)) if isinstance(v, list) else str(v) for v in part[column]]
        parts.append(part.assign(split=split))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["text", "label", "split"])


def held_out_matches(run: Run, labeled: pd.DataFrame) -> list[str]:
    """Labeled texts that are already validation or test examples of the run: left out of training."""
    old = _run_rows(run)
    held_out = set(old.loc[old["split"] != "train", "text"])
    return [t for t in dict.fromkeys(labeled["text"]) if t in held_out]


def combined_dataset(run: Run, labeled: pd.DataFrame) -> pd.DataFrame:
    """Every row of the run with its split, then the labeled rows as training rows (text, label, split).

    A labeled text already in the run's training split takes its new label there (no duplicate). One
    that is a validation or test example is left as it was and not trained on, so the new run is
    measured on the same held-out examples as the old one (`held_out_matches` names them).
    """
    old = _run_rows(run)
    new_labels = dict(zip(labeled["text"], labeled["label"], strict=True))
    in_train = (old["split"] == "train") & old["text"].isin(new_labels)
    old.loc[in_train, "label"] = old.loc[in_train, "text"].map(new_labels)
    added = labeled[~labeled["text"].isin(set(old["text"]))].drop_duplicates("text", keep="last")
    return pd.concat([old, added[["text", "label"]].assign(split="train")], ignore_index=True)
