"""Hostile files (tests/data/bad/): each gets the message it must give, through `check` and through the
app's upload, within generous bounds on time and peak memory that catch the cubic and the blow-ups
issue 18 measured (43 s, 2.6 GB, 3.5 GB); bench/bench_limits.py records the real figures.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
from app_kit import open_app
from streamlit.testing.v1 import AppTest
from test_markup import live_markdown

from insight_ui import state

ROOT = Path(__file__).resolve().parent.parent
BAD = ROOT / "tests" / "data" / "bad"
sys.path.insert(0, str(BAD))
import shapes  # noqa: E402

EXPECTED = shapes.expected()
CHECK_SECONDS = 45  # the check itself takes 3 to 6 s here, most of it imports; 43 s was the cubic
CHECK_PEAK_MB = 1200  # a bare `check` peaks near 400 MB; the blow-ups reached 2,600 and 3,500
APP_SECONDS = 60
APP_PEAK_MB = 300  # Python allocations of the server process while it takes the file


def test_every_shape_has_its_expected_message_and_the_small_ones_are_committed(tmp_path):
    assert set(EXPECTED) == set(shapes.SHAPES)
    for committed in ("repeated_header.csv", "deep_json.json", "invisible_labels.csv", "markup_labels.csv"):
        name = committed.rsplit(".", 1)[0]
        built = shapes.build(name, tmp_path / name)
        assert (BAD / committed).read_bytes() == built.read_bytes(), (
            f"run tests/data/bad/shapes.py: {committed}"
        )


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bad")
    return {
        name: shapes.build(name, folder / name, EXPECTED[name].get("scale", 1.0)) for name in shapes.SHAPES
    }


def check_in_child(path: Path, env: dict[str, str]) -> tuple[float, float, int, str]:
    """(seconds, peak MB of the check process, exit code, what it printed), measured by a wrapper."""
    wrapper = (
        "import resource,subprocess,sys,time\n"
        "t=time.perf_counter()\n"
        "p=subprocess.run([sys.executable,'-m','trainer','check',sys.argv[1]],capture_output=True,text=True)\n"
        "print(time.perf_counter()-t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode)\n"
        "print(p.stdout+p.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", wrapper, str(path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, **env},
    )  # fmt: skip
    first, _, said = done.stdout.partition("\n")
    seconds, peak_kb, code = first.split()
    return float(seconds), int(peak_kb) / 1024, int(code), said


@pytest.mark.parametrize("name", list(shapes.SHAPES))
def test_check_gives_the_message_in_bounded_time_and_memory(name, built):
    expected = EXPECTED[name]
    seconds, peak, code, said = check_in_child(built[name], expected.get("env", {}))
    assert code == expected["exit"], said
    for phrase in expected["says"]:
        assert phrase in said, said
    assert "Traceback" not in said
    assert seconds < CHECK_SECONDS, f"{name}: {seconds:.1f} s"
    assert peak < CHECK_PEAK_MB, f"{name}: {peak:.0f} MB"


def shown(at: AppTest) -> str:
    kinds = ("error", "warning", "info", "markdown", "caption", "success")
    return "\n".join(str(e.value) for kind in kinds for e in getattr(at, kind))


@pytest.mark.parametrize("name", list(shapes.SHAPES))
def test_the_app_upload_gives_the_message_and_keeps_serving(name, built, tmp_path, monkeypatch):
    expected = EXPECTED[name]
    for key, value in expected.get("env", {}).items():
        monkeypatch.setenv(key, value)
    at = open_app(tmp_path / "runs", monkeypatch, timeout=APP_SECONDS)
    good = (ROOT / "sample_data" / "product_sentiment.csv").read_bytes()
    at.session_state[state.INCOMING] = ("reviews.csv", good)
    at.run()
    raw = built[name].read_bytes()
    tracemalloc.start()
    started = time.perf_counter()
    at.session_state[state.INCOMING] = (built[name].name, raw)
    at.run()
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    assert not at.exception, [e.value for e in at.exception]
    said = shown(at)
    for phrase in expected.get("app_says", expected["says"]):  # the labels of a table are not in its text
        assert phrase.replace('"', "") in said.replace("\\", "").replace('"', ""), said[:3000]
    if expected["exit"] != 0:  # refused: the visitor keeps the file they had
        assert state.DATASET in at.session_state and at.session_state[state.DATASET][0] in (
            "reviews.csv",
            built[name].name,
        )
    live = [found for e in at.markdown for found in live_markdown(str(e.value))]
    assert live == [], live[:3]
    assert seconds < APP_SECONDS, f"{name}: {seconds:.1f} s"
    assert peak < APP_PEAK_MB + 3 * len(raw) / 2**20, f"{name}: {peak:.0f} MB"


def test_a_read_that_takes_too_long_is_stopped_with_a_message(monkeypatch, tmp_path):
    from trainer.data import DataError
    from trainer.data.isolated import run

    monkeypatch.setenv("INSIGHT_READ_SECONDS", "1")
    path = shapes.build("many_rows", tmp_path, 0.4)
    started = time.perf_counter()
    with pytest.raises(DataError) as caught:
        run("trainer.data.readers:read_table", (path.name, path.read_bytes()))
    assert time.perf_counter() - started < 20
    assert "took longer than 1 seconds" in str(caught.value) and "INSIGHT_READ_SECONDS" in str(caught.value)


def test_a_large_upload_is_read_in_a_child_process(monkeypatch, tmp_path):
    """The server process only receives the table: the parse ran elsewhere (its pid differs)."""
    from insight_ui.reads import datasets

    calls = []
    real = datasets.run_isolated
    monkeypatch.setattr(datasets, "run_isolated", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    monkeypatch.setattr(datasets, "ISOLATE_OVER_BYTES", 1000)
    raw = (ROOT / "sample_data" / "product_sentiment.csv").read_bytes()
    frame = datasets.read_frame.__wrapped__("reviews.csv", raw)
    assert len(frame) == 681 and calls == ["trainer.data.readers:read_table"]
