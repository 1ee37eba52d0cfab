"""A person's own behavioural rules (issue 31): word pairs swapped either way with their capitals, a phrase
added before some words or at the end, checked like a family (a model that ignores "not" fails the
directional rule, one that reads it passes), read from JSON with one clear message per mistake."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
from cli_kit import trainer_cli

from trainer.data.errors import DataError
from trainer.data.rules import apply, parse
from trainer.inspect.behaviour import run_rule

LABELS = ["negative", "positive"]
RULES = [
    {"name": "price words", "swap": [["cheap", "inexpensive"], ["price", "cost"]]},
    {
        "name": "negation",
        "insert": "not",
        "before": ["good", "great"],
        "label": "positive",
        "direction": "down",
    },
    {"name": "praise at the end", "insert": "I love it", "label": "positive", "direction": "up"},
]


def test_pairs_swap_either_way_keeping_capitals_and_phrases_go_where_they_are_told():
    swap, negation, praise = parse(RULES, LABELS)
    assert apply(swap, "Cheap, and the COST was fine.") == "Inexpensive, and the PRICE was fine."
    assert apply(swap, "an inexpensive pricey thing") == "an cheap pricey thing", "whole words only"
    assert apply(swap, "nothing to swap") is None
    assert apply(negation, "A great phone, good value!") == "A not great phone, not good value!"
    assert apply(negation, "fine") is None, "a rule with words to stand before only applies where they are"
    assert apply(praise, "Works well.") == "Works well I love it." and apply(praise, "ok") == "ok I love it"


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ({"swap": []}, "JSON list"),
        ([{"name": "x", "swap": [["only one"]]}], "two words"),
        ([{"name": "x", "swap": "cheap"}], "word pairs"),
        ([{"name": "x", "insert": "not", "label": "neutral"}], "one of negative, positive"),
        ([{"name": "x", "insert": "not", "label": "positive", "direction": "sideways"}], "down or up"),
        ([{"name": "x", "swap": [["a", "b"]]}, {"name": "x", "swap": [["c", "d"]]}], "same name"),
        (["not an object"], "must be an object"),
    ],
)
def test_a_rule_that_is_not_right_says_what_to_write(raw, says):
    with pytest.raises(DataError) as caught:
        parse(raw, LABELS)
    assert says in str(caught.value)


class Reader:
    """Says positive when a good word is there; `negation`: unless "not" stands right before it."""

    labels = LABELS

    def __init__(self, negation: bool) -> None:
        self.negation = negation

    def score(self, texts):
        p = []
        for text in texts:
            words = text.lower().replace(",", " ").split()
            good = [i for i, w in enumerate(words) if w in ("good", "great")]
            negated = self.negation and good and all(i > 0 and words[i - 1] == "not" for i in good)
            p.append(0.9 if good and not negated else 0.2)
        p = np.array(p)
        return SimpleNamespace(labels=["positive" if x > 0.5 else "negative" for x in p],
                               probabilities=np.stack([1 - p, p], axis=1))  # fmt: skip


def test_a_model_that_ignores_not_fails_the_directional_rule_and_one_that_reads_it_passes():
    negation = parse(RULES, LABELS)[1]
    texts = ["a great phone", "good value", "arrived late", "great, really good"]
    ignores, reads = run_rule(Reader(False), negation, texts), run_rule(Reader(True), negation, texts)
    assert ignores.kind == reads.kind == "directional" and ignores.changed == reads.changed == 3
    assert ignores.failed == 3, "the probability of positive stayed where 'not' should have lowered it"
    assert reads.failed == 0 and reads.mean_probability_change == pytest.approx(-0.7)
    assert ignores.rule["label"] == "positive" and ignores.ci_low > 0.3


def test_the_command_takes_a_rules_file_and_refuses_a_bad_one_in_one_line(tiny_text_run, tmp_path):
    rules = tmp_path / "rules.json"
    labels = json.loads((tiny_text_run / "labels.json").read_text())
    rules.write_text(json.dumps([
        {"name": "items", "swap": [["item", "article"]]},
        {"name": "praise", "insert": "great great great", "label": labels[-1], "direction": "up"},
    ]), encoding="utf-8")  # fmt: skip
    done = trainer_cli(
        "robustness",
        str(tiny_text_run),
        "--families",
        "case",
        "--rules",
        str(rules),
        "--json",
        in_process=True,
    )
    assert done.returncode == 0, done.stderr
    tests = {t["name"]: t for t in json.loads(done.stdout)["tests"]}
    assert list(tests) == ["case", "items", "praise"]
    assert tests["items"]["kind"] == "invariance" and tests["items"]["changed"] > 0
    assert tests["praise"]["kind"] == "directional" and tests["praise"]["rule"]["direction"] == "up"
    assert tests["praise"]["changed"] == tests["case"]["changed"], "a phrase at the end fits every text"
    rules.write_text('[{"name": "x", "insert": "not", "label": "nope"}]', encoding="utf-8")
    done = trainer_cli("robustness", str(tiny_text_run), "--rules", str(rules), in_process=True)
    assert (
        done.returncode == 2
        and done.stderr.strip().startswith("error: Rule 'x'")
        and "Traceback" not in done.stderr
    )
    rules.write_text("{not json", encoding="utf-8")
    done = trainer_cli("robustness", str(tiny_text_run), "--rules", str(rules), in_process=True)
    assert (
        done.returncode == 2 and "could not be read as JSON" in done.stderr and "Traceback" not in done.stderr
    )
