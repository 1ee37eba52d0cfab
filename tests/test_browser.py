"""Real-browser runs of the whole flow: upload, train a tiny model, then Evaluate, Explain, Embeddings;
then the same with the named-entity sample (CoNLL).

Starts `streamlit run app.py` on a free port and drives Debian's Chromium with Playwright. Screenshots of
each page go to artifacts/screenshots/<page>.png.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser_kit import (
    chromium_page,
    fill,
    free_port,
    go,
    one_button,
    open_sample,
    serving_app,
    settle,
    shoot,
    start_streamlit,
    stop,
)
from cli_kit import trainer_cli
from helpers import sentiment_csv
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parent.parent
LONG = 180_000  # ms: the machine is slow and shared


@pytest.fixture(scope="module")
def browser_page():
    with chromium_page(LONG) as page:
        yield page


def train_a_few_steps(page, model_dir: Path, finished: str | re.Pattern) -> None:
    """On the Train page: the tiny backbone, 12 steps, Start; wait for the `finished` message."""
    go(page, "Train")
    fill(page, "Backbone model", str(model_dir))
    fill(page, "Learning rate", "0.001")
    page.get_by_text("Advanced settings").click()
    fill(page, "Max steps", "12")
    one_button(page, "Start training").click()
    page.get_by_text(finished).wait_for(timeout=LONG * 2)


CELL_CENTRE = """([row, col]) => {
    const gd = document.querySelector('.js-plotly-plot'), layout = gd._fullLayout, box = gd.getBoundingClientRect();
    return [box.left + layout._size.l + layout.xaxis.l2p(col), box.top + layout._size.t + layout.yaxis.l2p(row)];
}"""


def click_confusion_cells(page) -> None:
    """Click two cells of the confusion matrix; the list under it follows (labels are sorted)."""
    page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
    names = ["negative", "neutral", "positive"]
    for row, col in ((0, 1), (2, 0)):
        page.wait_for_timeout(500)
        x, y = page.evaluate(CELL_CENTRE, [row, col])
        page.mouse.click(x, y)
        page.get_by_text(f"true label “{names[row]}” predicted as “{names[col]}”").wait_for()
        settle(page)


def test_upload_train_and_explore_in_a_real_browser(app_server, browser_page, tiny_model_dir, tmp_path):
    page = browser_page
    page.goto(app_server)
    page.get_by_role("heading", name="Data", level=1).wait_for()
    settle(page)

    data = sentiment_csv(tmp_path / "reviews.csv", n=90)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(data))
    page.get_by_text("Data check").wait_for()
    page.get_by_text("Split preview").wait_for()
    settle(page)
    shoot(page, "data")

    train_a_few_steps(page, tiny_model_dir, "Training finished")
    page.get_by_role("heading", name="New run").wait_for()  # the page redrew once the job ended
    settle(page)
    shoot(page, "train")

    page.get_by_role("button", name="See the results").click()
    page.get_by_role("heading", name="Evaluate", level=1).wait_for()
    page.get_by_text("Confusion matrix").first.wait_for()
    page.locator(".js-plotly-plot").first.wait_for()
    settle(page)
    shoot(page, "evaluate")
    click_confusion_cells(page)

    go(page, "Explain")
    page.locator(".insight-heatmap .insight-word").first.wait_for()
    expect(page.locator(".insight-heatmap").first).to_be_visible()
    expect(page.get_by_text("pushes the model").first).to_be_visible()  # the colour legend
    settle(page)
    shoot(page, "explain")

    go(page, "Embeddings")
    page.get_by_text("After fine-tuning").first.wait_for(timeout=LONG * 2)
    page.locator(".js-plotly-plot").nth(1).wait_for()  # before and after, side by side
    settle(page)
    expect(page.locator(".js-plotly-plot").nth(1)).to_be_visible()
    expect(
        page.locator(".js-plotly-plot canvas.gl-canvas-context").nth(1)
    ).to_be_attached()  # WebGL, both maps
    page.get_by_text("All examples", exact=True).click()
    page.get_by_text(re.compile(r"90 examples\. A map of all 90 points, drawn with PCA")).wait_for(
        timeout=LONG * 2
    )
    settle(page)
    shoot(page, "embeddings")

    go(page, "Export")
    page.get_by_role("button", name="Download model (.zip)").wait_for()
    shoot(page, "export")


def test_the_entity_sample_trains_and_shows_spans_explanations_and_word_map(
    app_server, browser_page, tiny_model_dir
):
    page = browser_page
    open_sample(page, app_server, "News entities")  # a new session: nothing typed before carries over
    page.get_by_text("Entity types").first.wait_for()
    settle(page)
    shoot(page, "ner_data")

    train_a_few_steps(page, tiny_model_dir, re.compile(r"Training finished: entities found and right \d+%"))
    settle(page)
    shoot(page, "ner_train")

    page.get_by_role("button", name="See the results").click()
    page.get_by_role("heading", name="Evaluate", level=1).wait_for()
    page.get_by_text("Sentences: true and predicted entities").wait_for()
    page.locator(".insight-entities").first.wait_for()
    # the score leads in words (the technical "Entity F1" sits in the specialists' expander)
    expect(
        page.get_by_text(re.compile(r"Finds \d+ of 100 entities in sentences it never saw")).first
    ).to_be_visible()
    settle(page)
    shoot(page, "ner_evaluate")

    go(page, "Explain")
    page.locator(".insight-entities").first.wait_for()
    page.locator(".insight-heatmap .insight-word").first.wait_for()
    expect(page.get_by_text("Word to explain").first).to_be_visible()
    settle(page)
    shoot(page, "ner_explain")

    go(page, "Embeddings")
    page.get_by_text("After fine-tuning").first.wait_for(timeout=LONG * 2)
    page.locator(".js-plotly-plot").nth(1).wait_for()
    page.get_by_text("entity words").first.wait_for()
    settle(page)
    shoot(page, "ner_embeddings")


def test_a_job_keeps_running_when_the_app_restarts(browser_page, tiny_model_dir, tmp_path):
    """Start training, stop the server process, start the app again: the Train page finds the job.

    The job is paused (SIGSTOP) while the second server starts, so a fast machine cannot finish the 400
    tiny steps before the page looks; it is resumed once the page shows it running."""
    import contextlib
    import os
    import signal

    from trainer.jobs.manager import JobManager
    from trainer.runs import RunFolder

    runs_dir = tmp_path / "runs"
    env = {"INSIGHT_RUNS_DIR": str(runs_dir), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    page = browser_page
    port = free_port()
    first = start_streamlit("app.py", port, env)
    try:
        open_sample(page, f"http://127.0.0.1:{port}", "Product reviews")
        settle(page)
        go(page, "Train")
        fill(page, "Backbone model", str(tiny_model_dir))
        fill(page, "Run name (optional)", "survives a restart")
        page.get_by_text("Advanced settings").click()
        fill(page, "Max steps", "400")
        one_button(page, "Start training").click()
        page.get_by_text(re.compile(r"step \d+ of 400")).first.wait_for(timeout=LONG)
        manager = JobManager(runs_dir, schedule=False)
        (job,) = manager.jobs()
        group = os.getpgid(RunFolder(runs_dir / job.id).read_status().pid)
        os.killpg(group, signal.SIGSTOP)
    finally:
        stop(first)  # the web server goes away; the job's own process does not
    try:
        assert manager.snapshot(job.id).status == "running", "the job outlived the server"
        port = free_port()
        second = start_streamlit("app.py", port, env)
        try:
            page.goto(f"http://127.0.0.1:{port}")
            page.get_by_role("heading", name="Data", level=1).wait_for()
            settle(page)
            go(page, "Train")
            page.get_by_role("heading", name="survives a restart").wait_for()
            page.get_by_text(re.compile(r"step \d+ of 400")).first.wait_for()
            shoot(page, "train_after_restart")
            os.killpg(group, signal.SIGCONT)
            page.get_by_text("Training finished").wait_for(timeout=LONG * 2)
        finally:
            stop(second)
        assert manager.snapshot(job.id).status == "finished"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGCONT)
        if manager.snapshot(job.id).active:
            manager.cancel(job.id)
            manager.wait(job.id, 60)


@pytest.fixture(scope="module")
def review_runs(tmp_path_factory, tiny_model_dir):
    """Two runs on the reviews sample (same split): the real model briefly fine-tuned (40 steps), and the
    tiny random BERT (20 steps)."""
    runs = tmp_path_factory.mktemp("review-runs")
    sample = ROOT / "sample_data" / "product_sentiment.csv"
    for name, model, steps in (("tiny", str(tiny_model_dir), "20"), ("reviews", "default", "40")):
        done = trainer_cli("fit", sample, "--model", model, "--max-steps", steps, "--name", name, "--quiet",
                           runs_dir=runs, timeout=900)  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
    return runs


@pytest.fixture
def review_app(review_runs):
    with serving_app(review_runs) as url:
        yield url


def test_apply_scores_the_news_sample_and_shows_the_trend_and_the_planted_alert(browser_page, review_app):
    """The real model, briefly fine-tuned on the reviews sample, scores the market news sample; the Banking
    fraud week (20 July 2026) surfaces as an alert on negative news."""
    page = browser_page
    page.goto(review_app)
    page.get_by_role("heading", name="Data", level=1).wait_for()
    settle(page)
    go(page, "Apply")
    page.get_by_role("combobox", name="Run").click()
    page.get_by_role("option", name=re.compile(r"^reviews ")).click()
    settle(page)
    page.get_by_role("button", name="Market news headlines").click()
    page.get_by_text("market_news.csv: 1,783 rows").wait_for()
    settle(page)
    page.get_by_role("button", name=re.compile(r"^Score 1,783 rows")).click()
    # live progress while the job runs: each phase is named (a short phase may pass between two redraws, so
    # any of them will do)
    phases = r"Measuring how sure|Scoring the texts \(|Joining the scored rows|Looking for changes|Finding the words|Checking drift|Saving the results"
    page.get_by_text(re.compile(phases)).first.wait_for()
    page.get_by_role("heading", name=re.compile(r"^Alerts \(\d+\)")).wait_for(timeout=LONG * 4)
    settle(page)
    page.get_by_role("heading", name="Share of each label per week").wait_for()
    expect(page.locator(".js-plotly-plot").first).to_be_visible()  # the trend chart
    alert = page.get_by_text(re.compile(r"negative\s+in\s+Banking\s+in the week of 2026-07-20"))
    alert.first.wait_for()
    expect(page.get_by_text("Words behind it").first).to_be_visible()
    shoot(page, "apply")


def test_a_monitor_of_the_news_sample_grows_by_two_batches_and_shows_the_new_alert(
    browser_page, review_app, tmp_path
):
    """The market news sample split into weeks: the first batch is the weeks before the Banking fraud week,
    the second that week and the next; the trend grows and the new alert is announced."""
    import pandas as pd

    news = pd.read_csv(ROOT / "sample_data" / "market_news.csv", dtype=str)
    week = pd.to_datetime(news["published"]).dt.to_period("W-SUN").dt.start_time
    before, after = tmp_path / "news-before.csv", tmp_path / "news-fraud-weeks.csv"
    news[week < "2026-07-20"].to_csv(before, index=False)
    news[(week >= "2026-07-20") & (week <= "2026-07-27")].to_csv(after, index=False)
    page = browser_page
    page.goto(review_app)
    page.get_by_role("heading", name="Data", level=1).wait_for()
    settle(page)
    go(page, "Monitors")
    page.get_by_test_id("stFileUploader").filter(has_text="First batch").locator(
        "input[type=file]"
    ).set_input_files(str(before))
    page.get_by_role("combobox", name="Date column").wait_for()
    settle(page)
    fill(page, "Monitor name", "market-news")
    page.get_by_role("button", name="Create monitor").click()
    page.get_by_role("heading", name="market-news").wait_for(timeout=LONG * 2)
    settle(page)
    weeks = page.get_by_test_id("stMetric").filter(has_text="Weeks")
    expect(weeks).to_contain_text("7")
    expect(page.get_by_text("Batches received (1)")).to_be_visible()
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    shoot(page, "monitor_first_batch")
    page.get_by_test_id("stFileUploader").filter(has_text="Add a batch").locator(
        "input[type=file]"
    ).set_input_files(str(after))
    page.get_by_role("button", name="Add 1 file").click()
    page.get_by_text("Batches received (2)").wait_for(timeout=LONG * 2)
    settle(page)
    expect(weeks).to_contain_text("9")
    expect(page.get_by_text(re.compile(r"\d+ new alerts? since your last visit")).first).to_be_visible()
    alert = page.get_by_text(re.compile(r"negative\s+in\s+Banking\s+in the week of 2026-07-20"))
    expect(alert.first).to_be_visible()
    shoot(page, "monitor")


def test_compare_says_which_run_is_better_and_explains_a_disagreement_side_by_side(browser_page, review_app):
    page = browser_page
    page.goto(review_app)
    page.get_by_role("heading", name="Data", level=1).wait_for()
    settle(page)
    go(page, "Compare")
    page.get_by_text(re.compile(r"is better than .* on the average over labels")).first.wait_for()
    page.get_by_role("heading", name=re.compile(r"^Where they disagree \(\d+\)")).wait_for()
    expect(page.get_by_text("Settings that differ")).to_be_visible()
    shoot(page, "compare")
    page.get_by_role("button", name="Explain both").click()
    page.get_by_role("heading", name="Explain", level=1).wait_for()
    page.get_by_text("with two runs").wait_for()
    page.get_by_text("Predicted", exact=True).nth(1).wait_for()  # one prediction per run
    expect(page.locator(".insight-heatmap")).to_have_count(2)
    settle(page)
    shoot(page, "explain_side_by_side")


EVIL = "evil.example"
HOSTILE_RUN_NAME = '[Relogin](http://evil.example/login) ![b](http://evil.example/r.png) <img src="http://evil.example/i.png">'
DOM_LINKS = """(host) => {  // every attribute that makes the browser link to or fetch an address
    const fetching = ['href', 'xlink:href', 'src', 'srcset', 'action', 'formaction', 'poster', 'data', 'background'];
    const found = [];
    for (const e of document.querySelectorAll('*')) {
        for (const a of e.attributes) {
            const live = fetching.includes(a.name) || (a.name === 'style' && a.value.includes('url('));
            if (live && a.value.includes(host)) found.push(e.outerHTML.slice(0, 200));
        }
    }
    return found;
}"""


@pytest.fixture
def fresh_server(tmp_path):
    """A server of its own, over an empty runs folder: the run it trains is the only one."""
    with serving_app(tmp_path / "own-runs") as url:
        yield url


def test_markup_in_labels_texts_and_the_run_name_stays_text_on_every_page(
    fresh_server, browser_page, tiny_model_dir, tmp_path
):
    """A file whose labels and texts are Markdown links, images and HTML, trained under such a run name:
    no page puts a link or image from the data in the DOM, and the browser never asks for its addresses."""
    import sys

    sys.path.insert(0, str(ROOT / "tests" / "data" / "bad"))
    import shapes

    page = browser_page
    asked: list[str] = []

    def note(request) -> None:
        if EVIL in request.url:
            asked.append(request.url)

    page.on("request", note)
    page.goto(fresh_server)
    page.get_by_role("heading", name="Data", level=1).wait_for()
    settle(page)
    data = shapes.build("markup_labels", tmp_path)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(data))
    page.get_by_text("Data check").wait_for()
    settle(page)
    go(page, "Train")
    fill(page, "Run name (optional)", HOSTILE_RUN_NAME)
    train_a_few_steps(page, tiny_model_dir, "Training finished")
    settle(page)
    for title in ("Data", "Train", "Evaluate", "Explain", "Embeddings", "Compare", "Apply", "Export"):
        go(page, title)
        page.wait_for_timeout(1500)  # let charts and late fragments draw
        settle(page)
        assert page.evaluate(DOM_LINKS, EVIL) == [], f"{title}: a link, image or style from the data"
        if title in ("Evaluate", "Explain"):
            expect(
                page.get_by_text("Relogin").first
            ).to_be_attached()  # the hostile strings are there, as text
        shoot(page, f"hostile_{title.lower()}")
    page.remove_listener("request", note)
    assert asked == [], f"the browser asked for {asked[:3]}"
