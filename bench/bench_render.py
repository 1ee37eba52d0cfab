"""First render of the landing page in a real browser, against a bare one-line Streamlit page.

Starts each app with `streamlit run` on a free port, opens it in Debian's Chromium (Playwright)
and times from navigation to (a) the first visible heading and (b) the end of the script run
(Streamlit's `data-test-script-state="notRunning"`, i.e. the whole page is drawn).

- cold: a fresh server and a fresh browser context (the first visitor after a start: the server
  imports the app's modules, the browser downloads Streamlit's static files);
- warm: a second visit on that same server in that same browser context (a new Streamlit session;
  modules already imported, static files cached).

Each of `--repeats` rounds starts one fresh server per app (the order of the apps alternates
between rounds) and takes one cold and one warm sample; the table shows medians. After each round
the server process is asked (SIGUSR1) which of torch, transformers and captum it has imported.

    python bench/bench_render.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
import browser_kit as kit  # noqa: E402 - shared with tests/test_browser.py

HEAVY = ("torch", "transformers", "captum")
# `python -m streamlit`, plus a SIGUSR1 handler that writes which heavy modules the process holds.
LAUNCHER = f"""
import os, signal, sys
def dump(*_):
    heavy = [m for m in {HEAVY!r} if m in sys.modules]
    with open(os.environ["BENCH_MODULES_FILE"], "w") as handle:
        handle.write(",".join(heavy) or "none")
signal.signal(signal.SIGUSR1, dump)
from streamlit.web.cli import main
main(prog_name="streamlit")
"""


def start(script: Path, port: int, runs_dir: str, modules_file: Path) -> subprocess.Popen:
    env = {"INSIGHT_RUNS_DIR": runs_dir, "BENCH_MODULES_FILE": str(modules_file)}
    return kit.start_streamlit(script, port, env, launcher=[sys.executable, "-c", LAUNCHER])


def heavy_modules(proc: subprocess.Popen, modules_file: Path) -> str:
    """Which of HEAVY the server process has imported (asked over SIGUSR1)."""
    modules_file.unlink(missing_ok=True)
    proc.send_signal(signal.SIGUSR1)
    for _ in range(100):
        if modules_file.exists() and modules_file.stat().st_size:
            return modules_file.read_text()
        time.sleep(0.05)
    return "unknown"


def time_render(context, url: str) -> tuple[float, float]:
    """Seconds from navigation to the first visible heading, and to the end of the script run."""
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url)
    page.locator("h1").first.wait_for(state="visible", timeout=120_000)
    heading = time.perf_counter() - start
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(timeout=120_000)
    done = time.perf_counter() - start
    page.close()
    return heading, done


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--repeats", type=int, default=3, help="rounds: fresh servers, one cold and one warm visit each"
    )
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="bench-render-"))
    bare = work / "bare.py"
    bare.write_text('import streamlit as st\nst.title("Hello")\n')
    apps = [("bare one-line page", bare), ("Insight landing page (Data)", ROOT / "app.py")]
    samples: dict[str, dict[str, list]] = {name: {"cold": [], "warm": [], "heavy": set()} for name, _ in apps}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=kit.CHROMIUM, headless=True, args=kit.FLAGS)
        warmup = browser.new_page()  # the browser's own start-up is not charged to the first app
        warmup.goto("about:blank")
        warmup.close()
        for round_ in range(args.repeats):
            for name, script in apps if round_ % 2 == 0 else apps[::-1]:
                modules_file = work / f"modules-{round_}-{script.stem}.txt"
                port = kit.free_port()
                proc = start(script, port, tempfile.mkdtemp(dir=work), modules_file)
                context = browser.new_context()
                try:
                    url = f"http://127.0.0.1:{port}/"
                    samples[name]["cold"].append(time_render(context, url))
                    samples[name]["warm"].append(time_render(context, url))
                    samples[name]["heavy"].add(heavy_modules(proc, modules_file))
                finally:
                    context.close()
                    proc.terminate()
                    try:
                        proc.wait(20)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                print(
                    f"round {round_ + 1}/{args.repeats} {name}: cold {samples[name]['cold'][-1][1]:.2f} s, "
                    f"warm {samples[name]['warm'][-1][1]:.2f} s",
                    file=sys.stderr,
                    flush=True,
                )
        browser.close()

    def med(values: list[tuple[float, float]], i: int) -> str:
        return f"{statistics.median(v[i] for v in values):.2f}"

    n = args.repeats
    print(f"Medians of {n} rounds (seconds). Heading: first visible h1. Full page: script run finished.\n")
    print(
        "| page | cold: heading | cold: full page | warm: heading | warm: full page "
        "| torch/transformers/captum imported by the server |"
    )
    print("|---|---|---|---|---|---|")
    for name, _ in apps:
        s = samples[name]
        heavy = ", ".join(sorted(s["heavy"]))
        print(
            f"| {name} | {med(s['cold'], 0)} | {med(s['cold'], 1)} | {med(s['warm'], 0)} | {med(s['warm'], 1)} "
            f"| {heavy} |"
        )


if __name__ == "__main__":
    main()
