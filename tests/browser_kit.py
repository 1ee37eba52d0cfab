"""Shared by the browser tests and the browser benchmarks (bench/): Chromium, a Streamlit server, waits;
the `app_server` fixture (the app over an empty runs folder), which tests/conftest.py registers.

The bench scripts put tests/ on sys.path to import this; nothing here imports the app.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"  # Debian's package (make chromium)
CLICK_AGAIN_MS = 60_000  # a sidebar link clicked again when its page has not begun to draw by then (go)
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def streamlit_args(script: str | Path, port: int) -> list[str]:
    """The arguments after `streamlit`: run `script` headless on 127.0.0.1:`port`."""
    return [
        "run",
        str(script),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
    ]


def start_streamlit(
    script: str | Path,
    port: int,
    env: dict[str, str],
    output=subprocess.DEVNULL,
    launcher: list[str] | None = None,
    timeout: float = 120,
    extra: list[str] = (),
) -> subprocess.Popen:
    """Start `streamlit run script` (or `launcher` + its arguments, then `extra` flags) and wait until it
    is healthy."""
    command = (launcher or [sys.executable, "-m", "streamlit"]) + streamlit_args(script, port) + list(extra)
    proc = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **env}, stdout=output, stderr=subprocess.STDOUT, text=True
    )
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early with {proc.returncode}; see its output")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as answer:
                if answer.read().strip() == b"ok":
                    return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"streamlit did not become healthy within {timeout:.0f} s")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()


@contextlib.contextmanager
def serving_app(runs_dir: str | Path, env: dict[str, str] | None = None, log: Path | None = None):
    """`streamlit run app.py` on a free port over `runs_dir` (offline, plus `env`); yields its address and
    stops it afterwards. With `log`, the server's output goes there and its tail is printed at the end."""
    env = {
        "INSIGHT_RUNS_DIR": str(runs_dir),
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        **(env or {}),
    }
    port = free_port()
    output = log.open("w+") if log else subprocess.DEVNULL
    try:
        proc = start_streamlit("app.py", port, env, output=output)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            stop(proc)
    finally:
        if log:
            output.seek(0)
            print(output.read()[-5000:])
            output.close()


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory):
    """The app over an empty runs folder of its own, one per test module (its output printed at the end).
    Registered for every test module by tests/conftest.py (`pytest_plugins`)."""
    runs = tmp_path_factory.mktemp("browser-runs")
    with serving_app(runs, log=tmp_path_factory.mktemp("log") / "streamlit.log") as url:
        yield url


def settle(page, timeout: int = 180_000) -> None:
    """Wait until Streamlit has finished running the script (no 'Running…' status widget, no spinner)."""
    page.wait_for_timeout(500)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=timeout)
    page.locator('[data-testid="stSpinner"]').first.wait_for(state="hidden", timeout=timeout)
    page.wait_for_timeout(300)


def go(page, title: str, timeout: int = 180_000) -> None:
    """Open a page from the sidebar and wait until it is drawn. A click can be lost while the page before
    still draws (a live fragment redrawing under the pointer, on a loaded machine): as a person would, the
    link is clicked again when its page has not begun to draw within CLICK_AGAIN_MS, until `timeout`."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    link = page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True)
    heading = page.get_by_role("heading", name=title, level=1)
    deadline = time.monotonic() + timeout / 1000
    while True:
        link.click()
        try:
            heading.wait_for(timeout=min(CLICK_AGAIN_MS, max(1000, (deadline - time.monotonic()) * 1000)))
            break
        except PlaywrightTimeout:
            if time.monotonic() >= deadline:
                raise
    settle(page, timeout)


def fill(page, label: str, value: str, timeout: int = 180_000) -> None:
    """Type into the text or number box labelled `label` and submit it."""
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")
    settle(page, timeout)


def one_button(page, button: str, timeout: int = 180_000):
    """The button named `button`, once the page's run has ended and it shows exactly one. While a run of
    the page is under way Streamlit can still show the run before's button beside the new one (a
    strict-mode failure that Playwright does not retry; the newcomer's Start button, CI, 2026-12-08)."""
    from playwright.sync_api import expect

    settle(page, timeout)
    target = page.get_by_role("button", name=button, exact=True)
    expect(target).to_have_count(1, timeout=timeout)
    return target


def open_sample(page, url: str, button: str, timeout: int = 180_000) -> None:
    """A fresh session on the Data page, then one click on the sample called `button`."""
    page.goto(url)
    page.get_by_role("heading", name="Data", level=1).wait_for(timeout=timeout)
    settle(page, timeout)
    page.get_by_role("button", name=button, exact=True).click()
    page.get_by_text("Data check", exact=True).first.wait_for(timeout=timeout)  # not a sample's note


SHOTS = ROOT / "artifacts" / "screenshots"


@contextlib.contextmanager
def chromium_page(timeout_ms: int, locale: str | None = None):
    """One page of Debian's Chromium (headless, a throwaway profile, `locale` as the browser's language);
    every Playwright check waits up to `timeout_ms`. Fails plainly when Chromium is not installed."""
    from playwright.sync_api import expect, sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run `make chromium` (apt-get install chromium) first.", pytrace=False
        )
    profile = tempfile.mkdtemp(prefix="insight-chromium-")
    extra = {"locale": locale} if locale else {}
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=FLAGS, viewport={"width": 1400, "height": 1000},
            **extra,
        )  # fmt: skip
        context.set_default_timeout(timeout_ms)
        expect.set_options(
            timeout=timeout_ms
        )  # every check of what is on screen waits for it, never samples once
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


def shoot(page, name: str) -> None:
    """A full-page screenshot: Streamlit scrolls inside its main container, so grow the viewport first."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    height = page.evaluate("document.querySelector('[data-testid=\"stMain\"]')?.scrollHeight || 0")
    page.set_viewport_size({"width": size["width"], "height": min(max(size["height"], height + 40), 8000)})
    page.wait_for_timeout(800)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    page.set_viewport_size(size)
