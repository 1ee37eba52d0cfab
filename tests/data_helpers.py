"""Small labeled tables and CoNLL text for the trainer.data tests (importable as `data_helpers`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from trainer.data import DataError

LABELS = ("positive", "negative", "neutral")


def labeled_rows(per_label: dict[str, int], prefix: str = "item") -> list[dict[str, str]]:
    """Distinct texts, `per_label[label]` of each label, interleaved."""
    rows, i = [], 0
    remaining = dict(per_label)
    while any(remaining.values()):
        for label in per_label:
            if remaining[label]:
                rows.append({"text": f"{prefix} {i} is {label}", "label": label})
                remaining[label] -= 1
                i += 1
    return rows


def write_csv(path: Path, rows: list[dict], **kwargs) -> Path:
    pd.DataFrame(rows).to_csv(path, index=False, **kwargs)
    return path


def balanced(tmp_path: Path, n: int = 30, name: str = "data.csv") -> Path:
    return write_csv(tmp_path / name, labeled_rows(dict.fromkeys(LABELS, n)))


def error_of(fn, *args, **kwargs) -> str:
    with pytest.raises(DataError) as info:
        fn(*args, **kwargs)
    return str(info.value)


def people_conll(n: int = 30) -> str:
    return "".join(f"Mary{i} B-PER\nSmith I-PER\nvisited O\nParis B-LOC\n\n" for i in range(n))
