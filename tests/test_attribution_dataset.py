"""trainer.attribution.dataset: many texts in the background and the words that matter per label."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from attribution_helpers import LABELS

from trainer.attribution import (
    Explanation,
    aggregate_to_words,
    explain_dataset,
    top_words_per_class,
    word_spans,
)
from trainer.attribution.dataset import estimate_seconds, measured_speed, rank_words, ranking_frame
from trainer.data.common_words import common_words
from trainer.runs import RunFolder


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


def token_explanation(target: str, text: str, token_scores: list[tuple[str, float]]) -> Explanation:
    """An explanation as the engine builds it, with scores given by construction: each (token, score) is a
    model token found in order in `text` (WordPiece cuts "doesn't" into doesn / ' / t), summed into words."""
    token_spans, pos = [], 0
    for token, _ in token_scores:
        start = text.lower().index(token, pos)
        token_spans.append((start, start + len(token)))
        pos = start + len(token)
    spans = word_spans(text)
    scores, owner = aggregate_to_words(token_spans, [v for _, v in token_scores], spans)
    exp = hand_explanation(target, [text[a:b] for a, b in spans], [float(v) for v in scores])
    exp.text, exp.word_spans, exp.token_spans, exp.token_words = text, spans, token_spans, owner
    return exp


def test_the_ranking_is_of_whole_words_without_punctuation_pieces_or_common_words() -> None:
    # punctuation, a common word and the pieces of "doesn't" carry the highest scores by construction
    exps = [
        token_explanation("neg", "The fit doesn't work, 100% a refund!", [
            ("the", 4.0), ("fit", 0.3), ("doesn", 3.0), ("'", 5.0), ("t", 3.5), ("work", 0.2), (",", 4.5),
            ("100", 0.1), ("%", 4.8), ("a", 3.9), ("refund", 1.0), ("!", 4.2)]),
        token_explanation("neg", "It doesn't fit, the refund is slow", [
            ("it", 2.0), ("doesn", 2.5), ("'", 4.0), ("t", 3.0), ("fit", 0.5), (",", 3.6), ("the", 3.8),
            ("refund", 1.2), ("is", 3.7), ("slow", 0.9)]),
        token_explanation("pos", "这个手机的质量很好", [(ch, 5.0 if ch == "的" else 0.5) for ch in "这个手机的质量很好"]),
        token_explanation("pos", "手机的质量好", [(ch, 5.0 if ch == "的" else 0.5) for ch in "手机的质量好"]),
    ]  # fmt: skip
    frame = ranking_frame(exps)
    neg = frame[frame["class"] == "neg"]
    assert list(neg["word"]) == ["doesn't", "refund", "fit"]  # led by a real word, "doesn't" kept whole
    assert neg["mean attribution"].iloc[0] == pytest.approx((3.0 + 5.0 + 3.5 + 2.5 + 4.0 + 3.0) / 2)
    assert list(frame[frame["class"] == "pos"]["word"]) == ["手机", "质量", "好"]  # 的 is a common word
    assert frame.attrs["common_left_out"] == len(common_words()) > 300
    every = ranking_frame(exps, leave_out=False)  # asked for, they are there: left out by default only
    assert {"the", ",", "的"} <= set(every["word"]) and every.attrs["common_left_out"] == 0
    assert not {"doesn", "'", "t"} & set(every["word"])  # the pieces never become words of their own


def test_the_estimate_follows_the_speed_measured_here(tiny, tmp_path) -> None:
    assert estimate_seconds(68, None) is None  # nothing measured yet: no guess
    assert estimate_seconds(68, 3.9) == pytest.approx(265.2)  # 68 texts at 3.9 s each: 4.4 min, not 17 s
    assert measured_speed(10.0, 41.2, 8) == pytest.approx(3.9) and measured_speed(10.0, 10.0, 0) is None
    model, tok = tiny
    run_model = SimpleNamespace(model=model, tokenizer=tok, labels=LABELS, max_length=32)
    ticks = iter([100.0, 124.0, 140.0])  # started; 8 texts after 24 s; 10 after 40 s
    speeds: list[float] = []
    texts = [f"review {i} was " + "very " * (i % 3) + "good" for i in range(10)]
    frame = rank_words(
        run_model, texts, on_speed=speeds.append, clock=lambda: next(ticks), n_steps=4, max_steps=4
    )
    assert speeds == [pytest.approx(3.0), pytest.approx(4.0)] and frame.attrs["explained"] == 10
    folder = RunFolder(tmp_path)
    assert folder.rank_speed() is None
    folder.write_rank_speed(speeds[-1])  # what the job keeps for the next estimate before Start
    assert estimate_seconds(68, folder.rank_speed()) == pytest.approx(272.0)


def test_the_page_states_the_time_left_at_the_measured_speed() -> None:
    from insight_ui.components.word_ranking import progress_line

    assert "measuring" in progress_line(0, 68, None)
    assert (
        progress_line(8, 68, 234.0)
        == "Explaining test texts: 8 of 68, about 3 min 54 s left at the speed measured here"
    )
