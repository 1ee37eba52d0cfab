"""`python -m trainer curve RUN [--json] [--target 0.85 ...]`: the learning curve (held-out score against the
number of labels) and how many more labels it takes to reach each target score.

A run trained by a round of a labelling project (`trainer.apply.label_rounds`) shows its project's curve:
one point per round, and the forecast once there are three rounds. Any other run is one point of a curve
(its test score, with the training rows as its labels): it can say no forecast yet.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from trainer.cli.common import EXIT_OK, CliError, ljust, rjust, runs_dir, text_width
from trainer.i18n import tr


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("curve", help=tr("the learning curve: how many more labels it takes to reach a score"))
    p.add_argument("run", help=tr("run folder (or run id under --runs-dir)"))
    p.add_argument(
        "--json", action="store_true", help=tr("print the points and the forecast as one JSON object")
    )
    p.add_argument("--target", type=float, nargs="+", default=None, metavar="SCORE",
                   help=tr("the scores to forecast the labels for (default 0.8 0.85 0.9)"))  # fmt: skip
    p.add_argument("--runs-dir", default=None)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from trainer.apply import label_rounds
    from trainer.runs import find_run, load_run

    targets = tuple(args.target or label_rounds.TARGETS)
    for target in targets:
        if not 0 < target < 1:
            raise CliError(tr("A target score is above 0 and below 1, not {value}.", value=target))
    folder = runs_dir(args.runs_dir)
    saved = load_run(find_run(args.run, folder, anywhere=True))
    if not saved.has_model:
        raise CliError(tr("{run} has no finished model yet (it may still be training, or have failed or been "
                          "cancelled): try again when it has finished.", run=saved.path.name))  # fmt: skip
    project = project_of(saved.path, folder)
    if project is not None:
        found, sentences = label_rounds.learning_curve(project, targets)
        _, metric = label_rounds.points(project)
    else:
        found, sentences = single_point(saved)
        metric = saved.adapter.headline_name
    if args.json:
        print(json.dumps(found, ensure_ascii=False))
        return EXIT_OK
    for sentence in sentences:
        print(sentence)
    if found["points"]:
        print()
        print_table(found["points"], tr(metric or saved.adapter.headline_name))
    return EXIT_OK


def project_of(run_dir: Path, folder: Path) -> Any:
    """The labelling project one of whose rounds trained this run (its runs folder's projects, or those of
    the folder the run lies in), or None."""
    from trainer.apply.label_project import Project, list_projects

    for where in dict.fromkeys([Path(folder), Path(run_dir).parent]):
        for settings in list_projects(where):
            project = Project(where, settings.name)
            if any(item["run"] == Path(run_dir).name for item in project.rounds()):
                return project
    return None


def single_point(saved: Any) -> tuple[dict, list[str]]:
    """A run of its own: one point (its test score; its training rows as the labels), and no forecast."""
    from trainer.apply import label_rounds
    from trainer.evaluate import curve

    labels = len(saved.folder.load_split("train")) or int(
        (saved.report.get("split_sizes") or {}).get("train") or 0
    )
    point = label_rounds.point_of(saved, labels) if labels else None
    if point is None:
        raise CliError(tr("{run} has no test score, so it gives no point of a learning curve: train it with a "
                          "test split.", run=saved.path.name))  # fmt: skip
    return curve.as_dict([point], []), curve.said([point], [], tr(saved.adapter.headline_name))


def print_table(points: list[dict], metric: str) -> None:
    """labels, score, its interval and the held-out rows it was measured on, one line per point."""
    heads = [tr("labels"), metric, tr("95% interval"), tr("held-out rows")]
    rows = [[f"{p['labels']:,}", f"{p['score']:.3f}", f"{p['ci_low']:.3f}-{p['ci_high']:.3f}", f"{p['heldout']:,}"]
            for p in points]  # fmt: skip
    widths = [max(text_width(row[k]) for row in [heads, *rows]) for k in range(len(heads))]
    print("  ".join(ljust(h, w) for h, w in zip(heads, widths, strict=True)))
    for row in rows:
        print("  ".join(rjust(cell, w) for cell, w in zip(row, widths, strict=True)))
