"""Weak slices (issue 31): a planted weakness is found and flagged first; with no weakness planted, the
Benjamini-Hochberg control keeps false flags at the stated rate (simulated over many seeds); the Wilson
interval covers at its stated rate for small counts; the command line's JSON contract and its errors."""

from __future__ import annotations

import json
import random

import numpy as np
import pandas as pd
import pytest
from cli_kit import trainer_cli
from helpers import LABELS, fake_run

from trainer.inspect.slices import find, for_predictions, length_features, wilson, word_features

FILLER = ["box", "arrived", "today", "screen", "battery", "colour", "price", "delivery", "size", "manual",
          "cable", "strap", "lid", "handle", "button", "sound", "light", "frame", "seat", "wheel"]  # fmt: skip


def texts_and_errors(n: int, seed: int, weak_word: str | None = None, weak_rate: float = 0.6,
                     base_rate: float = 0.1) -> tuple[list[str], np.ndarray]:  # fmt: skip
    """Texts of four filler words; errors at `base_rate`, or `weak_rate` in the texts holding `weak_word`
    (a sixth of them)."""
    rng = random.Random(seed)
    texts, errors = [], []
    for i in range(n):
        words = rng.sample(FILLER, 4)
        weak = weak_word is not None and i % 6 == 0
        if weak:
            words[rng.randrange(4)] = weak_word
        texts.append(" ".join(words))
        errors.append(rng.random() < (weak_rate if weak else base_rate))
    return texts, np.array(errors)


def test_a_word_the_model_trips_on_is_flagged_first_with_its_interval():
    texts, errors = texts_and_errors(600, seed=1, weak_word="refund")
    report = find(errors, {**word_features(texts, 10), **length_features(texts)})
    top = report.slices[0]
    assert (top.feature, top.value, top.flagged) == ("word", "refund", True)
    assert top.n == 100 and top.ci_low < top.error_rate < top.ci_high
    assert top.ci_low > report.overall_error_rate, "worse than overall beyond its interval"
    assert top.q_value <= report.alpha and top.p_value < 1e-6
    flagged_words = {s.value for s in report.flagged if s.feature == "word"}
    assert all("refund" in w for w in flagged_words), (
        flagged_words
    )  # only the planted word (or pairs with it)


def test_with_no_weakness_planted_false_flags_stay_at_the_stated_rate():
    """Under no weakness every flag is false, so the false discovery rate is the chance of any flag: BH keeps
    it at alpha (5%). 200 seeds: the observed rate stays under 5% plus three standard errors."""
    any_flag = []
    tried = []
    for seed in range(200):
        texts, errors = texts_and_errors(300, seed=seed)
        report = find(errors, word_features(texts, 10))
        tried.append(len(report.slices))
        any_flag.append(bool(report.flagged))
    assert min(tried) >= 20, "each seed tries many slices"
    rate = float(np.mean(any_flag))
    assert rate <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 200), rate


def test_the_wilson_interval_covers_at_its_rate_for_small_counts():
    rng = np.random.default_rng(0)
    for n, p in ((12, 0.1), (30, 0.5), (15, 0.9)):
        draws = rng.binomial(n, p, size=2000)
        covered = np.mean([low <= p <= high for low, high in (wilson(int(k), n) for k in draws)])
        assert covered >= 0.93, (n, p, covered)  # 95% stated; Wilson runs close to it, never far under
    assert wilson(0, 10)[0] == 0.0 and 0.2 < wilson(0, 10)[1] < 0.35  # no errors seen: still an upper bound


def test_entity_runs_slice_by_entity_type_and_sentences_with_a_wrong_tag():
    rows = []
    for i in range(80):
        place = i % 2 == 0
        tokens = "Rain in Oslo today" if place else "Anna Berg spoke today"
        gold = "O O B-LOC O" if place else "B-PER I-PER O O"
        wrong = place and i % 4 == 0  # half the place sentences lose their place
        rows.append({"tokens": tokens, "gold": gold, "predicted": "O O O O" if wrong else gold})
    report = for_predictions(pd.DataFrame(rows), entity_run=True)
    by_key = {(s.feature, s.value): s for s in report.slices}
    assert by_key[("entity_type", "LOC")].errors == 20 and by_key[("entity_type", "LOC")].n == 40
    assert by_key[("entity_type", "LOC")].flagged and not by_key[("entity_type", "PER")].flagged
    # half the places found, none invented: precision 1, recall 1/2, F1 2/3; the people all found
    assert by_key[("entity_type", "LOC")].entity_f1 == pytest.approx(2 / 3)
    assert by_key[("entity_type", "PER")].entity_f1 == pytest.approx(1.0)


def test_the_command_prints_the_json_contract_and_refuses_bad_input(tmp_path):
    gold = [LABELS[i % 3] for i in range(120)]
    texts = [f"{'refund' if i % 4 == 0 else 'parcel'} {FILLER[i % 20]} number {i}" for i in range(120)]
    predicted = [LABELS[(LABELS.index(g) + 1) % 3] if i % 4 == 0 and i % 8 else g for i, g in enumerate(gold)]
    run_dir = fake_run(tmp_path / "runs", "weak", gold, predicted, texts=texts)
    done = trainer_cli("slices", str(run_dir), "--json", in_process=True)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["run"] == run_dir.name and report["split"] == "test" and report["alpha"] == 0.05
    assert report["overall_error_rate"] == pytest.approx(15 / 120)
    first = report["slices"][0]
    assert set(first) == {"feature", "value", "n", "errors", "error_rate", "ci_low", "ci_high", "p_value",
                          "q_value", "flagged", "entity_f1"}  # fmt: skip
    assert (first["feature"], first["value"], first["flagged"]) == ("word", "refund", True)
    assert [s["flagged"] for s in report["slices"]] == sorted(
        (s["flagged"] for s in report["slices"]), reverse=True
    )
    done = trainer_cli("slices", str(run_dir), in_process=True)
    assert done.returncode == 0 and "at most 1 in 20 is expected to be chance" in done.stdout
    assert "word “refund”: wrong on 15 of 30" in done.stdout, done.stdout
    for bad in (["--alpha", "2"], ["--min-rows", "1"]):
        done = trainer_cli("slices", str(run_dir), *bad, in_process=True)
        assert done.returncode == 2 and done.stderr.strip().startswith("error:") and bad[0] in done.stderr
        assert "Traceback" not in done.stderr
    done = trainer_cli("slices", str(tmp_path / "runs" / "nothing-here"), in_process=True)
    assert (
        done.returncode == 2 and done.stderr.strip().startswith("error:") and "Traceback" not in done.stderr
    )


def test_a_run_still_training_is_refused_in_one_line(tmp_path):
    from trainer.runs import RunFolder, create_run, write_json

    busy = create_run(tmp_path / "runs", "busy")
    write_json(RunFolder(busy).config_file, {"model": "default", "task": "text-classification"})
    RunFolder(busy).write_status("running", name="busy")
    done = trainer_cli("slices", str(busy), in_process=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert (
        done.stderr.strip()
        == f"error: {busy.name} has no test predictions yet: wait until it has finished training."
    )


def test_entity_runs_slice_sentences_by_the_length_of_their_entities():
    from trainer.inspect.slices import entity_length_features

    found = entity_length_features(["B-PER I-PER O B-LOC", "O O", "B-ORG I-ORG I-ORG I-ORG O", "I-LOC O"])
    assert found[("entity_length", "1")].tolist() == [True, False, False, True], "an I- alone starts one"
    assert found[("entity_length", "2")].tolist() == [True, False, False, False]
    assert found[("entity_length", "3+")].tolist() == [False, False, True, False]


def test_a_slices_rows_are_those_the_finder_tested_for_every_kind_of_slice():
    from types import SimpleNamespace

    from trainer.inspect.slices import rows_of

    rows = [{"tokens": "Anna Berg spoke today" if i % 2 else "Rain in Oslo today",
             "gold": "B-PER I-PER O O" if i % 2 else "O O B-LOC O", "predicted": "O O O O"} for i in range(40)]  # fmt: skip
    predictions = pd.DataFrame(rows)
    folder = SimpleNamespace(predictions=lambda: predictions, issues=lambda: None)
    run = SimpleNamespace(folder=folder, adapter=SimpleNamespace(unit="sentence"))
    found = {(s.feature, s.value) for s in for_predictions(predictions, entity_run=True).slices}
    assert {("entity_type", "PER"), ("entity_length", "2"), ("word", "oslo")} <= found
    assert rows_of(run, "entity_length", "2") == list(range(1, 40, 2))
    assert rows_of(run, "entity_type", "LOC") == list(range(0, 40, 2))
    assert rows_of(run, "word", "oslo") == list(range(0, 40, 2))
    assert rows_of(run, "word", "no such word") == []
