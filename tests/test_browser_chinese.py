"""The app in 简体中文 in a real browser: Chromium with zh-CN as its language opens every page in Chinese;
Chinese reviews stop at the data check with the default model and pass with a model that reads Chinese,
picked from the model root; the switch turns the app to English and back. Screenshots of the Chinese Data,
Explain and Monitors pages go to artifacts/screenshots/*_zh.png (the README shows copies in docs/)."""

from __future__ import annotations

import csv
import re

import pytest
from browser_kit import chromium_page, go, serving_app, settle, shoot
from chinese_kit import REVIEWS, build_chinese_bert
from cli_kit import trainer_cli
from playwright.sync_api import expect

LONG = 180_000
PAGES_ZH = ["训练", "评估", "解释", "嵌入", "比较", "应用", "监控", "导出"]


@pytest.fixture(scope="module")
def chinese_app(tmp_path_factory: pytest.TempPathFactory):
    """A model root with a tiny Chinese BERT, a run of it on the Chinese reviews, a monitor of dated
    Chinese reviews, and the app serving them."""
    root = tmp_path_factory.mktemp("models")
    model = build_chinese_bert(root / "tiny-chinese-bert")
    runs = tmp_path_factory.mktemp("zh-runs")
    env = {"INSIGHT_RUNS_DIR": str(runs), "INSIGHT_MODELS": str(root), "HF_HUB_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false"}  # fmt: skip
    done = trainer_cli("fit", REVIEWS, "--model", model, "--max-steps", "20", "--name", "中文评论", "--quiet",
                       runs_dir=runs, env=env, timeout=900)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    dated = tmp_path_factory.mktemp("zh-data") / "reviews-dated.csv"
    with REVIEWS.open(encoding="utf-8") as fh, dated.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["date", "text"])
        for i, row in enumerate(csv.DictReader(fh)):
            writer.writerow([f"2026-{6 + i // 120:02d}-{1 + (i % 120) // 4:02d}", row["text"]])
    for command in (["monitor", "create", "评论监控", "--run", "中文评论", "--text-column", "text", "--time-column", "date"],
                    ["monitor", "add", "评论监控", dated]):  # fmt: skip
        done = trainer_cli(*command, runs_dir=runs, env=env)
        assert done.returncode == 0, done.stderr[-3000:]
    with serving_app(runs, env) as url:
        yield url


@pytest.fixture(scope="module")
def chinese_browser():
    with chromium_page(LONG, locale="zh-CN") as page:
        yield page


def test_a_chinese_browser_gets_every_page_in_chinese_and_the_switch_turns_it_to_english_and_back(
    chinese_app, chinese_browser
):
    page = chinese_browser
    page.goto(chinese_app)
    page.get_by_role("heading", name="数据", level=1).wait_for()
    settle(page)
    expect(page).to_have_url(re.compile(r"lang=zh"))
    page.get_by_role("button", name="中文评论", exact=True).click()
    page.get_by_role("heading", name="数据检查").wait_for()
    settle(page)
    stop_sentence = page.get_by_text(re.compile(r"默认模型（all-MiniLM-L6-v2）读不懂"))
    expect(stop_sentence.first).to_be_visible()
    page.get_by_text(re.compile(r"tiny-chinese-bert（可读：中文")).first.click()
    settle(page)
    expect(stop_sentence).to_have_count(0)
    expect(page.get_by_label("用于检查的模型", exact=True)).to_have_value(re.compile(r"tiny-chinese-bert$"))
    shoot(page, "data_zh")
    for title in PAGES_ZH:
        go(page, title)
        if title == "解释":
            expect(page.locator(".insight-heatmap").first).to_be_visible()
            shoot(page, "explain_zh")
        if title == "监控":
            page.get_by_role("heading", name="评论监控").first.wait_for()
            expect(page.locator(".js-plotly-plot").first).to_be_visible()
            shoot(page, "monitor_zh")
    page.locator('[data-testid="stSidebar"]').get_by_text("English", exact=True).click()
    page.get_by_role("heading", name="Export", level=1).wait_for()
    expect(page).to_have_url(re.compile(r"lang=en"))
    expect(page.locator('[data-testid="stSidebarNav"]').get_by_text("Monitors", exact=True)).to_be_visible()
    settle(page)
    page.locator('[data-testid="stSidebar"]').get_by_text("简体中文", exact=True).click()
    page.get_by_role("heading", name="导出", level=1).wait_for()
    expect(page).to_have_url(re.compile(r"lang=zh"))
