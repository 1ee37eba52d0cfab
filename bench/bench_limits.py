"""`check` on hostile files: time and peak memory at 1x, 2x and 4x size (issue 18's shapes).

    .venv/bin/python bench/bench_limits.py [--scales 1,2,4] [--shapes repeated_header,many_rows]
    .venv/bin/python bench/bench_limits.py --raise-limits --scales 0.25,0.5,1 --shapes many_rows,long_text

Each shape of `tests/data/bad/shapes.py` is written at each scale (1x is the size the issue measured)
and `python -m trainer check FILE` runs on it in a fresh process; its wall time, peak resident memory
(ru_maxrss, read by the parent) and the first line of what it said are printed as a Markdown table.
A `baseline` row checks a small good file, so the interpreter's own memory is visible.
`--raise-limits` lifts every limit, so the file is read and checked whole: the growth of the real work.
Time and memory must stay flat or grow linearly with the file: a limit refuses a file in about the
time it takes to read it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "data" / "bad"))
sys.path.insert(0, str(ROOT / "tests"))

import shapes  # noqa: E402
from helpers import sentiment_csv  # noqa: E402

ENV = dict(os.environ)
LIFTED = {"INSIGHT_MAX_FILE_MB": "100000", "INSIGHT_MAX_ROWS": "100000000", "INSIGHT_MAX_COLUMNS": "1000000",
          "INSIGHT_MAX_CELL_CHARS": "1000000000", "INSIGHT_MAX_LABELS": "10000000", "INSIGHT_MAX_DEPTH": "100000"}  # fmt: skip


def run_one(path: Path) -> tuple[float, float, int, str]:
    """Like `check`, with the peak of this one process (each runs under its own wrapper)."""
    code = (
        "import os,resource,subprocess,sys,time\n"
        "t=time.perf_counter()\n"
        "p=subprocess.run([sys.executable,'-m','trainer','check',sys.argv[1]],capture_output=True,text=True)\n"
        "s=time.perf_counter()-t\n"
        "r=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(f'{s} {r} {p.returncode}');print(p.stdout+p.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], cwd=ROOT, capture_output=True, text=True, env=ENV
    )
    first, _, rest = done.stdout.partition("\n")
    seconds, peak_kb, rc = first.split()
    said = next((ln for ln in rest.splitlines() if ln.strip()), "")
    return float(seconds), int(peak_kb) / 1024, int(rc), said.strip()[:110]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", default="1,2,4")
    parser.add_argument("--shapes", default=",".join(shapes.SHAPES))
    parser.add_argument(
        "--raise-limits", action="store_true", help="lift every limit: read and check files whole"
    )
    args = parser.parse_args()
    if args.raise_limits:
        ENV.update(LIFTED)
    scales = [float(s) for s in args.scales.split(",")]
    print("| shape | scale | file MB | seconds | peak MB | exit | first line said |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        base = sentiment_csv(Path(tmp) / "good.csv")
        seconds, peak, rc, said = run_one(base)
        print(
            f"| baseline (90 good rows) | - | {base.stat().st_size / 1e6:.2f} | {seconds:.1f} | {peak:.0f} | {rc} | {said} |"
        )
        for name in args.shapes.split(","):
            for scale in scales:
                folder = Path(tmp) / f"{name}-{scale}"
                path = shapes.build(name, folder, scale)
                size = path.stat().st_size / 1e6
                seconds, peak, rc, said = run_one(path)
                said = said.replace("|", "\\|")
                print(
                    f"| {name} | {scale:g}x | {size:.1f} | {seconds:.1f} | {peak:.0f} | {rc} | {said} |",
                    flush=True,
                )
                path.unlink()


if __name__ == "__main__":
    main()
