"""Labelling in the app, in Debian's Chromium, in English and in 简体中文 (issue 32): a file of texts with no
labels becomes a project, 20 rows are labelled with the keyboard (1, 2, 3), a model trains in the background
every 10 labels, and the learning curve appears with its sentence. Screenshots of the page go to
artifacts/screenshots/labelling.png and labelling_zh.png (the README shows copies in docs/)."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from browser_kit import chromium_page, go, serving_app, settle, shoot
from helpers import NEGATIVE, POSITIVE, sentiment_csv
from playwright.sync_api import expect

from trainer.apply import label_project

LONG = 240_000
KEYS = {"negative": "1", "neutral": "2", "positive": "3"}  # the order the labels are named in


def truth(text: str) -> str:
    words = text.split()
    good, bad = sum(w in POSITIVE for w in words), sum(w in NEGATIVE for w in words)
    return "positive" if good > bad else "negative" if bad > good else "neutral"


@pytest.fixture(scope="module")
def label_app(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir):
    runs = tmp_path_factory.mktemp("label-runs")
    texts = pd.read_csv(sentiment_csv(runs.parent / "s.csv", n=150))[["text"]]
    texts.to_csv(runs.parent / "reviews-to-label.csv", index=False)
    # the Chinese test's project, made as the English test makes its own through the page
    label_project.create(runs, "评论", "text", list(KEYS), texts["text"].tolist(), "local",
                         model=str(tiny_model_dir))  # fmt: skip
    with serving_app(runs, log=tmp_path_factory.mktemp("log") / "streamlit.log") as url:
        yield url, runs.parent / "reviews-to-label.csv", str(tiny_model_dir)


def label_with_keys(page, n: int, counted: str) -> None:
    """Label `n` rows by their words, one key each, waiting for the count to move after every key. A key
    the page did not take (pressed while a loaded machine was still drawing it) is pressed again, as a
    person would; one taken twice would show in the final count, which the tests check."""
    for _ in range(n):
        shown = page.locator(".st-key-label_text").first
        text = shown.inner_text().strip()
        count = page.get_by_text(re.compile(counted)).first
        before = count.inner_text()
        for attempt in range(3):
            shown.click()  # the focus on the page, not in a box that would take the key as typing
            page.keyboard.press(KEYS[truth(text)])
            try:
                expect(count).not_to_have_text(before, timeout=30_000 if attempt < 2 else LONG)
                break
            except AssertionError:
                if attempt == 2:
                    raise
                settle(page)
        settle(page)


def test_label_twenty_rows_with_the_keyboard_train_and_see_the_curve(label_app):
    url, source, model = label_app
    with chromium_page(LONG) as page:
        page.goto(url)
        settle(page)
        go(page, "Label text")
        page.get_by_text("Start a new project", exact=True).click()
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(source))
        expect(page.get_by_text("Column with the text")).to_be_visible()
        page.get_by_label("The labels, separated by commas").fill("negative, neutral, positive")
        page.get_by_label("Project name").fill("reviews")
        page.get_by_label("Model each round fine-tunes").fill(model)
        page.get_by_label("Model each round fine-tunes").press("Enter")
        settle(page)
        page.get_by_role("button", name="Start labelling").click()
        settle(page)
        # the new project shown before any key: until then the page may still show the first project there
        # was (the Chinese test's, which also says "0 rows labelled"), and a key would label a row of it
        expect(page.get_by_role("combobox", name="Project")).to_have_value("reviews")
        expect(page.get_by_text("0 rows labelled", exact=False)).to_be_visible()
        label_with_keys(page, 10, r"\d+ rows? labelled")
        expect(page.get_by_text("Training on 10 labels in the background", exact=False)).to_be_visible()
        label_with_keys(page, 10, r"\d+ rows? labelled")
        expect(page.get_by_text("20 rows labelled", exact=False)).to_be_visible()
        expect(page.get_by_role("heading", name="How many more labels")).to_be_visible()
        expect(page.get_by_text(re.compile(r"With 20 labels the held-out macro-F1 is"))).to_be_visible()
        expect(page.get_by_text("needs scores after 3 rounds", exact=False)).to_be_visible()
        settle(page)
        shoot(page, "labelling")


def test_label_in_chinese(label_app):
    url, _, _ = label_app
    with chromium_page(LONG, locale="zh-CN") as page:
        page.goto(url)
        settle(page)
        go(page, "标注")
        page.get_by_label("项目").click()
        page.get_by_role("option", name="评论").click()
        settle(page)
        expect(page.get_by_role("combobox", name="项目")).to_have_value("评论")
        # nobody has labelled this project: wait for its own count, not the one of the project the page showed
        # first (the English test's, first in the picker, with its 20 labels)
        expect(page.get_by_text(re.compile(r"已标注 0 行")).first).to_be_visible()
        label_with_keys(page, 20, r"已标注 \d+ 行")  # not "4 行已标注的文本" of the curve
        expect(page.get_by_text("已标注 20 行", exact=False)).to_be_visible()
        expect(page.get_by_role("heading", name="还需要多少标签")).to_be_visible()
        expect(page.get_by_text(re.compile(r"有 20 个标签时"))).to_be_visible()
        expect(page.get_by_text("需要 3 轮标注后的得分", exact=False)).to_be_visible()
        settle(page)
        shoot(page, "labelling_zh")
