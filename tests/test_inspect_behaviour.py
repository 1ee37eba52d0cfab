"""Behavioural tests (issue 31): each invariance family changes what it names and nothing else, the same
seed gives the same texts, and the command line runs them on a finished tiny run with its JSON contract and
one-line errors."""

from __future__ import annotations

import json
import re

from cli_kit import trainer_cli

from trainer.inspect.behaviour import FAMILIES, NEIGHBOURS, perturb, slip

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
    done = trainer_cli("robustness", str(tiny_text_run), "--families", "typos,case,numbers", "--json")
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
    done = trainer_cli("robustness", str(tiny_text_run), "--families", "typos,sarcasm")
    assert done.returncode == 2 and done.stderr.strip().startswith("error: Unknown change sarcasm")
    assert all(name in done.stderr for name in FAMILIES) and "Traceback" not in done.stderr
    done = trainer_cli("robustness", str(tmp_path / "no-such-run"))
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
