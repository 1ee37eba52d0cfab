"""One scoring of new text with a run, in `<run>/scores/<name>/`: every path in it, and its records.

`Scoring` names each file of a scoring (spec, parts, per-process states, the joined scored.csv, the
results) the way `RunFolder` names a run's; `trainer.apply` computes, this module only keeps. Temp files
carry the writer's pid, so two writers of one scoring never swap each other's half-written files.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from trainer.files.atomic import read_json, temp_beside, write_json
from trainer.runs.folder import RunFolder
from trainer.runs.records import Record

CHUNK_ROWS = 2000


@dataclass
class Spec:
    """What to score and how: saved as spec.json in the scoring's folder."""

    source: str  # the file (uploads are saved with the run's scorings first)
    text_column: str | None = None
    time_column: str | None = None
    group_column: str | None = None
    bucket: str = "auto"  # day | week | month | auto
    chunk_rows: int = CHUNK_ROWS
    owner: str | None = None  # who started it (trainer.access); None: the run's owner
    variant: str | None = (
        None  # a compressed variant of the run's model (trainer.runs.variants); None: the model
    )


@dataclass
class ScoringState(Record):
    """One process's progress through a scoring (state-<rank>.json): what it has scored and tallied."""

    chunks: list[int] = field(default_factory=list)  # indices of the chunks written as part files
    tallies: dict[str, Any] | None = None  # trainer.apply.score.Tallies.to_json(), None before any chunk
    rows: int = 0  # rows read so far (scored or skipped for another process)
    written: dict[str, float] = field(default_factory=dict)  # chunk index -> when its part was written
    extra: dict[str, Any] = field(default_factory=dict)


class Scoring:
    """One scoring of a file with a run: its spec, progress and results."""

    def __init__(self, run_dir: str | Path, name: str):
        self.run = RunFolder(run_dir)
        self.name = name
        self.path = self.run.scoring_dir(name)

    spec_file = property(lambda self: self.path / "spec.json")
    parts_dir = property(lambda self: self.path / "parts")
    scored_file = property(lambda self: self.path / "scored.csv")
    results_file = property(lambda self: self.path / "results.json")

    def state_file(self, rank: int = 0) -> Path:
        return self.path / f"state-{rank}.json"

    def part_file(self, index: int) -> Path:
        return self.parts_dir / f"part-{index:06d}.csv"

    def part_files(self) -> list[Path]:
        """The chunks scored so far, in file order."""
        return sorted(self.parts_dir.glob("part-*.csv"))

    def part_temp(self, index: int) -> Path:
        return temp_beside(self.part_file(index))

    def write_part(self, index: int, text: str) -> None:
        """A chunk's scored rows (CSV text), written whole or not at all."""
        tmp = self.part_temp(index)
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, self.part_file(index))

    def scored_temp(self) -> Path:
        return temp_beside(self.scored_file)

    def spec(self) -> Spec:
        return Spec(**read_json(self.spec_file, {}))

    def write_spec(self, spec: Spec) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        values = asdict(spec)
        if values["variant"] is None:  # the spec of a scoring by the model itself, as before variants existed
            del values["variant"]
        write_json(self.spec_file, values)

    def state(self, rank: int = 0) -> ScoringState:
        return ScoringState.read(self.state_file(rank))

    def write_state(self, state: ScoringState, rank: int = 0) -> None:
        state.write(self.state_file(rank))

    def rows_done(self) -> int:
        """Rows read by every process of this scoring so far."""
        return sum(ScoringState.read(f).rows for f in self.path.glob("state-*.json"))

    def results(self) -> dict:
        """Trends, alerts, drift and the rows to label, once the job has finished."""
        return read_json(self.results_file, {}) or {}

    def write_results(self, results: dict) -> None:
        write_json(self.results_file, results)

    def scored(self) -> pd.DataFrame | None:
        return (
            pd.read_csv(self.scored_file, dtype=str, keep_default_na=False)
            if self.scored_file.exists()
            else None
        )


def scoring_name(source: Path, spec: dict) -> str:
    """A name that is the same for the same file (path, size, time) and settings: a rerun resumes it."""
    stat = source.stat()
    if spec.get("variant") is None:  # scorings named before variants existed keep their names
        spec = {k: v for k, v in spec.items() if k != "variant"}
    key = json.dumps([str(source.resolve()), stat.st_size, stat.st_mtime_ns, spec], sort_keys=True)
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in source.stem[:40])
    return f"{stem}-{hashlib.sha1(key.encode()).hexdigest()[:10]}"


def keep_file(run_dir: str | Path, name: str, raw: bytes) -> Path:
    """Save an uploaded file with the run's scorings (once per content), so a job can stream it."""
    folder = RunFolder(run_dir).uploads_dir
    folder.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in Path(name).name)[-80:] or "upload.csv"
    path = folder / f"{hashlib.sha1(raw).hexdigest()[:10]}-{safe}"
    if not path.exists():
        tmp = temp_beside(path)
        tmp.write_bytes(raw)
        os.replace(tmp, path)
    return path


def scorings(run_dir: str | Path) -> list[Scoring]:
    """Every scoring of a run, newest first."""
    root = RunFolder(run_dir).scores_dir
    found = [Scoring(run_dir, p.name) for p in root.iterdir()] if root.is_dir() else []
    # a link to a folder elsewhere is not one of the run's scorings (symbolic links resolved)
    found = [s for s in found if s.spec_file.exists() and s.path.resolve().is_relative_to(root.resolve())]
    found.sort(key=lambda s: s.spec_file.stat().st_mtime, reverse=True)
    return found
