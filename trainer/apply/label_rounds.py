"""Rounds of a labelling project (issue 32): train on the labels so far, measure the run on the held-out
labels, rank the unlabelled rows for the next round, and draw the learning curve with its forecast.

A round's run trains on the project's training labels (few-label way for text when labels are few,
`trainer.train.few_shot`; the ordinary fine-tune for entities, without early stopping, since its validation
rows are the held-out ones) and is tested on the held-out labels: rows drawn at random when the project
was made (`trainer.apply.label_project`), so the score is an unbiased estimate for the whole pile, whatever
the proposals chose. The curve's points are the rounds' held-out scores with their 95% intervals
(`trainer.evaluate.uncertainty`, as Evaluate shows them); the forecast is `trainer.evaluate.curve`'s.

The next proposals come from the latest measured run (`trainer.apply.propose`: uncertainty with diversity),
among at most POOL_SAMPLE unlabelled rows drawn at random, so a round on a large pile takes seconds, not
the time to score every row.
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from trainer.apply.label_project import Project
from trainer.apply.propose import propose
from trainer.config import TrainConfig
from trainer.data.checks import MIN_TRAIN_EXAMPLES
from trainer.data.errors import DataError
from trainer.evaluate import curve
from trainer.i18n import tr, trn

ROUND = 10  # labels between two rounds, as the page proposes them
POOL_SAMPLE = 2000  # unlabelled rows the run ranks each round, drawn at random
TARGETS = (0.8, 0.85, 0.9)  # scores the forecast says how many labels it takes to reach
RANKED = 200  # proposals kept per round (the page asks for them ten at a time)
FEW_HELD_OUT = 30  # below this many held-out rows, the curve's words say why its ranges are wide


def round_frame(project: Project) -> pd.DataFrame:
    """The labelled rows a round uses (text, label, split "train" or "test"): every one, except for text the
    training rows of a label with fewer than MIN_TRAIN_EXAMPLES of them (a model cannot learn a label from
    one row, and trainer.prepare refuses it) and the held-out rows of labels the model does not learn (it
    could never predict them)."""
    frame = project.labelled_frame()[["text", "label", "split"]]
    if project.settings.task != "text":
        return frame
    train = frame["split"] == "train"
    sizes = frame.loc[train, "label"].value_counts()
    learned = set(sizes.index[sizes >= MIN_TRAIN_EXAMPLES])
    return frame[frame["label"].isin(learned)].reset_index(drop=True)


def ready(project: Project) -> str | None:
    """Why the project cannot train yet (one sentence), or None."""
    frame = round_frame(project)
    train = frame[frame["split"] == "train"]
    if project.settings.task == "text" and train["label"].nunique() < 2:
        return tr("Label at least two rows of each of two different labels before training.")
    if len(train) < 2:
        return tr("Label at least two sentences before training.")
    if project.settings.task != "text" and not any(t.startswith("B-") for tags in train["label"]
                                                   for t in str(tags).split()):  # fmt: skip
        return tr("No name is tagged in the sentences labelled so far: tag the names in a few more sentences "
                  "before training.")  # fmt: skip
    if not (frame["split"] == "test").any():
        return tr("Label a few more rows first: some of the rows offered are kept aside to test the model.")
    return None


def round_file(project: Project, folder: Path | None = None) -> Path:
    """The labels a round uses (`round_frame`) as a CSV trainer.prepare reads (text, label, split), in
    `folder` (default: a new private temporary folder, the caller's to remove)."""
    folder = Path(folder or tempfile.mkdtemp(prefix="insight-round-"))
    path = folder / f"{project.store.path.stem}-labels.csv"
    round_frame(project).to_csv(path, index=False)
    return path


def round_config(project: Project, model: str = "default") -> TrainConfig:
    """How a round trains: few-label way when labels are few (text), no early stopping, no time budget
    beyond the quick one."""
    task = "text-classification" if project.settings.task == "text" else "token-classification"
    return TrainConfig(model=model, task=task, early_stopping_patience=0, val_fraction=0.0, test_fraction=0.0)


def round_data(project: Project, model: str = "default", tokenizer: Any = None) -> Any:
    """The PreparedData of a round (refused with one sentence when the project cannot train yet)."""
    from trainer.prepare import prepare

    if problem := ready(project):
        raise DataError(problem)
    config = round_config(project, model)
    with tempfile.TemporaryDirectory(prefix="insight-round-") as folder:  # the texts leave no copy behind
        return prepare(round_file(project, Path(folder)), task=config.task, split_column="split",
                       tokenizer=tokenizer, val_fraction=0.0, test_fraction=0.0)  # fmt: skip


def point_of(run: Any, labels: int) -> curve.Point | None:
    """A finished round's point: its held-out headline score with the 95% interval Evaluate shows, widened
    to at least the Wilson interval of a share measured on that many rows."""
    from trainer.evaluate.uncertainty import LEVEL, run_intervals
    from trainer.inspect.slices import wilson

    scores = (run.metrics or {}).get("test") or {}
    metric = run.adapter.best_metric
    if metric not in scores:
        return None
    score, n = float(scores[metric]), int(scores.get("n", 0))
    low, high = run_intervals(run).get(metric) or (score, score)
    if n:  # a bootstrap over a handful of held-out rows can collapse to one value: at least Wilson's width
        errors_low, errors_high = wilson(n - round(score * n), n)
        low, high = min(low, 1 - errors_high), max(high, 1 - errors_low)
    return curve.Point(labels, score, float(low), float(high), n, LEVEL)


def measure_round(project: Project, run_dir: Path, labels: int, seed: int = 0) -> dict:
    """After a round's run finished: its point, and the pool rows it proposes next (stored in the round)."""
    from trainer.runs import load_run
    from trainer.runs.predictor import RunModel

    run = load_run(run_dir)
    point = point_of(run, labels)
    before = [p for p in points(project)[0] if p.labels < labels]
    middle, low, high = curve.predict(before, labels)  # NaNs before three rounds: nothing was forecast
    pool = project.pool()
    sample = random.Random(seed + labels).sample(pool, min(POOL_SAMPLE, len(pool)))
    ranked: list[int] = []
    if sample:
        found = propose(RunModel.load(run.path), [body for _, body in sample], min(RANKED, len(sample)))
        ranked = [sample[p.row][0] for p in found]
    found_at = {"point": None if point is None else curve.as_dict([point], [])["points"][0],
                "metric": run.adapter.headline_name, "ranked": ranked,
                "forecast_then": None if middle != middle else [middle, low, high]}  # fmt: skip
    project.add_round(Path(run_dir).name, labels, found_at, finished=run.info.finished or time.time())
    return found_at


def points(project: Project) -> tuple[list[curve.Point], str | None]:
    """The measured rounds' points (one per label count: the latest run) and the score they measure."""
    by_labels: dict[int, curve.Point] = {}
    metric = None
    for item in project.rounds():
        found = (item.get("points") or {}).get("point")
        if found:
            metric = item["points"].get("metric", metric)
            by_labels[int(item["labels"])] = curve.Point(int(item["labels"]), found["score"], found["ci_low"],
                                                         found["ci_high"], int(found.get("heldout", 0)),
                                                         float(found.get("level", 0.95)))  # fmt: skip
    return [by_labels[k] for k in sorted(by_labels)], metric


def ranked(project: Project) -> list[int]:
    """The latest measured round's proposals still in the pool (not labelled since), best first, each once
    (empty before the first round)."""
    for item in reversed(project.rounds()):
        if (item.get("points") or {}).get("ranked"):
            pool = {row for row, _ in project.pool()}
            return [row for row in dict.fromkeys(int(r) for r in item["points"]["ranked"]) if row in pool]
    return []


def forecasts_checked(project: Project) -> list[str]:
    """Each forecast the curve made of a round's score before that round, against what the round scored:
    the sentences, then how many held (the intervals are 80%: about one in five may miss)."""
    said, held, made = [], 0, 0
    for item in project.rounds():
        found = item.get("points") or {}
        if not found.get("forecast_then") or not found.get("point"):
            continue
        middle, low, high = found["forecast_then"]
        score = found["point"]["score"]
        inside = low <= score <= high
        made, held = made + 1, held + inside
        said.append(tr("With {n} labels the curve had forecast {middle} (between {low} and {high}); the model "
                       "scored {score}: {verdict}.", n=item["labels"], middle=f"{middle:.2f}", low=f"{low:.2f}",
                       high=f"{high:.2f}", score=f"{score:.2f}",
                       verdict=tr("inside the range") if inside else tr("outside the range")))  # fmt: skip
    if made:
        said.append(trn("{held} of {made} forecast held so far; an 80% range misses about one time in five.",
                        "{held} of {made} forecasts held so far; an 80% range misses about one time in five.",
                        made, held=held, made=made))  # fmt: skip
    return said


def learning_curve(project: Project, targets: tuple[float, ...] = TARGETS) -> tuple[dict, list[str]]:
    """({"points", "forecast"} as `python -m trainer curve --json` prints it, the same in words)."""
    found, metric = points(project)
    forecasts = curve.forecast(found, list(targets)) if curve.enough(found) else []  # else `said` says why
    said = curve.said(found, forecasts, tr(metric or "macro-F1"))
    if found and found[-1].heldout < FEW_HELD_OUT:
        said.append(trn("The ranges are wide because only {n} labelled row is kept aside to test on; they narrow "
                        "as you label more.", "The ranges are wide because only {n} labelled rows are kept aside "
                        "to test on; they narrow as you label more.", found[-1].heldout))  # fmt: skip
    return curve.as_dict(found, forecasts), said
