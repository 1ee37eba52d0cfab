"""`--data FILE` for the weak slices and the behavioural tests (issue 31): a labelled file's other columns
become slices (column:NAME, with dates in bands), a file without the run's labels or a missing file is one
error line, and an entity run's behavioural tests run end to end from the command line."""

from __future__ import annotations

import json

import pandas as pd
from cli_kit import trainer_cli
from helpers import NEGATIVE, POSITIVE

from trainer.inspect.given_file import groups_of


def labelled_file(path, flipped_source: str = "shop"):
    """Reviews whose sentiment words decide the label; rows from `flipped_source` carry the wrong label."""
    rows = []
    for i in range(240):
        positive = i % 2 == 0
        words = POSITIVE if positive else NEGATIVE
        source = ["web", "app", "mail", flipped_source][i % 4]
        label = "positive" if positive else "negative"
        if source == flipped_source:
            label = "negative" if positive else "positive"
        rows.append({"text": f"{words[i % 8]} {words[(i + 3) % 8]} item number {i} {words[(i + 5) % 8]}",
                     "label": label, "source": source, "id": f"r{i:04d}",
                     "date": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}"})  # fmt: skip
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_a_files_other_columns_are_sliced_and_the_wrong_source_is_flagged(tiny_text_run, tmp_path):
    data = labelled_file(tmp_path / "reviews.csv")
    done = trainer_cli("slices", str(tiny_text_run), "--data", str(data), "--json", in_process=True)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["split"] == str(data)
    features = {s["feature"] for s in report["slices"]}
    assert {"column:source", "column:date"} <= features, features
    assert "column:id" not in features and "column:text" not in features, "an id or the texts are no groups"
    flagged = [(s["feature"], s["value"]) for s in report["slices"] if s["flagged"]]
    assert ("column:source", "shop") in flagged, report["slices"][:5]
    shop = next(s for s in report["slices"] if s["value"] == "shop")
    assert shop["n"] == 60 and shop["error_rate"] > report["overall_error_rate"]
    done = trainer_cli("slices", str(tiny_text_run), "--data", str(data), in_process=True)
    assert done.returncode == 0 and "column source “shop”" in done.stdout, done.stdout


def test_a_file_without_the_runs_labels_or_no_file_is_one_error_line(tiny_text_run, tmp_path):
    unlabelled = tmp_path / "new.csv"
    pd.DataFrame({"text": ["great item", "awful item"] * 10, "label": ["yes", "no"] * 10}).to_csv(unlabelled)
    for args in (["--data", str(unlabelled)], ["--data", str(tmp_path / "missing.csv")]):
        done = trainer_cli("slices", str(tiny_text_run), *args, in_process=True)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert done.stderr.strip().startswith("error:") and len(done.stderr.strip().splitlines()) == 1
    done = trainer_cli("robustness", str(tiny_text_run), "--data", str(unlabelled), "--families", "typos",
                       "--json", in_process=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    typos = json.loads(done.stdout)["tests"][0]
    assert typos["changed"] == 20, "behavioural tests need no labels: every text of the file is tried"


def test_dates_are_cut_into_four_bands_and_a_few_values_stay_as_they_are():
    dates = pd.Series([f"2026-{m:02d}-{d:02d}" for m in range(1, 13) for d in (1, 15)])
    bands = groups_of(dates, [f"t{i}" for i in range(24)], None)
    assert bands is not None and len(set(bands)) == 4
    assert bands[0].startswith("2026-01-01 – ") and bands[-1].endswith(" – 2026-12-15")
    assert groups_of(pd.Series(["a", "b"] * 12), [f"t{i}" for i in range(24)], None) == ["a", "b"] * 12
    assert groups_of(pd.Series([f"id{i}" for i in range(40)]), [f"t{i}" for i in range(40)], None) is None


def test_an_entity_runs_families_run_from_the_command_line(tiny_entity_run):
    done = trainer_cli("robustness", str(tiny_entity_run), "--json", in_process=True)
    assert done.returncode == 0, done.stderr
    tests = {t["name"]: t for t in json.loads(done.stdout)["tests"]}
    assert list(tests) == ["typos", "names", "places"]
    for name, test in tests.items():
        assert test["unit"] == "sentence" and 0 <= test["failed"] <= test["changed"], name
        assert test["ci_low"] <= test["fail_rate"] <= test["ci_high"]
    assert tests["typos"]["changed"] > 0, "every frame of the file has a long word outside its entities"
    done = trainer_cli("robustness", str(tiny_entity_run), "--families", "case", in_process=True)
    assert done.returncode == 2 and "typos, names, places" in done.stderr and "Traceback" not in done.stderr
