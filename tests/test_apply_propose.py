"""The next rows to label (issue 32, first part): the most uncertain rows, spread over the pool (ten
near-copies of one doubtful text give one proposal), never a row twice, never a row the run trained on; the
command line writes them as CSV and refuses bad input in one line."""

from __future__ import annotations

import io
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from cli_kit import trainer_cli

from trainer.apply.propose import propose, uncertainty
from trainer.data.errors import DataError


class Planted:
    """Scores each text by a table: its probability of 'positive' and its vector (by the text's topic)."""

    labels = ["negative", "positive"]

    def __init__(self, positive: dict[str, float], topic: dict[str, int]) -> None:
        self.positive, self.topic = positive, topic

    def score(self, texts):
        p = np.array([self.positive[t] for t in texts])
        vectors = np.eye(8)[[self.topic[t] for t in texts]] + 0.01 * np.arange(len(texts))[:, None] / len(
            texts
        )
        probabilities = np.stack([1 - p, p], axis=1)
        return SimpleNamespace(probabilities=probabilities, confidence=probabilities.max(axis=1), vectors=vectors,
                               labels=["positive" if x > 0.5 else "negative" for x in p])  # fmt: skip


def pool() -> tuple[list[str], Planted]:
    """Ten near-copies of the most doubtful text (one topic), and doubtful texts on five other topics."""
    texts = [f"the strap is fine I guess {i}" for i in range(10)]
    texts += [f"topic {k} text {i}" for k in range(1, 6) for i in range(4)]
    texts += [f"sure thing {i}" for i in range(20)]
    positive = {t: 0.5 for t in texts[:10]}
    positive.update({t: 0.55 + 0.01 * i for i, t in enumerate(texts[10:30])})
    positive.update({t: 0.99 for t in texts[30:]})
    topic = {t: 0 for t in texts[:10]} | {t: 1 + (i // 4) for i, t in enumerate(texts[10:30])}
    topic |= {t: 6 + i % 2 for i, t in enumerate(texts[30:])}
    return texts, Planted(positive, topic)


def test_proposals_are_doubtful_spread_over_the_pool_and_never_repeat():
    texts, model = pool()
    found = propose(model, texts, 6)
    rows = [p.row for p in found]
    assert len(rows) == len(set(rows)) == 6
    near_copies = [r for r in rows if r < 10]
    assert len(near_copies) == 1, "ten near-copies of one doubtful text give one proposal"
    topics = {model.topic[texts[r]] for r in rows}
    assert topics == {0, 1, 2, 3, 4, 5}, "one per topic of doubt, none of the sure texts"
    assert found[0].uncertainty == max(p.uncertainty for p in found), "the most doubtful first"


def test_a_text_twice_in_the_pool_is_proposed_once_and_asking_for_more_than_there_is_gives_all():
    texts, model = pool()
    twice = texts[:3] + texts[:3]
    found = propose(model, twice, 10)
    assert sorted(p.text for p in found) == sorted(texts[:3])


def test_rows_the_run_trained_on_are_refused_with_one_of_them_named():
    texts, model = pool()
    with pytest.raises(DataError) as caught:
        propose(model, texts, 3, training={texts[12], texts[40]})
    assert "2 rows of the pool are in the run's training data already" in str(caught.value)
    with pytest.raises(DataError):
        propose(model, texts, 0)


def test_uncertainty_is_one_minus_the_margin_of_the_first_two_labels():
    scored = SimpleNamespace(probabilities=np.array([[0.7, 0.2, 0.1], [0.4, 0.35, 0.25]]), confidence=None)
    assert uncertainty(scored) == pytest.approx([0.5, 0.95])


def test_the_command_writes_the_rows_to_label_and_refuses_a_pool_holding_training_rows(
    tiny_text_run, tmp_path
):
    new = tmp_path / "pool.csv"
    pd.DataFrame({"text": [f"box {i} arrived and it is {w}" for i, w in enumerate(["ok", "fine", "so so"] * 20)]}
                 ).to_csv(new, index=False)  # fmt: skip
    done = trainer_cli("propose", str(tiny_text_run), "--pool", str(new), "--n", "7", in_process=True)
    assert done.returncode == 0, done.stderr
    frame = pd.read_csv(io.StringIO(done.stdout))
    assert list(frame.columns) == ["row", "text", "predicted", "uncertainty"] and len(frame) == 7
    assert frame["row"].is_unique and frame["row"].between(1, 60).all()
    trained = pd.read_json(tiny_text_run / "data" / "train.jsonl", lines=True)["text"].head(3)
    mixed = tmp_path / "mixed.csv"
    pd.concat([pd.read_csv(new), pd.DataFrame({"text": trained})]).to_csv(mixed, index=False)
    done = trainer_cli("propose", str(tiny_text_run), "--pool", str(mixed), in_process=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().startswith("error: 3 rows of the pool are in the run's training data already")
    numbers = tmp_path / "numbers.csv"
    pd.DataFrame({"n": range(20)}).to_csv(numbers, index=False)
    done = trainer_cli("propose", str(tiny_text_run), "--pool", str(numbers), in_process=True)
    assert (
        done.returncode == 2 and done.stderr.strip().startswith("error:") and "Traceback" not in done.stderr
    )
