"""Behavioural tests (issue 31): each invariance family changes what it names and nothing else, the same
seed gives the same texts, and the command line runs them on a finished tiny run with its JSON contract and
one-line errors."""

from __future__ import annotations

import json
import re

from cli_kit import trainer_cli

from trainer.data.perturb import FAMILIES, NEIGHBOURS, augmented, perturb, slip

TEXTS = [
    "The Blender arrived broken, and support never answered my 3 emails!",
    "great value for 25 dollars",
    "Is the strap adjustable?",
    "ok",
    "Shares of Crestline Foods rose 6% by the close after it reported record online sales.",
    "这个 产品 很好",
]


def edit_distance_one_slip(a: str, b: str) -> bool:
    """b is a with one neighbour key, one swap of two letters, one letter dropped or one doubled."""
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diff) == 1:
            return b[diff[0]].lower() in NEIGHBOURS[a[diff[0]].lower()]
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    return len(longer) == len(shorter) + 1 and any(
        longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer))
    )


def test_a_typo_is_one_slip_inside_one_word_and_the_rest_stays():
    for seed in range(30):
        for original, changed in zip(TEXTS, perturb("typos", TEXTS, seed), strict=True):
            if changed is None:
                assert not re.search(r"[A-Za-z]{4,}", original), original  # nothing long enough to mistype
                continue
            a, b = original.split(), changed.split()
            assert len(a) == len(b), "no word added, dropped or split"
            moved = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
            assert len(moved) == max(1, round(len(a) / 10)), (original, changed)
            assert all(edit_distance_one_slip(x, y) for x, y in moved), moved
    assert slip("blender", __import__("random").Random(1)) != "blender"


def test_case_punctuation_whitespace_and_numbers_change_only_what_they_name():
    for seed in range(10):
        for family in ("case", "punctuation", "whitespace", "numbers"):
            for original, changed in zip(TEXTS, perturb(family, TEXTS, seed), strict=True):
                if changed is None:
                    continue
                assert changed != original
                if family == "case":
                    assert changed.lower() == original.lower()
                if family == "punctuation":
                    assert re.sub(r"[.!?]\s*$", "", changed) == re.sub(r"[.!?]\s*$", "", original)
                if family == "whitespace":
                    assert changed.split() == original.split() and len(changed) == len(original) + 1
                if family == "numbers":
                    assert re.sub(r"\d", "0", changed) == re.sub(r"\d", "0", original)
    assert perturb("numbers", ["no digits here"]) == [None], "a family only tests the texts it can change"
    assert perturb("case", ["这个 产品 很好"]) == [None], "a text without letters of two cases is left alone"
    assert perturb("typos", TEXTS, 4) == perturb("typos", TEXTS, 4), "the same seed gives the same texts"


def test_the_command_tests_each_family_on_the_test_split_and_says_it_in_json(tiny_text_run):
    done = trainer_cli(
        "robustness", str(tiny_text_run), "--families", "typos,case,numbers", "--json", in_process=True
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["run"] == tiny_text_run.name and report["split"] == "test"
    tests = {t["name"]: t for t in report["tests"]}
    assert list(tests) == ["typos", "case", "numbers"]
    typos = tests["typos"]
    assert typos["kind"] == "invariance" and typos["changed"] > 10  # the test texts all have long words
    assert 0 <= typos["failed"] <= typos["changed"]
    assert typos["ci_low"] <= typos["fail_rate"] <= typos["ci_high"]
    assert typos["fail_rate"] == typos["failed"] / typos["changed"]
    assert 1 <= len(typos["examples"]) <= 5
    example = typos["examples"][0]
    assert {"original", "perturbed", "before", "after"} <= set(example) and example["original"] != example[
        "perturbed"
    ]
    assert tests["numbers"]["changed"] > 0  # "item number 12" in every text


def test_an_unknown_family_or_run_is_one_error_line(tiny_text_run, tmp_path):
    done = trainer_cli("robustness", str(tiny_text_run), "--families", "typos,sarcasm", in_process=True)
    assert done.returncode == 2 and done.stderr.strip().startswith("error: Unknown change sarcasm")
    assert all(name in done.stderr for name in FAMILIES) and "Traceback" not in done.stderr
    done = trainer_cli("robustness", str(tmp_path / "no-such-run"), in_process=True)
    assert (
        done.returncode == 2 and done.stderr.strip().startswith("error:") and "Traceback" not in done.stderr
    )


def test_the_width_family_changes_only_the_punctuation_of_chinese_texts_and_keeps_them_chinese():
    from trainer.data.word_rule import is_cjk

    texts = ["这个产品很好，物流也快！", "质量不错,就是有点贵.", "没有标点", "Plain English, no Chinese."]
    full, half, none, english = perturb("width", texts)
    assert full == "这个产品很好,物流也快!" and half == "质量不错，就是有点贵。"
    assert none is None and english is None, "only Chinese texts with punctuation are tried"
    for original, changed in ((texts[0], full), (texts[1], half)):
        kept = [(a, b) for a, b in zip(original, changed, strict=True) if a != b]
        assert kept and all(not is_cjk(a) and not is_cjk(b) for a, b in kept)


def test_augmentation_adds_each_familys_changed_copies_with_their_labels_after_the_originals():
    texts, labels = ["The Strap broke after 2 days", "ok", "Love it!"], ["bad", "good", "good"]
    grown, grown_labels, rows = augmented(texts, labels, ["case", "numbers"], seed=3, rows=[10, 11, 12])
    assert grown[:3] == texts and grown_labels[:3] == labels and rows[:3] == [10, 11, 12]
    copies = list(zip(grown[3:], grown_labels[3:], rows[3:], strict=True))
    assert [c[0] for c in copies[:3]] == ["the strap broke after 2 days", "Ok", "love it!"]  # case, each text
    assert copies[3][1:] == ("bad", 10) and copies[3][0] != texts[0]  # numbers: only the text with a number
    assert len(copies) == 4


def test_augmentation_is_checked_with_the_settings_and_refused_in_one_line(tmp_path):
    import pytest

    from trainer.config import TrainConfig

    with pytest.raises(ValueError, match="augment must name changes among typos, case"):
        TrainConfig(augment=("typos", "sarcasm"))
    with pytest.raises(ValueError, match="augmentation works for text classification so far"):
        TrainConfig(task="token-classification", augment=("typos",))
    config = TrainConfig(augment=("typos", "case"))
    assert (
        TrainConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    )  # as config.json keeps it
    done = trainer_cli("fit", str(tmp_path / "missing.csv"), "--augment", "typos,sarcasm")
    assert (
        done.returncode == 2 and done.stderr.strip().startswith("error:") and "Traceback" not in done.stderr
    )


def test_a_fit_with_augmentation_trains_on_more_texts_and_keeps_the_saved_splits(tiny_model_dir, tmp_path):
    from helpers import sentiment_csv

    from trainer.config import TrainConfig
    from trainer.prepare import prepare
    from trainer.runs import RunFolder, create_run
    from trainer.train.fit import fit

    data = prepare(sentiment_csv(tmp_path / "s.csv", n=60))
    steps = {}
    for augment in ((), ("typos", "case")):
        run_dir = create_run(tmp_path / "runs", "aug" if augment else "plain")
        config = TrainConfig(
            model=str(tiny_model_dir), epochs=1, batch_size=8, learning_rate=1e-3, augment=augment
        )
        RunFolder(run_dir).write_inputs(config.to_dict(), data)
        fit(config, data, run_dir)
        steps[augment] = RunFolder(run_dir).metrics()["summary"]["steps"]
        assert len(RunFolder(run_dir).split("train")) == len(data.train), "the saved split is the original"
    plain = -(-len(data.train) // 8)
    assert steps[()] == plain
    assert steps[("typos", "case")] == -(-3 * len(data.train) // 8), "every text gets a typo and a case copy"
