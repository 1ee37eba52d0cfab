"""First render of the landing page in a real browser, against a bare one-line Streamlit page.

Starts each app with `streamlit run` on a free port, opens it in Debian's Chromium (Playwright),
and times from navigation to the first visible heading. Each app is measured on a fresh server
(cold: the first visitor after a start) and then again on the warm server.

    python bench/bench_render.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(script: Path, port: int, runs_dir: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "INSIGHT_RUNS_DIR": runs_dir},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).read() == b"ok":
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{script} did not start")


def time_render(context, url: str) -> float:
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url)
    page.locator("h1").first.wait_for(state="visible", timeout=120_000)
    elapsed = time.perf_counter() - start
    page.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    bare = Path(tempfile.mkdtemp()) / "bare.py"
    bare.write_text('import streamlit as st\nst.title("Hello")\n')
    results = []
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(tempfile.mkdtemp(), executable_path="/usr/bin/chromium",
                                                       headless=True, args=FLAGS)
        for name, script in (("bare one-line page", bare), ("Insight landing page (Data)", ROOT / "app.py")):
            port = free_port()
            proc = start(script, port, tempfile.mkdtemp())
            try:
                url = f"http://127.0.0.1:{port}/"
                cold = time_render(context, url)
                warm = sorted(time_render(context, url) for _ in range(args.repeats))
                results.append((name, cold, warm[len(warm) // 2]))
            finally:
                proc.terminate()
                proc.wait(10)
        context.close()
    print("| page | first render, cold server (s) | first render, warm server, median (s) |")
    print("|---|---|---|")
    for name, cold, warm in results:
        print(f"| {name} | {cold:.2f} | {warm:.2f} |")


if __name__ == "__main__":
    main()
