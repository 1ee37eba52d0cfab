"""A newcomer's first afternoon in Debian's Chromium (issue 30): each numbered item as a person meets it.

1. a file's column choices do not leak into the next file, and Next opens Train;
2. the Train page says how long the first model takes before Start, in minutes measured here;
3. a text or id column chosen as the label is said in a short message, the page stays short;
6. Apply's drift verdict names the evidence that decided it; 7. a scoring's phase is said while it runs;
8. the words that matter are whole words, never punctuation or pieces of words;
9. a text run's likely label issues speak of texts, with no empty Word column.

One app (browser_kit's `serving_app`) over a runs folder holding one tiny run trained here on texts full of
apostrophes, punctuation and words the tokenizer cuts into pieces, with planted label issues, a finished
scoring and a scoring caught in its words phase; its speed cache starts empty, as on a fresh machine. Every
check waits with Playwright's expect (bounded by LONG).
"""

from __future__ import annotations

import random
import re
from dataclasses import asdict
from pathlib import Path

import pandas as pd
import pytest
from browser_kit import chromium_page, go, one_button, serving_app, settle
from helpers import NEGATIVE, NEUTRAL, POSITIVE
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect
from test_app_label_issues import plant
from test_app_languages import planted_scoring

from trainer.files import locks
from trainer.runs import RunFolder, load_run

ROOT = Path(__file__).resolve().parent.parent
LONG = 180_000  # ms: the machine is slow and shared
WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")  # a whole word of plain English text, "doesn't" included


def punctuated_texts(n: int = 120, seed: int = 0) -> pd.DataFrame:
    """Three separable labels; every text also holds "doesn't", a lone "%", "!" and words WordPiece cuts."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = ["positive", "negative", "neutral"][i % 3]
        words = {"positive": POSITIVE, "negative": NEGATIVE, "neutral": NEUTRAL}[label]
        a, b = rng.choice(words), rng.choice(words)
        rows.append({"text": f"{a} {b}! It doesn't feel 100 % refurbished, unboxing {i}", "label": label})
    return pd.DataFrame(rows)


def trained_run(runs: Path, model_dir: Path, tmp: Path) -> Path:
    from trainer.config import TrainConfig
    from trainer.prepare import prepare
    from trainer.runs import create_run
    from trainer.train.fit import fit

    source = tmp / "punctuated.csv"
    punctuated_texts().to_csv(source, index=False)
    data = prepare(source)
    run_dir = create_run(runs, "first afternoon")
    config = TrainConfig(model=str(model_dir), epochs=2, batch_size=16, learning_rate=1e-3)
    RunFolder(run_dir).write_inputs(config.to_dict(), data)
    fit(config, data, run_dir)
    return run_dir


def scoring_in_its_words_phase(run_dir: Path, tmp: Path) -> None:
    """A scoring whose rows are all scored and whose alerts' words are being found, by a live process
    (this one: the app checks that the process stamped on the job is alive)."""
    from trainer.apply.run_scoring import words_phase
    from trainer.runs.records import computation_name
    from trainer.runs.scoring import Scoring, Spec, scoring_name

    source = tmp / "arriving.csv"
    pd.DataFrame({"text": ["fine", "broken"]}).to_csv(source, index=False)
    spec = Spec(str(source), "text")
    scoring = Scoring(run_dir, scoring_name(source, asdict(spec)))
    scoring.write_spec(spec)
    name = computation_name("score", {"name": scoring.name})
    RunFolder(run_dir).write_computation(name, kind="score", params={"name": scoring.name}, status="running",
                                         **locks.stamp(), done=1, total=3, eta_seconds=40.0,
                                         phase=words_phase(3).to_dict())  # fmt: skip


@pytest.fixture(scope="module")
def newcomer(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path):
    tmp = tmp_path_factory.mktemp("newcomer")
    runs = tmp / "runs"
    run_dir = trained_run(runs, tiny_model_dir, tmp)
    plant(run_dir, [(0, None, 0.0001), (1, None, 0.37)], rows=681)
    planted_scoring(run_dir, tmp)
    scoring_in_its_words_phase(run_dir, tmp)
    env = {"INSIGHT_CACHE_DIR": str(tmp / "empty-cache")}  # nothing measured yet, as on a fresh machine
    with serving_app(runs, env=env, log=tmp / "streamlit.log") as url:
        yield url, run_dir, tmp


@pytest.fixture
def page():
    with chromium_page(LONG) as page:
        yield page


def open_data(page, url: str) -> None:
    page.goto(url)
    expect(page.get_by_role("heading", name="Data", level=1)).to_be_visible()
    settle(page)


def choose(page, box: str, option: str | re.Pattern) -> None:
    """Pick `option` (its whole text, or a pattern) in the selectbox labelled `box`. A redraw of the page
    can close the list before the click lands: then it is opened again (three tries)."""
    exact = {"exact": True} if isinstance(option, str) else {}
    target = page.get_by_role("option", name=option, **exact)
    for attempt in range(3):
        settle(page)
        page.get_by_role("combobox", name=box).click()
        try:
            target.click(timeout=15_000)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
            page.keyboard.press("Escape")
    settle(page)


def test_columns_follow_the_file_next_opens_train_and_the_estimate_comes_before_start(newcomer, page):
    url, _, tmp = newcomer
    product = pd.read_csv(ROOT / "sample_data" / "product_sentiment.csv")
    product.insert(0, "id", [f"R{1000 + i}" for i in range(len(product))])
    path = tmp / "with-ids.csv"
    product.rename(columns={"text": "review", "sentiment": "stars"}).to_csv(path, index=False)
    open_data(page, url)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
    expect(page.get_by_text("with-ids.csv (uploaded file)", exact=False)).to_be_visible()
    settle(page)

    # item 3: the id column as the label is one short message naming the likely label column
    choose(page, "Label column", "id")
    said = page.get_by_text("looks like text or an id", exact=False).first
    expect(said).to_be_visible()
    expect(said).to_contain_text("stars")
    expect(page.get_by_role("button", name=re.compile("^Drop the"))).to_have_count(0)
    tall = page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    assert tall < 4000, f"the page is {tall} px tall: a wall of text"

    # item 1: the sample gets its own columns, the check passes, Next opens Train
    page.get_by_role("button", name="Product reviews", exact=True).click()
    expect(page.get_by_text("product_sentiment.csv (sample)", exact=False)).to_be_visible()
    settle(page)
    expect(page.get_by_role("combobox", name="Text column")).to_have_value("text")
    expect(page.get_by_role("combobox", name="Label column")).to_have_value("sentiment")
    expect(page.get_by_text("No problems found", exact=False).first).to_be_visible()
    page.get_by_role("button", name="Next: choose settings and train").click()
    expect(page.get_by_role("heading", name="Train", level=1)).to_be_visible()

    # item 2: minutes before Start, measured on this computer (the cache was empty)
    expect(page.get_by_text(re.compile(r"^Quick first model \(about \d+ min\)$"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Best model \(no time limit, about \d+ min\)$"))).to_be_visible()
    expect(page.get_by_text("Times measured on this computer", exact=False)).to_be_visible()
    # the page redraws itself once the speed is measured: read once that run has ended, one button
    expect(one_button(page, "Start training", LONG)).to_be_enabled()


def test_apply_says_what_decided_its_verdict_and_which_phase_a_scoring_is_in(newcomer, page):
    url, _, _ = newcomer
    open_data(page, url)
    go(page, "Apply")
    choose(page, "Scored file", re.compile(r"^new\.csv · "))  # the finished scoring
    verdict = page.get_by_text("The new texts differ clearly", exact=False).first
    expect(verdict).to_be_visible()
    expect(verdict).to_contain_text("What decided it:")  # the evidence, with its size
    expect(verdict).to_contain_text("untrusted")

    choose(page, "Scored file", re.compile(r"^arriving\.csv · "))  # caught after its rows are scored
    expect(
        page.get_by_text(re.compile(r"^Finding the words behind 3 alerts \(1 of 3\), about .+ left$"))
    ).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Scoring \("))).to_have_count(0)


def test_evaluate_lists_texts_with_label_issues_and_explain_ranks_whole_words(newcomer, page):
    url, run_dir, _ = newcomer
    open_data(page, url)
    go(page, "Evaluate")
    expect(page.get_by_text(re.compile(r"^2 texts of 681 \(every split\)"))).to_be_visible()
    expect(page.get_by_text("words of", exact=False)).to_have_count(0)
    # the table draws on a canvas: its columns are read from its show/hide menu, as a person can
    table = page.get_by_text(re.compile(r"^2 texts of 681")).locator(
        "xpath=following::*[@data-testid='stDataFrame'][1]"
    )
    table.hover()
    menu = table.get_by_role("button", name="Show/hide columns")
    expect(menu).to_be_visible()
    # the grid's scroller can lie over its own toolbar while it redraws (Playwright then waits forever for
    # the pointer): the click goes to the button itself
    menu.dispatch_event("click")
    expect(page.get_by_role("checkbox", name="Text", exact=True)).to_have_count(1)
    expect(page.get_by_role("checkbox", name="How likely the given label is right")).to_have_count(1)
    expect(page.get_by_role("checkbox", name="Word", exact=True)).to_have_count(0)
    page.keyboard.press("Escape")

    go(page, "Explain")
    page.get_by_role("button", name="Find the words that matter").click()
    charts = page.locator(".js-plotly-plot").filter(has_text="Toward")
    expect(charts.first).to_be_visible()
    settle(page)
    ticks = charts.locator(".ytick text").evaluate_all("texts => texts.map(t => t.textContent)")
    shown = [t.strip().lower() for t in ticks if t and t.strip()]
    texts = " ".join(load_run(run_dir).split("test")["text"].str.lower())
    words = set(WORD.findall(texts))
    assert shown, "the charts list words"
    assert not {"'", "t", "doesn", "%", "!", ","} & set(shown), shown
    assert set(shown) <= words, f"not whole words of the texts: {set(shown) - words}"
