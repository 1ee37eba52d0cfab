"""trainer.attribution.dataset: many texts in the background and the words that matter per label."""

from __future__ import annotations

import pytest
from attribution_helpers import LABELS

from trainer.attribution import (
    Explanation,
    explain_dataset,
    top_words_per_class,
)


def hand_explanation(target: str, words: list[str], scores: list[float | None]) -> Explanation:
    n = len(words)
    return Explanation(
        text=" ".join(words), task="text-classification", predicted=target, target=target,
        probabilities={target: 1.0}, words=words, word_spans=[(0, 0)] * n, scores=scores,
        tokens=[], token_scores=[], token_spans=[], token_words=[], delta=0.0, relative_delta=0.0,
        score_change=0.0, n_steps=50, trust="good", trust_reason="", gxi_scores=scores, agreement=None,
        faithfulness=None, truncated=False, read_span=(0, 0),
    )  # fmt: skip


def test_top_words_per_class_on_hand_made_explanations() -> None:
    exps = [
        hand_explanation("pos", ["Great", "film", "!"], [2.0, 0.1, 0.5]),
        hand_explanation("pos", ["great", "acting", "!"], [1.0, 0.4, 0.5]),
        hand_explanation("pos", ["dull", "film"], [-1.0, 0.3]),
        hand_explanation("neg", ["dull", "plot"], [3.0, None]),
        hand_explanation("neg", ["dull", "plot"], [1.0, 0.2]),
        None,  # a text explain_dataset did not reach
    ]
    top = top_words_per_class(exps, min_count=2)
    assert [(s.word, s.mean, s.total, s.count) for s in top["pos"]] == [
        ("great", 1.5, 3.0, 2),
        ("!", 0.5, 1.0, 2),
        ("film", pytest.approx(0.2), pytest.approx(0.4), 2),
    ]
    assert [s.word for s in top["neg"]] == ["dull"]  # "plot" seen once with a score
    assert [s.word for s in top_words_per_class(exps, min_count=2, skip_punctuation=True)["pos"]] == [
        "great",
        "film",
    ]
    assert [s.word for s in top_words_per_class(exps, min_count=1, top_k=1)["pos"]] == ["great"]
    by_total = top_words_per_class(exps, min_count=1, by="total")["neg"]
    assert by_total[0].word == "dull" and by_total[0].total == 4.0


def test_explain_dataset_reports_progress_and_stops_when_asked(tiny) -> None:
    model, tok = tiny
    texts = [f"review number {i} " + "very " * (i % 4) + "good" for i in range(7)]
    seen = []
    out = explain_dataset(model, tok, LABELS, texts, progress=lambda d, t: seen.append((d, t)), batch_size=3)
    assert seen == [(0, 7), (3, 7), (6, 7), (7, 7)]
    assert [e.text for e in out] == texts and all(e.faithfulness is None for e in out)
    asked = []

    def stop_after_first() -> bool:
        asked.append(1)
        return len(asked) > 1

    partial = explain_dataset(model, tok, LABELS, texts, should_stop=stop_after_first, batch_size=3)
    assert sum(e is not None for e in partial) == 3 and len(partial) == 7
    assert top_words_per_class(partial, min_count=1)  # None entries are skipped
