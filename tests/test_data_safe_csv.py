"""trainer.data.safe_csv: no cell of a downloaded CSV runs as a formula in a spreadsheet (OWASP CSV injection)."""

from __future__ import annotations

import io

import pandas as pd

from trainer.data.safe_csv import csv_bytes, neutralise, to_csv

HOSTILE = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "plain", "a=b"]


def test_formula_like_text_cells_get_a_leading_quote_and_numbers_stay_numbers():
    frame = pd.DataFrame({"text": HOSTILE, "confidence": [-0.5] * len(HOSTILE)})
    safe = neutralise(frame)
    assert safe["text"].tolist() == ["'" + c for c in HOSTILE[:6]] + ["plain", "a=b"]
    assert safe["confidence"].tolist() == [-0.5] * len(HOSTILE) and frame["text"].tolist() == HOSTILE
    back = pd.read_csv(io.BytesIO(csv_bytes(frame)), keep_default_na=False)
    assert not any(str(v).startswith(("=", "+", "-", "@", "\t", "\r")) for v in back["text"])
    assert to_csv(pd.DataFrame({"=evil": ["ok"]})).splitlines()[0] == "'=evil"


def test_a_large_csv_file_copies_safely_chunk_by_chunk_and_numbers_read_as_text_stay_numbers(tmp_path):
    from trainer.data.safe_csv import copy_safely

    rows = 45_000  # three chunks of 20,000
    source = tmp_path / "scored.csv"
    pd.DataFrame(
        {"text": ["=1+1", "-3.5", "fine"] * (rows // 3), "score": ["-1", "0.5", "+2e3"] * (rows // 3)}
    ).to_csv(source, index=False)
    out = io.StringIO()
    copy_safely(source, out)
    back = pd.read_csv(io.StringIO(out.getvalue()), dtype=str, keep_default_na=False)
    assert len(back) == rows and list(back.columns) == ["text", "score"]  # one header, every row once
    assert back["text"].iloc[:3].tolist() == ["'=1+1", "-3.5", "fine"]
    assert back["score"].iloc[:3].tolist() == ["-1", "0.5", "+2e3"]


def test_a_header_with_a_line_break_in_a_quoted_name_is_one_header_in_every_chunk(tmp_path):
    from trainer.data.safe_csv import copy_safely, read_header

    source = tmp_path / "scored.csv"
    pd.DataFrame({"the\ntext": [f"row {i}" for i in range(5)], 'say "hi"\r\nlabel': ["a"] * 5}).to_csv(
        source, index=False
    )
    with open(source, encoding="utf-8", newline="") as f:
        header = read_header(f)
        assert header.count("\n") == 3 and f.readline().startswith("row 0")  # the record, then row 0
    out = io.StringIO()
    copy_safely(source, out, rows=2)  # three chunks
    back = pd.read_csv(io.StringIO(out.getvalue()), dtype=str, keep_default_na=False)
    assert back.iloc[:, 0].tolist() == [f"row {i}" for i in range(5)]
    assert list(back.columns) == ["the\ntext", 'say "hi"\r\nlabel']
