"""Where the model breaks, in Debian's Chromium in English and in 简体中文 (issue 31): Evaluate says the group
of texts the model trips on with its range and the false-discovery rate, and how often each small change
changed the answer, with the form for a person's own rule. Screenshots of the section go to
artifacts/screenshots/robustness.png and robustness_zh.png (the README shows copies in docs/)."""

from __future__ import annotations

import pytest
from browser_kit import SHOTS, chromium_page, go, serving_app, settle
from helpers import LABELS, fake_run
from playwright.sync_api import expect

from trainer.runs import RunFolder

LONG = 180_000
FILLER = ["box", "arrived", "today", "screen", "battery", "colour", "price", "delivery", "size", "manual"]


def family(name: str, changed: int, failed: int, low: float, high: float, examples: list) -> dict:
    return {"name": name, "kind": "invariance", "language": "en", "changed": changed, "failed": failed,
            "fail_rate": failed / changed if changed else 0.0, "ci_low": low, "ci_high": high,
            "mean_probability_change": -0.03, "examples": examples}  # fmt: skip


@pytest.fixture(scope="module")
def weak_app(tmp_path_factory: pytest.TempPathFactory):
    """A run that trips on 'refund' (15 of 30 wrong) whose small changes were tried (typos: 9 of 120)."""
    runs = tmp_path_factory.mktemp("browser-runs")
    gold = [LABELS[i % 3] for i in range(120)]
    texts = [
        f"{'refund' if i % 4 == 0 else 'parcel'} {FILLER[i % 10]} {FILLER[(i + 3) % 10]}" for i in range(120)
    ]
    predicted = [LABELS[(LABELS.index(g) + 1) % 3] if i % 4 == 0 and i % 8 else g for i, g in enumerate(gold)]
    run_dir = fake_run(runs, "weak", gold, predicted, texts=texts)
    flipped = {"original": texts[4], "perturbed": texts[4].replace("refund", "refnud"), "before": predicted[4],
               "after": gold[4], "probability_change": -0.41}  # fmt: skip
    RunFolder(run_dir).write_robustness({"seed": 0, "split": "test", "tests": [
        family("typos", 120, 9, 0.04, 0.14, [flipped]), family("case", 120, 0, 0.0, 0.03, []),
        family("names", 0, 0, 0.0, 1.0, []), family("width", 0, 0, 0.0, 1.0, [])]})  # fmt: skip
    with serving_app(runs, log=tmp_path_factory.mktemp("log") / "streamlit.log") as url:
        yield url


def section_shot(page, heading: str, last: str, name: str) -> None:
    """A screenshot of the section from its heading to the element reading `last`."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    top = page.get_by_role("heading", name=heading).first
    top.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(800)
    start, end = top.bounding_box(), page.get_by_text(last, exact=True).first.bounding_box()
    x = max(0, start["x"] - 24)
    clip = {"x": x, "y": max(0, start["y"] - 16), "width": page.viewport_size["width"] - x - 24,
            "height": end["y"] + end["height"] + 24 - max(0, start["y"] - 16)}  # fmt: skip
    page.screenshot(path=str(SHOTS / f"{name}.png"), clip=clip)


def test_evaluate_says_where_the_model_breaks_in_english(weak_app):
    with chromium_page(LONG) as page:
        page.set_viewport_size({"width": 1400, "height": 1000})
        page.goto(weak_app)
        expect(page.get_by_role("heading", name="Data", level=1)).to_be_visible()
        settle(page)
        go(page, "Evaluate")
        expect(page.get_by_role("heading", name="Where it does worse")).to_be_visible()
        expect(page.get_by_text("Texts with “refund”", exact=True).first).to_be_visible()
        expect(page.get_by_text("wrong on 15 of 30 (50%; likely between", exact=False).first).to_be_visible()
        expect(
            page.get_by_text("at most 1 in 20 is expected to be chance", exact=False).first
        ).to_be_visible()
        expect(page.get_by_text("A typing slip in one word in ten", exact=True).first).to_be_visible()
        said = "changes the answer on 9 of 120 texts (8%; likely between 4% and 14%)"
        expect(page.get_by_text(said, exact=False).first).to_be_visible()
        expect(
            page.get_by_text("Not tried, since no test text can be changed that way", exact=False)
        ).to_be_visible()
        expect(page.get_by_text("Add your own rule", exact=True)).to_be_visible()
        settle(page)
        section_shot(page, "Where it does worse", "Add your own rule", "robustness")


def test_evaluate_says_where_the_model_breaks_in_chinese(weak_app):
    with chromium_page(LONG, locale="zh-CN") as page:
        page.set_viewport_size({"width": 1400, "height": 1000})
        page.goto(weak_app)
        expect(page.get_by_role("heading", name="数据", level=1)).to_be_visible()
        settle(page)
        go(page, "评估")
        expect(page.get_by_role("heading", name="模型在哪里表现更差")).to_be_visible()
        expect(page.get_by_text("含“refund”的文本", exact=False).first).to_be_visible()
        expect(page.get_by_text("每十个词中有一个打错字", exact=False).first).to_be_visible()
        expect(page.get_by_text("本不该有影响的小改动", exact=True)).to_be_visible()
        expect(page.get_by_text("Where it does worse", exact=True)).to_have_count(0)
        settle(page)
        section_shot(page, "模型在哪里表现更差", "添加你自己的规则", "robustness_zh")
