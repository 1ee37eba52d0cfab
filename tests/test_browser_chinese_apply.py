"""Apply in 简体中文 in Debian's Chromium: a finished scoring (its drift verdict stored in English by the
scoring process) is said in Chinese under the drift tiles, the scored rows are headed in Chinese, and the
alert's explain button has a name a screen reader reads.

Starts `streamlit run app.py` over a runs folder of its own (browser_kit's `serving_app`); every check waits
with Playwright's expect (bounded by LONG)."""

from __future__ import annotations

import pytest
from browser_kit import chromium_page, serving_app, settle
from helpers import LABELS, fake_run
from playwright.sync_api import expect
from test_app_languages import planted_scoring

LONG = 120_000  # ms: the machine is slow and shared


@pytest.fixture(scope="module")
def apply_app(tmp_path_factory: pytest.TempPathFactory):
    runs = tmp_path_factory.mktemp("zh-apply-runs")
    run = fake_run(runs, "reviews", LABELS * 4, LABELS * 4)
    planted_scoring(run, tmp_path_factory.mktemp("zh-apply-data"))
    with serving_app(runs, log=tmp_path_factory.mktemp("log") / "streamlit.log") as url:
        yield url


def test_apply_says_a_finished_scorings_drift_in_chinese(apply_app):
    with chromium_page(LONG, locale="zh-CN") as page:
        page.goto(f"{apply_app}/apply?lang=zh")
        page.get_by_role("heading", name="应用", level=1).wait_for()
        settle(page)
        verdict = page.get_by_text("新文本与训练数据明显不同", exact=False).first
        expect(verdict).to_be_visible()
        expect(verdict).to_contain_text("不可信文本")
        expect(page.get_by_text("The new texts differ clearly")).to_have_count(0)
        expect(page.get_by_text("What decided it")).to_have_count(0)
