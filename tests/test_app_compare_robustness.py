"""Compare's "Small changes that should not matter": two runs with saved behavioural results get a sentence per
family (a planted improvement called clear, no difference called chance) and what it cost in right answers;
a run without results gets one caption that names it and the Evaluate page, and nothing else."""

from __future__ import annotations

from app_kit import open_app
from helpers import LABELS, fake_run
from test_app_languages import english_of_ours, untranslated
from test_inspect_compare_robustness import planted

from insight_ui import state
from trainer.inspect import compare_robustness as robustness
from trainer.runs import RunFolder

PAGE = "insight_ui/pages/compare.py"


def two_runs(tmp_path, with_results: tuple[bool, bool]):
    gold = [LABELS[i % 3] for i in range(200)]
    predicted = [g if i % 10 else LABELS[(i + 1) % 3] for i, g in enumerate(gold)]  # 180 of 200 right
    runs = tmp_path / "runs"
    first = fake_run(runs, "plain", gold, predicted)
    worse = [g if i % 10 and i % 20 != 5 else LABELS[(i + 1) % 3] for i, g in enumerate(gold)]  # 170 right
    second = fake_run(runs, "augmented <b>x</b>", gold, worse)
    for run, keep, found in zip((first, second), with_results, planted(), strict=True):
        if keep:
            RunFolder(run).write_robustness(found)
    return runs, first


def open_compare(runs, first, monkeypatch, lang: str | None = None):
    at = open_app(runs, monkeypatch, run=False, lang=lang)
    at.session_state[state.CURRENT_RUN] = str(first)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_compare_says_per_family_whether_small_changes_matter_less_and_what_it_cost(tmp_path, monkeypatch):
    runs, first = two_runs(tmp_path, (True, True))
    at = open_compare(runs, first, monkeypatch)
    assert "Small changes that should not matter" in [s.value for s in at.subheader]
    typos = next(f for f in robustness.compare(*planted(), shared_split=True).families if f.name == "typos")
    low, high = round(-typos.high * 100), round(-typos.low * 100)
    expected = (
        "**A typing slip in one word in ten**: changed the answer on 30% of texts before and 5% after (a drop "
        f"of 25 points, likely between {low} and {high}); with this many texts, a difference this large would "
        "happen by chance less than 1 time in 1,000."
    )
    assert expected in [s.value for s in at.success], [s.value for s in at.success]
    infos = [i.value for i in at.info]
    assert any(
        i.startswith("**Capital letters changed**: changed the answer on 16% of texts before and 16% after")
        and i.endswith("Not clearly different: this could be chance.")
        for i in infos
    ), infos
    markdown = [m.value for m in at.markdown]
    assert any(m.startswith("**What it cost in right answers**: 90% before and 85% after (a drop of 5 points")
               for m in markdown), markdown  # fmt: skip
    captions = " ".join(c.value for c in at.caption)
    assert "at most 1 in 20 is expected to be chance" in captions
    assert "McNemar" in captions, "the tests wait in the expander"
    assert "separate sample" not in captions, "both records followed the same texts"


def test_compare_says_in_one_caption_which_run_has_no_results(tmp_path, monkeypatch):
    runs, first = two_runs(tmp_path, (True, False))
    at = open_compare(runs, first, monkeypatch)
    assert "Small changes that should not matter" in [s.value for s in at.subheader]
    captions = [c.value for c in at.caption if "small changes" in c.value.lower()]
    assert len(captions) == 1, captions
    (caption,) = captions
    assert caption.startswith("No small changes have been tried on augmented \\<b\\>x\\</b\\> yet")
    assert "Evaluate page" in caption and "Try small changes" in caption
    shown = [b.value for b in [*at.success, *at.info, *at.warning]]
    assert not [s for s in shown if "changed the answer on" in s], shown
    assert not [m.value for m in at.markdown if "What it cost" in m.value]
    assert not [b for b in at.button if b.label == "Try small changes"], "the button lives on Evaluate"


def test_the_section_speaks_chinese(tmp_path, monkeypatch):
    runs, first = two_runs(tmp_path, (True, True))
    at = open_compare(runs, first, monkeypatch, lang="zh")
    assert "本不该有影响的小改动" in [s.value for s in at.subheader]
    assert any(s.value.startswith("**") and "下降 25 个百分点" in s.value for s in at.success), [
        s.value for s in at.success
    ]
    assert untranslated(at, english_of_ours()) == []
