"""Apply's drift verdict in the app: the Untrusted tile and the sentence under it show one figure, one way."""

from __future__ import annotations

import re
from dataclasses import asdict

import numpy as np
import pandas as pd
from app_kit import open_app
from helpers import LABELS, fake_run

from insight_ui import state
from trainer.evaluate import trends
from trainer.runs import RunFolder
from trainer.runs.scoring import Scoring, Spec, scoring_name


def test_the_untrusted_tile_and_the_drift_sentence_give_the_same_figure(tmp_path, monkeypatch):
    runs_dir = tmp_path / "runs"
    run = fake_run(runs_dir, "reviews", LABELS * 4, LABELS * 4)
    validation = np.where(np.arange(68) % 10 == 0, 0.5, 0.99)
    np.savez(RunFolder(run).trust_file, validation_confidence=validation)
    source = tmp_path / "new.csv"
    pd.DataFrame({"text": ["fine", "broken", "late"]}).to_csv(source, index=False)
    spec = Spec(str(source), "text")
    scoring = Scoring(run, scoring_name(source, asdict(spec)))
    scoring.write_spec(spec)
    rows = [{"row": i, "text": t, "predicted": LABELS[i], "confidence": 0.95, "trusted": True}
            for i, t in enumerate(["fine", "broken", "late"])]  # fmt: skip
    pd.DataFrame(rows).to_csv(scoring.scored_file, index=False)
    # the verdict as the scoring job writes it: 12 of 1,783 untrusted (0.7%) against 7% on validation
    confidence = np.random.default_rng(0).uniform(0.94, 0.96, 1783)
    verdict = trends.drift(confidence, validation, 12 / 1783, 0.07).to_dict()
    scoring.write_results({"rows": 1783, "scored": 1783, "untrusted": 12, "to_label": rows, "labels": LABELS,
                           "drift": verdict})  # fmt: skip

    at = open_app(runs_dir, monkeypatch, timeout=60)
    at.session_state[state.CURRENT_RUN] = str(run)
    at.switch_page("insight_ui/pages/apply.py").run()
    assert not at.exception, [e.value for e in at.exception]
    tile = next(m.value for m in at.metric if m.label == "Untrusted")
    said = [str(box.value) for kind in ("success", "info", "warning") for box in getattr(at, kind)]
    sentence = next(s for s in said if "untrusted" in s.lower())
    figures = re.findall(r"\d+(?:\.\d+)?%", sentence)
    assert tile == "0.7%" and figures[0] == tile, (tile, sentence)
    assert next(m.value for m in at.metric if m.label == "Drift") == "similar", sentence
