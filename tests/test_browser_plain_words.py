"""Results in plain words in Debian's Chromium (issue 30, item 5): Evaluate leads with the sentence of a
run whose scores are known, and the Glossary opens from the sidebar.

Starts `streamlit run app.py` on a free port over a runs folder holding one faked run (browser_kit's
`serving_app`, as the `app_server` fixture does) and drives Chromium with Playwright; every check waits
with Playwright's expect (bounded by LONG).
"""

from __future__ import annotations

import pytest
from browser_kit import chromium_page, go, serving_app, settle
from helpers import LABELS, fake_run
from playwright.sync_api import expect

from trainer.evaluate.uncertainty import counts_of, intervals
from trainer.runs import RunFolder

LONG = 120_000  # ms: the machine is slow and shared


@pytest.fixture(scope="module")
def known_app(tmp_path_factory: pytest.TempPathFactory):
    """The app over a runs folder with one text run: 91 of 100 test texts right."""
    runs = tmp_path_factory.mktemp("browser-runs")
    gold = [LABELS[i % 3] for i in range(100)]
    predicted = [g if i < 91 else LABELS[(LABELS.index(g) + 1) % 3] for i, g in enumerate(gold)]
    run_dir = fake_run(runs, "known", gold, predicted)
    low, high = intervals(counts_of("text", RunFolder(run_dir).predictions(), LABELS))["accuracy"]
    sentence = f"Right on 91 of 100 texts it never saw (between {round(low * 100)} and {round(high * 100)})."
    with serving_app(runs, log=tmp_path_factory.mktemp("log") / "streamlit.log") as url:
        yield url, sentence


def test_evaluate_leads_with_the_plain_sentence_and_the_glossary_opens(known_app):
    url, sentence = known_app
    with chromium_page(LONG) as page:
        page.goto(url)
        expect(page.get_by_role("heading", name="Data", level=1)).to_be_visible()
        settle(page)
        go(page, "Evaluate")
        expect(page.get_by_text(sentence, exact=True)).to_be_visible()
        expect(page.get_by_text("Right answers", exact=True)).to_be_visible()
        go(page, "Glossary")
        expect(page.get_by_role("heading", name="Glossary", level=1)).to_be_visible()
        expect(page.get_by_text("95% interval and bootstrap", exact=True)).to_be_visible()
