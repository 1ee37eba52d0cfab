"""Screenshots of every page for the README tour, taken the way a new user would get there.

Starts `streamlit run app.py` headless on a free port (runs go to a temporary folder), drives Debian's
Chromium with Playwright: picks the "Product reviews" sample on the Data page, trains the default
backbone (all-MiniLM-L6-v2) with the default settings, then visits every page. Full-page PNGs at a
1400 px wide viewport go to docs/screenshots/ (each kept under --max-kb with Pillow: a 256-colour
palette first, then downscaling if still needed).

    .venv/bin/python bench/screenshots.py [--epochs 3] [--out docs/screenshots] [--no-top-words]

`--task ner` runs the named-entity flow instead (and retakes only its shots): the "News entities"
sample (sample_data/news_entities.conll) on the Data page, the default backbone and default settings
on Train except "Max steps" under "Advanced settings" (150 by default, `--ner-max-steps`; 0 leaves
it empty), which keeps the CPU time to a few minutes; then Evaluate (true and predicted spans),
Explain (one word's tag) and Embeddings (the entity-word map) as ner_evaluate.png, ner_explain.png
and ner_embeddings.png, each under 200 KB unless --max-kb says otherwise.

    .venv/bin/python bench/screenshots.py --task ner [--ner-max-steps 150]

`--task apply` takes apply.png: the Apply page scoring sample_data/market_news.csv with a sentiment run
(a copy of the runs folder given with --runs, else one trained here with the default settings), and,
when that folder holds two runs or more, compare.png: the Compare page on the two newest.

    .venv/bin/python bench/screenshots.py --task apply [--runs runs]

Training the real model on a 2-core CPU takes a few minutes; timeouts are generous.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
import browser_kit as kit  # noqa: E402 - shared with tests/test_browser.py

SAMPLE = "Product reviews"  # the button for sample_data/product_sentiment.csv
NER_SAMPLE = "News entities"  # the button for sample_data/news_entities.conll
WIDTH, HEIGHT = 1400, 1000
LONG = 300_000  # ms for one page step: the machine is slow and shared
TRAIN_LIMIT = 45 * 60_000  # ms for the whole training run


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def start_server(port: int, runs: Path, log_file) -> subprocess.Popen:
    env = {"INSIGHT_RUNS_DIR": str(runs), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    return kit.start_streamlit("app.py", port, env, output=log_file)


def settle(page) -> None:
    kit.settle(page, LONG)


def go(page, title: str) -> None:
    kit.go(page, title, LONG)


def compress(raw: bytes, target: Path, max_kb: int) -> None:
    """Palette PNG (UI screenshots lose almost nothing), downscaled until it fits under max_kb."""
    image = Image.open(io.BytesIO(raw)).convert("RGB")
    scale = 1.0
    while True:
        size = (round(image.width * scale), round(image.height * scale))
        frame = image if scale == 1.0 else image.resize(size, Image.Resampling.LANCZOS)
        out = io.BytesIO()
        frame.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
            out, format="PNG", optimize=True
        )
        if out.tell() <= max_kb * 1024 or scale < 0.4:
            break
        scale *= 0.85
    target.write_bytes(out.getvalue())
    log(f"saved {target.relative_to(ROOT)}: {size[0]}x{size[1]}, {out.tell() // 1024} KB")


def shoot(page, out: Path, name: str, max_kb: int) -> None:
    """A full-page screenshot: Streamlit scrolls inside its main container, so grow the viewport first."""
    page.mouse.move(WIDTH - 5, 5)  # no hover tooltip or sidebar button in the picture
    height = page.evaluate("document.querySelector('[data-testid=\"stMain\"]')?.scrollHeight || 0")
    page.set_viewport_size({"width": WIDTH, "height": min(max(HEIGHT, height + 40), 8000)})
    page.wait_for_timeout(1200)
    raw = page.screenshot(type="png", full_page=True, animations="disabled")
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    compress(raw, out / f"{name}.png", max_kb)


def progress_epoch(page) -> tuple[float, bool]:
    """(epoch shown under the training progress bar, whether the job still runs)."""
    line = page.get_by_text(re.compile(r"step \d+ of \d+ · epoch"))
    text = line.first.inner_text() if line.count() else ""
    match = re.search(r"epoch ([\d.]+)", text)
    running = page.get_by_role("button", name="Cancel").count() > 0
    return (float(match.group(1)) if match else 0.0), running


def good_example(runs: Path) -> str | None:
    """A short, correctly and confidently predicted negative or positive test text of the finished run."""
    found = sorted(runs.rglob("predictions.csv"), key=lambda p: p.stat().st_mtime)
    if not found:
        return None
    with found[-1].open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    text_col = next(
        (c for c in rows[0] if c not in ("gold", "predicted", "confidence") and not c.startswith("p_")),
        "text",
    )
    right = [
        r
        for r in rows
        if r["gold"] == r["predicted"]
        and r["gold"] in ("negative", "positive")
        and 40 <= len(r[text_col]) <= 110
        and not r[text_col].startswith("Shares of")
    ]
    right.sort(key=lambda r: -float(r["confidence"]))
    negative = [r for r in right if r["gold"] == "negative"]
    pick = (negative or right or [None])[0]
    return pick[text_col] if pick else None


def pick_test_example(page, text: str) -> None:
    """Choose the test example whose option contains `text` (the selectbox filters as one types)."""
    box = page.get_by_label(re.compile(r"^Test example"))
    box.click()
    box.press_sequentially(text[:40], delay=15)
    page.get_by_role("option").filter(has_text=text[:40]).first.click()
    settle(page)


def tour(page, url: str, runs: Path, out: Path, args) -> None:
    log("Data: one-click sample")
    kit.open_sample(page, url, SAMPLE, LONG)
    next_button = page.get_by_role("button", name="Next: choose settings and train")
    next_button.wait_for()
    settle(page)
    shoot(page, out, "data", args.max_kb)

    log("Train: default backbone and settings" + (f", {args.epochs} epochs" if args.epochs else ""))
    next_button.click()
    page.get_by_role("heading", name="Train", level=1).wait_for()
    settle(page)
    if args.epochs:
        box = page.get_by_label("Epochs", exact=True)
        box.fill(str(args.epochs))
        box.press("Enter")
        settle(page)
    page.get_by_role("button", name="Start training").click()
    started = time.time()

    # The running shot: once validation curves have a few points (or half-way), while Cancel is shown.
    shot_running, polls = False, 0
    while time.time() - started < TRAIN_LIMIT / 1000:
        if page.get_by_text("Training finished").count():
            break
        epoch, running = progress_epoch(page)
        charts = page.locator(".js-plotly-plot").count()
        polls += 1
        if polls % 15 == 0:
            log(f"Train: epoch {epoch:.1f}, running={running}, charts={charts}")
        if running and charts >= 2 and epoch >= args.running_epoch:
            log(f"Train: running shot at epoch {epoch:.1f}")
            shoot(page, out, "train_running", args.max_kb)
            shot_running = True
            break
        page.wait_for_timeout(1000)
    if not shot_running:
        log("warning: training ended before the running screenshot (train_running.png not updated)")
    page.get_by_text("Training finished").wait_for(timeout=TRAIN_LIMIT)
    page.get_by_role("heading", name="New run").wait_for()  # the page redrew once the job ended
    settle(page)
    log(f"Train: finished after {time.time() - started:.0f} s")
    shoot(page, out, "train", args.max_kb)

    log("Evaluate")
    page.get_by_role("button", name="See the results").click()
    page.get_by_role("heading", name="Evaluate", level=1).wait_for()
    page.get_by_text("Confusion matrix").first.wait_for()
    page.locator(".js-plotly-plot").first.wait_for()
    page.get_by_role("heading", name="Likely label issues").wait_for()
    settle(page)
    shoot(page, out, "evaluate", args.max_kb)

    log("Explain")
    go(page, "Explain")
    page.locator(".insight-heatmap .insight-word").first.wait_for()
    example = good_example(runs)
    if example:
        log(f"Explain: test example {example!r}")
        pick_test_example(page, example)
        page.get_by_text(example[:30]).first.wait_for()
        page.locator(".insight-heatmap .insight-word").first.wait_for()
    if args.top_words:
        log("Explain: ranking words over the test split (about a second a text)")
        page.get_by_role("button", name="Find the words that matter").click()
        page.get_by_role("button", name="Download as CSV").wait_for(timeout=TRAIN_LIMIT)
    settle(page)
    shoot(page, out, "explain", args.max_kb)

    log("Embeddings")
    go(page, "Embeddings")
    page.get_by_text("After fine-tuning").first.wait_for(timeout=LONG * 2)
    page.locator(".js-plotly-plot").nth(1).wait_for()
    settle(page)
    shoot(page, out, "embeddings", args.max_kb)

    log("Export")
    go(page, "Export")
    page.get_by_role("button", name="Download model (.zip)").wait_for()
    settle(page)
    shoot(page, out, "export", args.max_kb)


def fill(page, label: str, value: str) -> None:
    kit.fill(page, label, value, LONG)


def ner_tour(page, url: str, runs: Path, out: Path, args) -> None:
    """The named-entity flow: News entities sample, default model, then Evaluate, Explain, Embeddings."""
    log("Data: entity sample")
    kit.open_sample(page, url, NER_SAMPLE, LONG)
    page.get_by_text("Entity types").first.wait_for()
    settle(page)

    log(
        "Train: default backbone and settings"
        + (f", max steps {args.ner_max_steps}" if args.ner_max_steps else "")
    )
    go(page, "Train")
    if args.ner_max_steps:
        page.get_by_text("Advanced settings").click()
        fill(page, "Max steps", str(args.ner_max_steps))
    page.get_by_role("button", name="Start training").click()
    started = time.time()
    page.get_by_text(re.compile(r"Training finished: entities found and right")).wait_for(timeout=TRAIN_LIMIT)
    settle(page)
    finished = page.get_by_text(re.compile(r"Training finished: entities found and right")).first.inner_text()
    log(f"Train: finished after {time.time() - started:.0f} s: {finished}")

    log("Evaluate")
    page.get_by_role("button", name="See the results").click()
    page.get_by_role("heading", name="Evaluate", level=1).wait_for()
    page.get_by_text("Sentences: true and predicted entities").wait_for()
    page.locator(".insight-entities").first.wait_for()
    settle(page)
    shoot(page, out, "ner_evaluate", args.max_kb)

    log("Explain")
    go(page, "Explain")
    page.locator(".insight-entities").first.wait_for()
    page.locator(".insight-heatmap .insight-word").first.wait_for()
    settle(page)
    shoot(page, out, "ner_explain", args.max_kb)

    log("Embeddings")
    go(page, "Embeddings")
    page.get_by_text("After fine-tuning").first.wait_for(timeout=LONG * 2)
    page.locator(".js-plotly-plot").nth(1).wait_for()
    page.get_by_text("entity words").first.wait_for()
    settle(page)
    shoot(page, out, "ner_embeddings", args.max_kb)


def apply_tour(page, url: str, runs: Path, out: Path, args) -> None:
    """Apply: the market news sample scored with a sentiment run, its trends, alerts and drift."""
    if not any(runs.glob("*/model/config.json")):
        log("training the default model on the Product reviews sample (CLI, default settings)")
        subprocess.run([sys.executable, "-m", "trainer", "fit", str(ROOT / "sample_data" / "product_sentiment.csv"),
                        "--runs-dir", str(runs), "--name", "reviews", "--quiet"], cwd=ROOT, check=True)  # fmt: skip
    page.goto(url)
    settle(page)
    go(page, "Apply")
    page.get_by_role("button", name="Market news headlines").click()
    settle(page)
    log("Apply: scoring the market news sample")
    page.get_by_role("button", name=re.compile("^Score ")).click()
    page.get_by_role("heading", name=re.compile("^Alerts")).wait_for(timeout=4 * LONG)
    settle(page)
    shoot(page, out, "apply", args.max_kb)
    if len(list(runs.glob("*/model/config.json"))) >= 2:
        log("Compare: the two newest runs")
        go(page, "Compare")
        page.get_by_role("heading", name=re.compile(r"^Where they disagree")).wait_for(timeout=LONG)
        settle(page)
        shoot(page, out, "compare", args.max_kb)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument(
        "--epochs", type=float, default=None, help="type this in the Epochs box (default: auto)"
    )
    parser.add_argument(
        "--running-epoch", type=float, default=3.0, help="epoch at which to take train_running"
    )
    parser.add_argument(
        "--task",
        choices=("text", "ner", "apply"),
        default="text",
        help="text: the Product reviews tour (default); ner: the News entities flow only; apply: the Apply "
        "page scoring the market news sample (with a run from --runs, else one trained with the defaults)",
    )
    parser.add_argument("--runs", type=Path, help="--task apply: a runs folder with a sentiment run (copied)")
    parser.add_argument(
        "--ner-max-steps",
        type=int,
        default=150,
        help="type this in Max steps for --task ner (0: leave it empty, no limit)",
    )
    parser.add_argument("--max-kb", type=int, default=None, help="default: 380 (text), 200 (ner)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary runs folder and server log")
    parser.add_argument(
        "--no-top-words",
        dest="top_words",
        action="store_false",
        help="skip the dataset-wide word ranking on the Explain page",
    )
    args = parser.parse_args()
    if args.max_kb is None:
        args.max_kb = 200 if args.task == "ner" else 380
    if not Path(kit.CHROMIUM).exists():
        sys.exit(f"{kit.CHROMIUM} is missing: run `make chromium` (apt-get install chromium) first.")
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="insight-shots-"))
    runs, profile = work / "runs", work / "profile"
    if args.runs:
        shutil.copytree(args.runs, runs, ignore=shutil.ignore_patterns("scores", "tasks", "trust.npz"))
    port = kit.free_port()
    with (work / "streamlit.log").open("w+") as log_file:
        server = start_server(port, runs, log_file)
        log(f"app on http://127.0.0.1:{port}, runs in {runs}")
        try:
            with sync_playwright() as p:
                context = p.chromium.launch_persistent_context(
                    str(profile),
                    executable_path=kit.CHROMIUM,
                    headless=True,
                    args=kit.FLAGS,
                    viewport={"width": WIDTH, "height": HEIGHT},
                )
                context.set_default_timeout(LONG)
                page = context.pages[0] if context.pages else context.new_page()
                try:
                    flow = {"ner": ner_tour, "apply": apply_tour}.get(args.task, tour)
                    flow(page, f"http://127.0.0.1:{port}", runs, args.out, args)
                except Exception:
                    page.screenshot(path=str(work / "failure.png"), full_page=True)
                    log(f"failed; the page as it was: {work / 'failure.png'}")
                    raise
                finally:
                    context.close()
        finally:
            server.terminate()
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
            log_file.seek(0)
            errors = [line for line in log_file.read().splitlines() if "Traceback" in line or "ERROR" in line]
            if errors:
                log(f"server log has {len(errors)} error lines; see {work / 'streamlit.log'}")
    if not errors and not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
