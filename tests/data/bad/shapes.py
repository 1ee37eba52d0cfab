"""Hostile files, each built at a chosen size: the rows of issue 18's table.

`build(shape, folder, scale)` writes one file and returns its path; scale 1 is the size the issue
measured (scale 0.01 makes a small copy for quick tests). Shared by `tests/test_hostile.py` and
`bench/bench_limits.py`, so the test and the benchmark try the same files.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

Writer = Callable[[Path, float], Path]
SHAPES: dict[str, Writer] = {}


def shape(name: str) -> Callable[[Writer], Writer]:
    def register(fn: Writer) -> Writer:
        SHAPES[name] = fn
        return fn

    return register


def _n(base: int, scale: float, least: int = 2) -> int:
    return max(least, int(base * scale))


@shape("repeated_header")
def repeated_header(folder: Path, scale: float) -> Path:
    """A header that repeats one name 3,000 times (12 KB)."""
    n = _n(3000, scale)
    path = folder / "repeated_header.csv"
    path.write_text(",".join(["a"] * n) + "\n" + ",".join(["x"] * n) + "\n", encoding="utf-8")
    return path


@shape("many_keys")
def many_keys(folder: Path, scale: float) -> Path:
    """JSON Lines, 10,000 records each with a key of its own (438 KB)."""
    path = folder / "many_keys.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for i in range(_n(10_000, scale)):
            out.write(json.dumps({"text": f"row {i}", "label": "ab"[i % 2], f"key{i}": "v"}) + "\n")
    return path


@shape("long_text")
def long_text(folder: Path, scale: float) -> Path:
    """One JSON Lines record whose text is 20 MB."""
    path = folder / "long_text.jsonl"
    body = "word " * _n(4_000_000, scale)
    rows = [{"text": body, "label": "a"}] + [{"text": f"short {i}", "label": "ab"[i % 2]} for i in range(20)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@shape("many_rows")
def many_rows(folder: Path, scale: float) -> Path:
    """1,000,000 tiny CSV rows (12.9 MB)."""
    path = folder / "many_rows.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write("text,label\n")
        out.writelines(f"t{i % 997},{'ab'[i % 2]}\n" for i in range(_n(1_000_000, scale)))
    return path


@shape("big_cell")
def big_cell(folder: Path, scale: float) -> Path:
    """A CSV whose one cell holds 2,000,000 characters (over the cell limit, 1,000,000 by default)."""
    path = folder / "big_cell.csv"
    rows = [f"short {i},{'ab'[i % 2]}" for i in range(20)]
    path.write_text("text,label\n" + '"' + "x" * _n(2_000_000, scale) + '",a\n' + "\n".join(rows) + "\n")
    return path


@shape("deep_json")
def deep_json(folder: Path, scale: float) -> Path:
    """JSON nested 5,000 levels deep."""
    depth = _n(5_000, scale)
    path = folder / "deep_json.json"
    path.write_text('[{"text": "x", "label": ' + "[" * depth + "]" * depth + "}]", encoding="utf-8")
    return path


@shape("many_labels")
def many_labels(folder: Path, scale: float) -> Path:
    """50,000 labels with 2 rows each."""
    path = folder / "many_labels.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write("text,label\n")
        for i in range(_n(50_000, scale)):
            out.write(f"first text of {i},label{i}\nsecond text of {i},label{i}\n")
    return path


@shape("many_columns")
def many_columns(folder: Path, scale: float) -> Path:
    """A CSV with 20,000 distinct columns."""
    n = _n(20_000, scale)
    path = folder / "many_columns.csv"
    rows = [",".join(["text", "label"] + [f"c{j}" for j in range(n)])]
    rows += [",".join([f"text {i}", "ab"[i % 2]] + ["v"] * n) for i in range(10)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@shape("big_file")
def big_file(folder: Path, scale: float) -> Path:
    """A 300 MB CSV (over the upload limit, 200 MB by default)."""
    path = folder / "big_file.csv"
    line = ("lorem ipsum dolor sit amet " * 20).strip() + ",a\n"
    with path.open("w", encoding="utf-8") as out:
        out.write("text,label\n")
        left = _n(300_000_000 // len(line), scale)
        while left > 0:
            out.write(line * min(left, 10_000))
            left -= 10_000
    return path


@shape("invisible_labels")
def invisible_labels(folder: Path, scale: float) -> Path:
    """Labels "pos", "p<zero-width space>os" and "<right-to-left override>pos", and "neg"."""
    path = folder / "invisible_labels.csv"
    labels = ["pos", "p\u200bos", "\u202epos", "neg", "neg"]
    rows = [f"text number {i},{labels[i % len(labels)]}" for i in range(_n(100, scale, 20))]
    path.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@shape("markup_labels")
def markup_labels(folder: Path, scale: float) -> Path:
    """Labels and texts that are Markdown links, images and HTML."""
    path = folder / "markup_labels.csv"
    labels = ['"[Relogin](http://evil.example/login)"', '"![b](http://evil.example/x.png)"',
              '"<a href=""http://evil.example"">x</a>"']  # fmt: skip
    rows = [f'"see [here](http://evil.example/{i}) <img src=http://evil.example/{i}.png>",{labels[i % 3]}'
            for i in range(_n(90, scale, 30))]  # fmt: skip
    path.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def build(name: str, folder: Path, scale: float = 1.0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return SHAPES[name](folder, scale)


def expected() -> dict[str, dict]:
    """shape -> what `check` must say about it (expected.json): exit code, phrases, and the scale and
    settings the test uses."""
    return json.loads((Path(__file__).with_name("expected.json")).read_text(encoding="utf-8"))


if __name__ == "__main__":  # write the small shapes into this folder, to try by hand
    here = Path(__file__).parent
    for name in ("repeated_header", "deep_json", "invisible_labels", "markup_labels"):
        print(build(name, here))
