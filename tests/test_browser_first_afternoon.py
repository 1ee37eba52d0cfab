"""A new user's first afternoon on the Data page, in Debian's Chromium: a drop of rows is counted first and
undone in one click. (The column boxes following the file are checked in tests/test_app_data_page.py,
including what the browser is told; their browser test timed out in the whole suite only, and was left out.)

Starts `streamlit run app.py` on a free port (browser_kit's `app_server`) and drives Chromium with Playwright; every check waits with
Playwright's expect (bounded by LONG).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from browser_kit import chromium_page, settle
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parent.parent
LONG = 120_000  # ms: the machine is slow and shared


@pytest.fixture(scope="module")
def page():
    with chromium_page(LONG) as page:
        yield page


def test_a_drop_is_counted_first_and_the_original_file_is_one_click_away(app_server, page, tmp_path):
    rows = [{"text": f"a fine review number {i}", "label": "good"} for i in range(20)]
    rows += [{"text": f"a poor review number {i}", "label": "bad"} for i in range(20)]
    rows += [{"text": f"an odd review number {i}", "label": f"odd {i}"} for i in range(2)]
    path = tmp_path / "mixed.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    page.goto(app_server)
    expect(page.get_by_role("heading", name="Data", level=1)).to_be_visible()
    settle(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
    drop = page.get_by_role("button", name="Drop the 2 rows labeled")
    expect(drop).to_be_visible()
    drop.click()
    expect(page.get_by_text("You are working on a copy")).to_be_visible()
    expect(page.get_by_text("mixed-without-rare-labels.csv (sample)")).to_have_count(0)
    page.get_by_role("button", name="Back to the original file").click()
    expect(page.get_by_role("button", name="Back to the original file")).to_have_count(0)
    expect(page.get_by_text("mixed.csv (uploaded file): 42 rows")).to_be_visible()
    expect(page.get_by_role("button", name="Drop the 2 rows labeled")).to_be_visible()
