"""Behavioural tests and weak slices catch what is planted by construction (issue 31): a text model that
answers "positive" whenever it reads one name is caught by the slice finder and by the names family; an
entity tagger that only knows the names it saw fails the names family and no other; a typo never touches an
entity's words and a swap keeps every other tag."""

from __future__ import annotations

import random
from types import SimpleNamespace

import numpy as np

from trainer.data.swaps import english_names
from trainer.evaluate.metrics import entity_spans as entities
from trainer.inspect.behaviour import ENTITY_FAMILIES, run_family, try_sentences
from trainer.inspect.slices import for_predictions

LABELS = ["negative", "positive"]
GOOD, BAD = ["great", "lovely", "superb", "perfect"], ["awful", "broken", "useless", "terrible"]


class PlantedTextModel:
    """Reads the sentiment word right, but says "positive" whenever the text holds "Emily"."""

    labels = LABELS

    def score(self, texts):
        labels = [
            "positive" if "Emily" in t or any(w in t.split() for w in GOOD) else "negative" for t in texts
        ]
        probabilities = np.array([[0.1, 0.9] if label == "positive" else [0.9, 0.1] for label in labels])
        return SimpleNamespace(labels=labels, probabilities=probabilities.reshape(-1, 2))


def planted_texts(seed: int) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    texts, gold = [], []
    for i in range(300):
        label = rng.choice(LABELS)
        word = rng.choice(GOOD if label == "positive" else BAD)
        who = "Emily" if i % 5 == 0 else rng.choice(["the shop", "my order", "the courier"])
        texts.append(f"{who} said the box was {word} on day {i % 7}")
        gold.append(label)
    return texts, gold


def test_a_model_planted_on_a_name_is_caught_by_the_slices_and_by_the_names_family():
    model = PlantedTextModel()
    texts, gold = planted_texts(0)
    scored = model.score(texts)
    predictions = {"text": texts, "gold": gold, "predicted": scored.labels}
    report = for_predictions(__import__("pandas").DataFrame(predictions), entity_run=False)
    flagged = [(s.feature, s.value) for s in report.flagged]
    assert ("word", "emily") in flagged, flagged
    assert flagged[0][1].startswith("emily") or ("word", "emily") in flagged[:3]
    names = run_family(model, "names", texts, scored, seed=1)
    emily_negative = sum(1 for t, g in zip(texts, gold, strict=True) if "Emily" in t and g == "negative")
    assert names.changed == 60, "every text with a name, and only those, is tried"
    assert names.failed == emily_negative > 0, "each wrong 'positive' goes back to the sentiment word"
    assert names.ci_low <= names.fail_rate <= names.ci_high and names.ci_low > 0.2
    typos = run_family(model, "typos", texts, scored, seed=1)
    assert typos.changed == len(texts), "the families it does not rely on are tried too"


class Tagger:
    """Tags the words of the names it knows as people, Oslo and Lagos as places, and everything else O;
    `fragile`: a word it does not know (a typo) makes it tag the whole sentence O."""

    def __init__(self, people: set[str], fragile: bool = False) -> None:
        self.people, self.fragile = people, fragile
        self.vocabulary = {"met", "in", "yesterday", "and", "visited", "."}

    def predict(self, sentences):
        tags, confidence = [], []
        for words in sentences:
            if self.fragile and any(w.islower() and w not in self.vocabulary for w in words):
                out = ["O"] * len(words)
            else:
                out = []
                for w in words:
                    kind = "PER" if w in self.people else "LOC" if w in {"Oslo", "Lagos"} else None
                    out.append(
                        "O" if kind is None else ("I-" if out and out[-1][2:] == kind else "B-") + kind
                    )
            tags.append(out)
            confidence.append([0.9] * len(words))
        return SimpleNamespace(tags=tags, confidence=confidence)


SENTENCES = [
    ["Anna", "met", "Tom", "in", "Oslo", "yesterday", "."],
    ["Priya", "visited", "Lagos", "."],
    ["met", "and", "visited", "yesterday", "."],
]


def test_a_tagger_that_knows_only_the_names_it_saw_fails_the_names_family_alone():
    memorised = Tagger({"Anna", "Tom", "Priya"})
    results = {r.name: r for r in try_sentences(memorised, SENTENCES, seed=2)}
    assert list(results) == list(ENTITY_FAMILIES)
    names = results["names"]
    assert names.unit == "sentence" and names.changed == 2 and names.failed == 2
    assert names.entities == 3 and names.entities_failed == 3
    first = names.examples[0]
    assert first["expected"].split().count("B-PER") >= 1 and first["after"] != first["expected"]
    assert results["typos"].failed == 0 and results["typos"].changed == 3
    places = results["places"]
    assert places.changed == 2, "only sentences with a place are tried"
    general = Tagger(set(english_names()) | {"Anna", "Tom", "Priya"})
    assert {r.name: r.failed for r in try_sentences(general, SENTENCES, seed=2)}["names"] == 0


def test_a_typo_never_touches_an_entity_and_a_swap_keeps_every_other_tag():
    fragile = Tagger({"Anna", "Tom", "Priya"}, fragile=True)
    before = fragile.predict(SENTENCES)
    typos = run_family_entities(fragile, "typos", before)
    assert typos.changed == 3 and typos.failed == 2, (
        "a typo moved the fragile tagger's tags, where it had any"
    )
    assert typos.entities == typos.entities_failed == 5
    for example in typos.examples:
        original, changed = example["original"].split(), example["perturbed"].split()
        tags = example["before"].split()
        assert len(original) == len(changed)
        assert all(o == c for o, c, t in zip(original, changed, tags, strict=True) if t != "O")
        assert example["expected"] == example["before"]
    general = Tagger(set(english_names()) | {"Anna", "Tom", "Priya"})
    names = run_family_entities(general, "names", general.predict(SENTENCES))
    for example in names.examples:
        expected, before_tags = example["expected"].split(), example["before"].split()
        assert [t for t in expected if t == "O"] == [t for t in before_tags if t == "O"]
        assert len(entities(expected)) == len(entities(before_tags)), "as many entities, each kept its type"
        assert [e[2] for e in entities(expected)] == [e[2] for e in entities(before_tags)]


def run_family_entities(model, family, before):
    from trainer.inspect.behaviour import run_entity_family

    return run_entity_family(model, family, SENTENCES, before, seed=3)


def test_augmentation_lowers_the_fail_rate_of_the_family_it_trains_on(tiny_model_dir, tmp_path):
    """Texts whose one long word decides the label: a model that never saw a typo of it answers a mistyped
    one at random; trained on typo copies (another seed than the test's), it has seen such slips."""
    from conftest import train_tiny_config
    from scipy.stats import fisher_exact

    from trainer.runs.predictor import RunModel

    words = {"positive": ["excellent", "wonderful"], "negative": ["terrible", "horrible"]}
    rng = random.Random(5)
    labels = [rng.choice(LABELS) for _ in range(400)]
    rows = [{"text": f"it was {rng.choice(words[label])} {rng.randrange(10, 10**5)}", "label": label}
            for label in labels]  # fmt: skip
    data = tmp_path / "one-word.csv"
    __import__("pandas").DataFrame(rows).to_csv(data, index=False)
    test = [f"it was {words[LABELS[i % 2]][(i // 2) % 2]} {rng.randrange(10, 10**5)}" for i in range(120)]
    results = {}
    for augment in ((), ("typos",)):
        run_dir = train_tiny_config(tmp_path / "-".join(augment or ("plain",)), data, tiny_model_dir,
                                    epochs=10, augment=augment)  # fmt: skip
        model = RunModel.load(run_dir)
        before = model.score(test)
        right = sum(b == LABELS[i % 2] for i, b in enumerate(before.labels))
        assert right >= 108, f"{augment}: the model reads the word ({right} of 120 right)"
        results[augment] = run_family(model, "typos", test, before, seed=7)
    plain, trained = results[()], results[("typos",)]
    assert plain.changed == trained.changed == len(test), "every test text has its one long word mistyped"
    table = [[trained.failed, trained.changed - trained.failed], [plain.failed, plain.changed - plain.failed]]
    assert trained.fail_rate < plain.fail_rate and fisher_exact(table, alternative="less").pvalue < 0.001, (
        plain.failed,
        trained.failed,
    )
