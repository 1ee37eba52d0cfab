"""Results in plain words (issue 30, item 5): Evaluate leads with a sentence built from the run's own
scores, the technical words wait in help and expanders, Compare's verdict leads, and the Glossary renders
in English and in Chinese with every term."""

from __future__ import annotations

import re

import numpy as np
import pytest
from app_kit import open_app
from helpers import LABELS, fake_run
from test_app_languages import english_of_ours, untranslated

from insight_ui import state
from insight_ui.components.glossary_terms import TERMS
from trainer import i18n
from trainer.evaluate.uncertainty import counts_of, intervals
from trainer.runs import RunFolder

JARGON = ("macro", "bootstrap", "mcnemar", "fisher")
TEXT_KINDS = {"markdown", "caption", "success", "info", "warning", "error", "subheader", "header"}


def known_run(runs, name: str = "known", right: int = 91, n: int = 100):
    """A text run with `right` of `n` test texts right (the rest predicted one label off)."""
    gold = [LABELS[i % 3] for i in range(n)]
    predicted = [g if i < right else LABELS[(LABELS.index(g) + 1) % 3] for i, g in enumerate(gold)]
    return fake_run(runs, name, gold, predicted)


def expected_sentence(run_dir) -> str:
    """The sentence from the run's own predictions: its accuracy and the bootstrap interval around it."""
    frame = RunFolder(run_dir).predictions()
    low, high = intervals(counts_of("text", frame, LABELS))["accuracy"]
    right = round((frame["gold"] == frame["predicted"]).mean() * 100)
    return f"Right on {right} of 100 texts it never saw (between {round(low * 100)} and {round(high * 100)})."


def visible_texts(node) -> list[str]:
    """The text of every element outside expanders (help texts are not part of it)."""
    kind = getattr(node, "type", "")
    if kind == "expander":
        return []
    found = []
    if kind in TEXT_KINDS and hasattr(node, "value"):
        found.append(str(node.value))
    for child in getattr(node, "children", {}).values():
        found += visible_texts(child)
    return found


def open_page(runs, monkeypatch, run_dir, name: str, lang: str | None = None):
    at = open_app(runs, monkeypatch, lang=lang)
    at.session_state[state.CURRENT_RUN] = str(run_dir)
    return at.switch_page(f"insight_ui/pages/{name}.py").run()


def test_evaluate_leads_with_the_plain_sentence_of_the_runs_own_scores(tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    run_dir = known_run(runs)
    at = open_page(runs, monkeypatch, run_dir, "evaluate")
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Evaluate"
    texts = [m.value for m in at.main.markdown]
    assert texts[0] == "How good is the model, and where does it go wrong?"  # the page's one-line question
    assert texts[1] == "#### " + expected_sentence(run_dir), texts[:3]  # then the sentence, before any tile
    assert texts[1].startswith("#### Right on 91 of 100 texts it never saw (between ")
    captions = " ".join(c.value for c in at.caption)
    assert "Measured on 100 test texts set aside before training: 91 right, 9 wrong." in captions
    tiles = {m.label: m for m in at.metric}
    assert tiles["Right answers"].value == "91%" and "Accuracy:" in tiles["Right answers"].help
    assert {"Accuracy", "Macro-F1", "Weighted F1", "Macro recall"} <= set(tiles), "one expander away"
    assert "See the Glossary" in tiles["Average over labels"].help


def test_evaluate_and_compare_keep_the_jargon_in_help_and_expanders(tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    rng = np.random.default_rng(1)
    gold = rng.choice(LABELS, 200).tolist()
    a = [g if rng.random() < 0.7 else rng.choice(LABELS) for g in gold]
    b = [g if rng.random() < 0.9 else x for g, x in zip(gold, a, strict=True)]
    first = fake_run(runs, "baseline", gold, a)
    fake_run(runs, "tuned", gold, b)
    for name in ("evaluate", "compare"):
        at = open_page(runs, monkeypatch, first, name)
        assert not at.exception, [e.value for e in at.exception]
        shown = " ".join(visible_texts(at.main)).lower()
        assert shown and not [word for word in JARGON if word in shown], (name, shown[:2000])
        hidden = " ".join(str(m.value) for m in at.markdown) + " ".join(str(c.value) for c in at.caption)
        if name == "compare":
            assert "McNemar" in hidden and "p = " in hidden, "the tests are one expander away"
            verdicts = [s.value for s in at.success]
            assert any(
                v.startswith("tuned is better than baseline on right answers") and "1 time in" in v
                for v in verdicts
            ), verdicts
        else:
            assert "bootstrap" in hidden, "the intervals' method is one expander away"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_glossary_renders_every_term_in_both_languages(lang, tmp_path, monkeypatch):
    at = open_app(tmp_path / "runs", monkeypatch, lang=lang)
    at = at.switch_page("insight_ui/pages/glossary.py").run()
    assert not at.exception, [e.value for e in at.exception]
    shown = [str(m.value) for m in at.markdown] + [str(c.value) for c in at.caption]
    with i18n.speaking(lang):
        assert at.title[0].value == i18n.tr("Glossary")
        for term, meaning, where in TERMS:
            assert f"**{i18n.tr(term)}**" in shown, term
            assert i18n.tr(meaning) in shown, meaning
            assert i18n.tr("Where: {where}", where=i18n.tr(where)) in shown, where
    if lang == "zh":
        assert re.search(r"[\u4e00-\u9fff]", at.title[0].value)
        assert untranslated(at, english_of_ours()) == []


def test_the_glossary_finds_a_word(tmp_path, monkeypatch):
    at = open_app(tmp_path / "runs", monkeypatch)
    at = at.switch_page("insight_ui/pages/glossary.py").run()
    at.text_input(key="glossary_find").set_value("bootstrap").run()
    names = [str(m.value) for m in at.markdown if str(m.value).startswith("**")]
    assert "**95% interval and bootstrap**" in names and "**Drift**" not in names


def test_the_run_pickers_give_the_headline_score_in_words():
    """The run list and the pickers on every result page say the score in words, never "macro-F1 0.912"."""
    from pathlib import Path

    from insight_ui.components.runs import headline_in_words
    from trainer.runs import RunInfo

    def info(task: str, metric: float | None) -> RunInfo:
        return RunInfo(
            "r", Path("r"), "first try", "finished", task, "default", None, None, "macro-F1", metric, None
        )

    assert headline_in_words(info("text-classification", 0.912)) == "average over labels 91%"
    assert headline_in_words(info("token-classification", 0.5)) == "entities found and right 50%"
    assert headline_in_words(info("text-classification", None)) == ""


def test_the_end_of_training_and_an_alert_say_their_figures_in_words_with_the_technical_ones_aside():
    from insight_ui.components import alert_rules, plain_words

    said, technical = plain_words.finished("text-classification", {"macro_f1": 0.97, "accuracy": 0.975})
    assert said == "Training finished: average over labels 97% on the test texts it never saw."
    assert technical == "macro-f1 0.970, accuracy 0.975" and "macro" not in said
    said, _ = plain_words.finished("token-classification", {"f1": 0.851})
    assert said == "Training finished: entities found and right 85% on the test sentences it never saw."
    assert plain_words.finished("text-classification", {}) == (
        "Training finished. See the results for how well it does.",
        None,
    )
    alert = {"count": 40, "n": 120, "label": "refund", "p_value": 5.0e-16}
    line = alert_rules.chance_in_words(alert)
    assert line.startswith(
        "40 of 120 texts predicted refund. Chance alone would give a jump like this less than 1 "
    )
    assert "p =" not in line and "Fisher" not in line and "e-16" not in line
    assert "about 0.4% of the time" in alert_rules.chance_in_words({**alert, "p_value": 0.004})
