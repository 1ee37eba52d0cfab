"""Rounds of a labelling project (issue 32): a person labels a pile of reviews ten at a time, a model trains
on the labels so far and is tested on exactly the held-out labels, its proposals come first in the next
rows handed out, and after three rounds the learning curve forecasts how many more labels each target
score takes, in words and as `python -m trainer curve --json` prints it."""

from __future__ import annotations

import dataclasses
import json

import pandas as pd
import pytest
from cli_kit import trainer_cli
from conftest import train_tiny_config
from helpers import sentiment_csv

from trainer.apply import label_project, label_rounds
from trainer.data.errors import DataError
from trainer.i18n import tr
from trainer.runs import RunFolder, create_run
from trainer.train.fit import fit

LABELS = ["positive", "negative", "neutral"]
ROUNDS = (24, 48, 72)  # labels (training and held out) when each round trains
USER = "ana"
TOO_FEW = tr("Label at least two rows of each of two different labels before training.")
NONE_HELD_OUT = tr("Label a few more rows first: some of the rows offered are kept aside to test the model.")


def label_until(project, truth: dict[str, str], total: int, ranked=()) -> None:
    """The simulated person: asks for rows (the model's proposals first) and labels each by the truth."""
    while (left := total - project.counts()["labelled"]) > 0:
        rows = project.claim(USER, ranked, n=min(10, left))
        assert rows, "the pile is not used up"
        for row in rows:
            project.save(USER, row.id, truth[row.text])


def train_round(project, runs, model_dir, labels: int):
    """One round as the page runs it: the round's data and settings (a tiny model, a few steps), the run
    noted in the project when it starts, measured when it has finished."""
    data = label_rounds.round_data(project, model=str(model_dir))
    config = dataclasses.replace(label_rounds.round_config(project, str(model_dir)), few_shot="off", epochs=2,
                                 max_steps=6, learning_rate=1e-3, batch_size=16, time_budget_minutes=0)  # fmt: skip
    run_dir = create_run(runs, f"Reviews: {labels} labels")
    RunFolder(run_dir).write_inputs(config.to_dict(), data)
    project.add_round(run_dir.name, labels)
    fit(config, data, run_dir)
    label_rounds.measure_round(project, run_dir, labels)
    return run_dir


def rows_by_kind(project) -> dict[str, set[int]]:
    """The ids of the rows labelled, of the rows held out and of the pool (unlabelled training rows)."""
    with project.store.connect() as con:
        found = con.execute("SELECT id, heldout, id IN (SELECT item FROM labels) FROM items").fetchall()
    return {"labelled": {i for i, _, done in found if done}, "heldout": {i for i, held, _ in found if held},
            "pool": {row for row, _ in project.pool()}}  # fmt: skip


@pytest.fixture(scope="module")
def rounds(tmp_path_factory, tiny_model_dir):
    """Three rounds at 24, 48 and 72 labels, with what the person saw along the way."""
    tmp = tmp_path_factory.mktemp("label-rounds")
    runs = tmp / "runs"
    truth = pd.read_csv(sentiment_csv(tmp / "reviews.csv", n=120)).set_index("text")["label"].to_dict()
    project = label_project.create(runs, "Reviews", "text", LABELS, list(truth), USER)
    seen: dict = {"runs": runs, "project": project, "before": {}, "rounds": []}
    seen["before"]["nothing"] = label_rounds.ready(project)
    with pytest.raises(DataError) as refused:
        label_rounds.round_data(project, model=str(tiny_model_dir))
    seen["before"]["refused"] = refused.value.message
    pool = dict(project.pool())
    for label in ("positive", "negative"):  # two training rows of two labels, none held out yet
        for row in [i for i, text in pool.items() if truth[text] == label][:2]:
            project.save(USER, row, label)
    seen["before"]["no_held_out"] = (label_rounds.ready(project), project.counts()["heldout_labelled"])
    ranked: list[int] = []
    for labels in ROUNDS:
        label_until(project, truth, labels, ranked)
        stale = label_rounds.ranked(project)  # the last round's proposals, less the rows labelled since
        labelled_now = rows_by_kind(project)["labelled"]
        counts = project.counts()
        run_dir = train_round(project, runs, tiny_model_dir, labels)
        ranked = label_rounds.ranked(project)
        kinds = rows_by_kind(project)
        claimed = project.claim(USER, ranked, n=10)  # the next rows handed out
        for row in claimed:
            project.save(USER, row.id, truth[row.text])
        seen["rounds"].append({"run": run_dir, "counts": counts, "ranked": ranked, "claimed": claimed,
                               "kinds": kinds, "stale": stale, "labelled_then": labelled_now,
                               "curve": label_rounds.learning_curve(project)})  # fmt: skip
    return seen


def one_sentence(text) -> bool:
    return isinstance(text, str) and text.endswith(".") and ". " not in text and "{" not in text


def test_a_project_refuses_to_train_with_one_sentence_until_it_has_enough_labels(rounds):
    assert rounds["before"]["nothing"] == TOO_FEW and one_sentence(TOO_FEW)
    assert rounds["before"]["refused"] == TOO_FEW, "round_data refuses with the same sentence"
    said, held_out = rounds["before"]["no_held_out"]
    assert held_out == 0
    assert said == NONE_HELD_OUT, "two labels of two rows each, but nothing held out to test on yet"


def test_each_round_is_tested_on_exactly_the_held_out_labels(rounds):
    assert len(rounds["rounds"]) == len(ROUNDS)
    for done in rounds["rounds"]:
        held = done["counts"]["heldout_labelled"]
        folder = RunFolder(done["run"])
        assert held > 0
        assert len(folder.load_split("test")) == held
        assert folder.metrics()["test"]["n"] == held
        assert len(folder.load_split("train")) == done["counts"]["train_labelled"]


def test_the_proposals_are_pool_rows_each_once_and_come_first_in_the_next_rows(rounds):
    assert len(rounds["rounds"]) == len(ROUNDS)
    for done in rounds["rounds"]:
        ranked, kinds = done["ranked"], done["kinds"]
        assert ranked, "a measured round proposes rows"
        assert len(ranked) == len(set(ranked))
        assert set(ranked) <= kinds["pool"]
        assert not set(ranked) & (kinds["labelled"] | kinds["heldout"])
        claimed = done["claimed"]
        assert len(claimed) == 10
        training = [row.id for row in claimed if not row.heldout]
        assert training == ranked[: len(training)], "the proposals first, best first"
        assert 1 <= sum(row.heldout for row in claimed) <= 3, "held-out rows mixed in, about one in five"


def test_a_rounds_proposals_leave_out_the_rows_labelled_since(rounds):
    later = rounds["rounds"][1:]
    assert len(later) == 2
    for done in later:
        assert done["stale"], "the previous round's proposals are still offered"
        assert not set(done["stale"]) & done["labelled_then"]


def test_the_curve_has_a_point_per_round_and_after_three_a_forecast_in_words(rounds):
    first_found, first_said = rounds["rounds"][0]["curve"]
    assert [p["labels"] for p in first_found["points"]] == [ROUNDS[0]]
    assert first_found["forecast"] == [], "no forecast from one round"
    assert len(first_said) == 3 and all(one_sentence(s) for s in first_said)
    assert "3" in first_said[1], "it says a forecast needs three rounds"
    assert f"only {first_found['points'][0]['heldout']} labelled rows are kept aside" in first_said[2]
    found, said = rounds["rounds"][-1]["curve"]
    points = found["points"]
    assert [p["labels"] for p in points] == list(ROUNDS)
    held = [done["counts"]["heldout_labelled"] for done in rounds["rounds"]]
    assert [p["heldout"] for p in points] == held
    for p in points:
        assert -1e-9 <= p["ci_low"] <= p["score"] + 1e-9
        assert p["score"] <= p["ci_high"] + 1e-9 <= 1 + 2e-9
        assert p["level"] == pytest.approx(0.95)
    assert [f["target"] for f in found["forecast"]] == pytest.approx(list(label_rounds.TARGETS))
    assert set(found["forecast"][0]) >= {"target", "labels", "low", "high", "level"}
    wide = (
        points[-1]["heldout"] < label_rounds.FEW_HELD_OUT
    )  # then a last sentence says why the ranges are wide
    assert len(said) == 1 + len(label_rounds.TARGETS) + wide
    assert ("kept aside to test on" in said[-1]) == wide
    assert all(isinstance(s, str) and len(s.split()) > 5 and "{" not in s for s in said)
    assert str(ROUNDS[-1]) in said[0], "the last score is said with its labels"


def test_curve_json_on_a_round_prints_the_projects_curve(rounds):
    last = rounds["rounds"][-1]["run"]
    done = trainer_cli("curve", last.name, "--json", runs_dir=rounds["runs"], in_process=True)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    expected, said = label_rounds.learning_curve(rounds["project"])
    assert set(printed) == {"points", "forecast"}
    assert [p["labels"] for p in printed["points"]] == list(ROUNDS)
    assert [p["score"] for p in printed["points"]] == pytest.approx([p["score"] for p in expected["points"]])
    assert printed["forecast"] == expected["forecast"]
    words = trainer_cli("curve", str(last), "--runs-dir", str(rounds["runs"]), in_process=True)
    assert words.returncode == 0, words.stderr
    lines = words.stdout.splitlines()
    assert lines[: len(said)] == said
    assert any(line.split()[:1] == [str(ROUNDS[-1])] for line in lines), "the table has a line per round"


def test_curve_on_a_run_of_its_own_is_one_point_without_forecast(rounds, tiny_model_dir, tmp_path):
    data = sentiment_csv(tmp_path / "plain.csv", n=60)
    run_dir = train_tiny_config(rounds["runs"].parent, data, tiny_model_dir, name="plain", epochs=1, max_steps=2,
                                few_shot="off", time_budget_minutes=0)  # fmt: skip
    done = trainer_cli("curve", run_dir.name, "--json", runs_dir=rounds["runs"], in_process=True)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed["forecast"] == []
    assert len(printed["points"]) == 1
    assert printed["points"][0]["labels"] == len(RunFolder(run_dir).load_split("train"))
    words = trainer_cli("curve", run_dir.name, runs_dir=rounds["runs"], in_process=True)
    assert words.returncode == 0, words.stderr
    assert "3" in words.stdout.splitlines()[1], "a forecast needs three rounds"


def test_curve_refuses_a_missing_or_unfinished_run_in_one_line(rounds):
    missing = trainer_cli("curve", "no-such-run", runs_dir=rounds["runs"], in_process=True)
    waiting = create_run(rounds["runs"], "waiting")
    unfinished = trainer_cli("curve", waiting.name, "--json", runs_dir=rounds["runs"], in_process=True)
    bad_target = trainer_cli("curve", rounds["rounds"][0]["run"].name, "--target", "85", runs_dir=rounds["runs"],
                             in_process=True)  # fmt: skip
    for done in (missing, unfinished, bad_target):
        assert done.returncode != 0
        assert done.stdout == ""
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "Traceback" not in done.stderr
    assert "no-such-run" in missing.stderr
    assert "waiting" in unfinished.stderr
    assert "85" in bad_target.stderr


def test_each_forecast_is_checked_against_what_the_round_then_scored(tmp_path):
    from trainer.apply import label_project as lp

    project = lp.create(tmp_path / "runs", "checked", "text", ["a", "b"], [f"text {i}" for i in range(20)],
                        "local")  # fmt: skip

    def point(score):
        return {"labels": 0, "score": score, "ci_low": score - 0.1, "ci_high": score + 0.1, "heldout": 40}

    project.add_round("r1", 40, {"point": point(0.70), "forecast_then": None})
    project.add_round("r2", 50, {"point": point(0.74), "forecast_then": [0.72, 0.66, 0.78]})
    project.add_round("r3", 60, {"point": point(0.90), "forecast_then": [0.75, 0.69, 0.81]})
    said = label_rounds.forecasts_checked(project)
    assert len(said) == 3
    assert "With 50 labels the curve had forecast 0.72 (between 0.66 and 0.78)" in said[0]
    assert said[0].endswith("inside the range.") and said[1].endswith("outside the range.")
    assert said[2].startswith("1 of 2 forecasts held so far")


def test_an_entity_project_trains_a_round_and_proposes_sentences_to_tag(tmp_path, tiny_model_dir):
    from helpers import conll_file

    frame = conll_sentences(conll_file(tmp_path / "n.conll", n=60))
    truth = {" ".join(words): tags for words, tags in frame}
    runs = tmp_path / "runs"
    project = label_project.create(runs, "names", "token", ["PER", "ORG", "LOC"], [w for w, _ in frame], USER)
    while project.counts()["labelled"] < 30:
        for row in project.claim(USER, (), n=10):
            project.save(USER, row.id, truth[" ".join(row.text)])
    assert label_rounds.ready(project) is None
    run_dir = train_round(project, runs, tiny_model_dir, 30)
    proposed = label_rounds.ranked(project)
    kinds = rows_by_kind(project)
    assert proposed and len(set(proposed)) == len(proposed) and set(proposed) <= kinds["pool"]
    counts = project.counts()
    assert len(RunFolder(run_dir).load_split("test")) == counts["heldout_labelled"]
    handed = project.claim(USER, proposed, n=4)
    assert [r.id for r in handed if not r.heldout][:3] == proposed[:3]  # the proposals come first


def conll_sentences(path) -> list[tuple[list[str], list[str]]]:
    """(words, tags) of each sentence of a CoNLL file."""
    found, words, tags = [], [], []
    for line in path.read_text().splitlines() + [""]:
        if not line.strip():
            if words:
                found.append((words, tags))
            words, tags = [], []
            continue
        word, tag = line.split()[0], line.split()[-1]
        words.append(word)
        tags.append(tag)
    return found
