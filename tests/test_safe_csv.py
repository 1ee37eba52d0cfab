"""trainer.safe_csv: no cell of a downloaded CSV runs as a formula in a spreadsheet (OWASP CSV injection)."""

from __future__ import annotations

import io

import pandas as pd

from trainer.safe_csv import csv_bytes, neutralise, to_csv

HOSTILE = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "plain", "a=b"]


def test_formula_like_text_cells_get_a_leading_quote_and_numbers_stay_numbers():
    frame = pd.DataFrame({"text": HOSTILE, "confidence": [-0.5] * len(HOSTILE)})
    safe = neutralise(frame)
    assert safe["text"].tolist() == ["'" + c for c in HOSTILE[:6]] + ["plain", "a=b"]
    assert safe["confidence"].tolist() == [-0.5] * len(HOSTILE) and frame["text"].tolist() == HOSTILE
    back = pd.read_csv(io.BytesIO(csv_bytes(frame)), keep_default_na=False)
    assert not any(str(v).startswith(("=", "+", "-", "@", "\t", "\r")) for v in back["text"])
    assert to_csv(pd.DataFrame({"=evil": ["ok"]})).splitlines()[0] == "'=evil"
