"""Attribution: pure arithmetic by hand, then integrated gradients on the tiny BERT (and once on the real one)."""

from __future__ import annotations

import json
import math
import threading

import numpy as np
import pytest

from trainer import attribution as attr
from trainer.attribution import (
    Explanation,
    aggregate_to_words,
    agreement,
    build_baseline_ids,
    choose_internal_batch_size,
    comprehensiveness,
    explain,
    explain_dataset,
    explain_token,
    explain_tokens,
    faithfulness,
    relative_delta,
    remove_words,
    rows_budget,
    spearman,
    step_schedule,
    sufficiency,
    top_k_overlap,
    top_words_per_class,
    trust_level,
    word_spans,
)

LABELS = ["neg", "neu", "pos"]
TAGS = ["O", "B-PER", "I-PER"]
TRICKY = [
    "Hello, world!",
    "good good GOOD good",
    "café naïve  Zürich",
    "这个手机很好",
    "love it 😍 great😍",
    "antidisestablishmentarianism",
    "  leading and trailing spaces\tand\ttabs\n",
]


def words_of(text: str) -> list[str]:
    return [text[a:b] for a, b in word_spans(text)]


# --------------------------------------------------------------------------- pure functions


def test_word_rule_splits_punctuation_and_cjk_and_keeps_the_rest() -> None:
    assert words_of("Hello, world!") == ["Hello", ",", "world", "!"]
    assert words_of("don't stop") == ["don", "'", "t", "stop"]
    assert words_of("这个手机很好") == list("这个手机很好")
    assert words_of("手机 ok!") == ["手", "机", "ok", "!"]
    assert words_of("love it 😍 great😍") == ["love", "it", "😍", "great😍"]
    assert words_of("café naïve") == ["café", "naïve"]
    assert words_of("  a\tb\n") == ["a", "b"]
    assert words_of("") == [] and words_of("   ") == []


@pytest.mark.parametrize("text", TRICKY)
def test_word_spans_reconstruct_the_text(text: str) -> None:
    spans = word_spans(text)
    rebuilt, pos = "", 0
    for a, b in spans:
        assert a >= pos and text[pos:a].strip() == ""  # only whitespace between words
        rebuilt += text[pos:b]
        pos = b
    assert rebuilt + text[pos:] == text and text[pos:].strip() == ""


def test_baseline_keeps_special_tokens_and_pads_the_rest() -> None:
    assert build_baseline_ids([101, 7592, 1010, 102], [1, 0, 0, 1], 0) == [101, 0, 0, 102]


def test_subword_scores_sum_into_words() -> None:
    spans = [(0, 5), (5, 6), (7, 12)]  # "Hello" "," "world"
    tokens = [(0, 3), (3, 5), (5, 6), (7, 12)]
    scores, owner = aggregate_to_words(tokens, [1.0, 2.0, -0.5, 4.0], spans)
    np.testing.assert_allclose(scores, [3.0, -0.5, 4.0])
    assert owner == [0, 0, 1, 2]


def test_a_token_over_two_words_is_split_by_characters_and_strays_go_to_the_nearest_word() -> None:
    spans = [(0, 3), (3, 4), (10, 12), (20, 22)]  # "abc" "!" ... "xy" ... "zz"
    tokens = [(0, 4), (13, 14), (18, 19)]  # over "abc!", a stray piece near "xy", one near "zz"
    scores, owner = aggregate_to_words(tokens, [4.0, 1.0, 2.0], spans)
    np.testing.assert_allclose(scores, [3.0, 1.0, 1.0, 2.0])
    assert owner == [0, 2, 3]
    untouched, _ = aggregate_to_words([(0, 3)], [1.0], spans)
    assert np.isnan(untouched[1:]).all()
    assert attr.read_scores(untouched, spans, (0, 3)) == [1.0, None, None, None]
    assert attr.read_scores(untouched, spans, (0, 22)) == [1.0, 0.0, 0.0, 0.0]


def test_relative_delta_and_its_floor() -> None:
    assert relative_delta(0.1, 2.0) == pytest.approx(0.05)
    assert relative_delta(-0.1, -2.0) == pytest.approx(0.05)
    assert relative_delta(1e-5, 0.0) == pytest.approx(1e-5 / attr.DELTA_FLOOR)


def test_step_schedule_doubles_up_to_the_cap() -> None:
    assert step_schedule(50, 300) == [50, 100, 200, 300]
    assert step_schedule(50, 50) == [50]
    assert step_schedule(64, 10) == [64]


def test_internal_batch_size_follows_the_memory_rule() -> None:
    # 1 MiB budget, rows of 16 tokens x 64 hidden x 2 layers x 96 bytes = 196,608 bytes -> 5 rows
    assert rows_budget(16, 64, 2, 1.0) == 5
    assert choose_internal_batch_size(2, 50, 16, 64, 2, 1.0) == 4  # 2 whole steps of 2 texts
    assert choose_internal_batch_size(8, 50, 16, 64, 2, 1.0) == 8  # at least one step of every text
    assert choose_internal_batch_size(2, 50, 16, 64, 2, 1e6) == 100  # all steps at once
    assert rows_budget(512, 768, 12, 1024) < rows_budget(32, 768, 12, 1024)  # long texts get fewer rows


def test_trust_levels() -> None:
    assert trust_level(0.01, 0.05, 50, 3.0)[0] == "good"
    assert trust_level(0.1, 0.05, 300, 3.0)[0] == "fair"
    level, reason = trust_level(0.5, 0.05, 300, 3.0, truncated=True)
    assert level == "poor" and "50.0%" in reason and "300 steps" in reason and "longer" in reason
    assert trust_level(0.0, 0.05, 50, 1e-5)[0] == "fair"  # converged, but nothing moved
    assert "\n" not in reason


def test_agreement_measures() -> None:
    assert spearman([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 2], [5, 5]) is None and spearman([1], [1]) is None
    assert top_k_overlap([5, 4, 0, 0], [4, 5, 9, 0], 2) == 0.5
    agree = agreement([3.0, None, 1.0, 2.0], [30.0, 5.0, 10.0, 20.0], fraction=0.5)
    assert agree.spearman == pytest.approx(1.0) and agree.top_k_overlap == 1.0 and agree.k == 2


def test_remove_and_keep_only_words() -> None:
    ids = [101, 11, 12, 13, 14, 102]
    positions, owner = [1, 2, 3, 4], [0, 0, 1, 2]  # word 0 has two pieces
    assert remove_words(ids, positions, owner, {0}, 0) == [101, 0, 0, 13, 14, 102]
    assert remove_words(ids, positions, owner, {0}, 0, keep_only=True) == [101, 11, 12, 0, 0, 102]


def fake_model(rows: list[list[int]]) -> np.ndarray:
    """Class 1's probability is 0.9 with token 7 present, 0.5 with only token 8, else 0.1."""
    p1 = np.array([0.9 if 7 in r else 0.5 if 8 in r else 0.1 for r in rows])
    return np.stack([1 - p1, p1], axis=1)


def test_comprehensiveness_and_sufficiency_on_a_fake_model() -> None:
    assert comprehensiveness(0.9, 0.2) == pytest.approx(0.7)
    assert sufficiency(0.9, 0.9) == 0.0
    ids = [101, 5, 7, 6, 8, 9, 102]  # words: 0 "the", 1 "great", 2 "film", 3 "good", 4 "."
    positions, owner = [1, 2, 3, 4, 5], [0, 1, 2, 3, 4]
    words = ["the", "great", "film", "good", "."]
    scores = [0.0, 2.0, 0.1, 1.0, -0.3]
    f = faithfulness(fake_model, ids, positions, owner, scores, words, target=1, fraction=0.2, seed=3)
    assert f.k == 1 and f.top_words == ["great"] and f.top_indices == [1]
    assert f.prob_full == pytest.approx(0.9)
    assert f.prob_without_top == pytest.approx(0.5)  # "good" (token 8) is left
    assert f.prob_only_top == pytest.approx(0.9)
    assert f.comprehensiveness == pytest.approx(0.4) and f.sufficiency == pytest.approx(0.0)
    # the random draw is seeded, of the same size, and scored by the same rule
    again = faithfulness(fake_model, ids, positions, owner, scores, words, target=1, fraction=0.2, seed=3)
    assert again.random_indices == f.random_indices and len(f.random_indices) == 1
    r = f.random_indices[0]
    expected_without = {1: 0.5}.get(r, 0.9)
    expected_only = {1: 0.9, 3: 0.5}.get(r, 0.1)
    assert f.prob_without_random == pytest.approx(expected_without)
    assert f.prob_only_random == pytest.approx(expected_only)
    two = faithfulness(fake_model, ids, positions, owner, scores, words, target=1, fraction=0.4)
    assert two.top_words == ["great", "good"] and two.prob_without_top == pytest.approx(0.1)
    assert faithfulness(fake_model, ids, positions, owner, [None] * 5, words, target=1) is None


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


# --------------------------------------------------------------------------- the tiny model


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir, num_labels=3).eval()
    with torch.no_grad():
        model.classifier.weight.mul_(200)  # a random 32-wide head barely moves; make logits matter
    return model, AutoTokenizer.from_pretrained(tiny_model_dir)


@pytest.fixture(scope="module")
def tricky(tiny):
    model, tok = tiny
    return explain(model, tok, LABELS, TRICKY, n_steps=50)


def direct_logits(model, tok, text: str, ids: list[int] | None = None, max_length: int = 512) -> np.ndarray:
    import torch

    enc = tok([text], truncation=True, max_length=max_length, return_tensors="pt")
    if ids is not None:
        enc["input_ids"] = torch.tensor([ids])
    with torch.inference_mode():
        return model(**enc).logits[0].double().numpy()


def test_completeness_word_scores_sum_to_the_score_change(tiny, tricky) -> None:
    model, tok = tiny
    for exp in tricky:
        text_ids = tok(exp.text)["input_ids"]
        base = build_baseline_ids(
            text_ids, tok(exp.text, return_special_tokens_mask=True)["special_tokens_mask"], 0
        )
        target = LABELS.index(exp.target)
        change = (
            direct_logits(model, tok, exp.text)[target] - direct_logits(model, tok, exp.text, base)[target]
        )
        assert exp.score_change == pytest.approx(change, abs=1e-5)
        total = sum(s for s in exp.scores if s is not None)
        assert total == pytest.approx(sum(exp.token_scores), abs=1e-9)
        assert abs(total - change) <= abs(exp.delta) + 1e-5
        assert exp.relative_delta == pytest.approx(relative_delta(exp.delta, exp.score_change))
        assert exp.relative_delta <= 0.05 and exp.trust in ("good", "fair") and exp.n_steps == 50


def test_words_are_exact_substrings_in_order_and_spans_rebuild_the_text(tricky) -> None:
    for exp in tricky:
        assert exp.words == [exp.text[a:b] for a, b in exp.word_spans] == words_of(exp.text)
        assert all(s is not None for s in exp.scores) and not exp.truncated
        assert not {"[CLS]", "[SEP]", "[PAD]"} & (set(exp.words) | set(exp.tokens))
        assert len(exp.tokens) == len(exp.token_scores) == len(exp.token_spans) == len(exp.token_words)
    hello, repeated, accents, chinese, emoji, long_word, spaces = tricky
    assert hello.words == ["Hello", ",", "world", "!"]
    assert repeated.words == ["good", "good", "GOOD", "good"]
    assert accents.words == ["café", "naïve", "Zürich"] and "cafe" in accents.tokens  # uncased strips accents
    assert chinese.words == list("这个手机很好")
    assert emoji.words == ["love", "it", "😍", "great😍"] and "[UNK]" in emoji.tokens
    assert long_word.words == ["antidisestablishmentarianism"] and len(long_word.tokens) > 3
    assert long_word.scores[0] == pytest.approx(sum(long_word.token_scores))
    assert spaces.words == ["leading", "and", "trailing", "spaces", "and", "tabs"]


def test_text_longer_than_max_length_is_flagged_and_unread_words_have_no_score(tiny) -> None:
    model, tok = tiny
    text = " ".join(f"word{i}" for i in range(40))
    (exp,) = explain(model, tok, LABELS, [text], max_length=16)
    assert exp.truncated and "longer" in exp.trust_reason
    assert len(exp.tokens) == 14  # 16 minus [CLS] and [SEP]
    read = [s is not None for s in exp.scores]
    assert read[0] and not read[-1] and read == sorted(read, reverse=True)  # a read prefix, then None
    assert all(exp.word_spans[i][0] < exp.read_span[1] for i, r in enumerate(read) if r)
    assert all(g is None for g, s in zip(exp.gxi_scores, exp.scores, strict=True) if s is None)
    assert json.loads(json.dumps(exp.to_dict(), allow_nan=False))["scores"][-1] is None


def test_prediction_is_exactly_the_models_own(tiny, tricky) -> None:
    model, tok = tiny
    for exp in tricky:
        logits = direct_logits(model, tok, exp.text)
        probs = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
        np.testing.assert_allclose([exp.probabilities[k] for k in LABELS], probs, atol=1e-6)
        assert exp.predicted == LABELS[int(np.argmax(logits))] == exp.target


def test_an_explicit_target_is_attributed(tiny) -> None:
    model, tok = tiny
    first, second = explain(
        model, tok, LABELS, ["a fine day", "a fine day"], targets=["neg", 2], faithfulness=False
    )
    assert (first.target, second.target) == ("neg", "pos") and first.predicted == second.predicted
    assert first.score_change != pytest.approx(second.score_change)
    with pytest.raises(ValueError, match="Unknown class"):
        explain(model, tok, LABELS, ["x"], targets=["maybe"])
    with pytest.raises(ValueError, match="3 classes"):
        explain(model, tok, ["a", "b"], ["x"])


def test_steps_escalate_when_the_tolerance_is_tiny(tiny, monkeypatch) -> None:
    model, tok = tiny
    steps = []
    real = attr._integrate
    monkeypatch.setattr(
        attr, "_integrate", lambda m, b, t, n, budget: steps.append(n) or real(m, b, t, n, budget)
    )
    (exp,) = explain(
        model, tok, LABELS, ["not bad at all"], n_steps=4, max_steps=16, tolerance=1e-12, faithfulness=False
    )
    assert steps == [4, 8, 16]
    assert exp.n_steps in steps and exp.trust in ("fair", "poor") and exp.relative_delta > 1e-12
    (easy,) = explain(
        model, tok, LABELS, ["not bad at all"], n_steps=4, max_steps=16, tolerance=1.0, faithfulness=False
    )
    assert steps == [4, 8, 16, 4] and easy.n_steps == 4


def test_only_unconverged_texts_are_retried(tiny, monkeypatch) -> None:
    """A fake integrator: row "exact" sums to the change, row "rough" misses by 1/steps of it."""
    model, tok = tiny
    real = attr._integrate
    calls = []

    def fake(model, batch, targets, steps, budget):
        out = real(model, batch, targets, 2, budget)  # cheap real shape; rescaled below
        calls.append((steps, len(targets)))
        logits = attr._logits(model, batch, "ids")
        base = attr._logits(model, batch, "base")
        for row, t in enumerate(targets):
            change = logits[row, t] - base[row, t]
            exact = int(batch["mask"][row].sum()) == 4  # "ok fine" -> [CLS] ok fine [SEP]
            out[row] = 0.0
            out[row, 1] = change * (1 if exact else 1 + 1 / steps)
        return out

    monkeypatch.setattr(attr, "_integrate", fake)
    rough, exact = explain(
        model, tok, LABELS, ["this is rough text", "ok fine"], tolerance=0.006, faithfulness=False
    )
    assert calls == [(50, 2), (100, 1), (200, 1)]  # 1/50 and 1/100 miss, 1/200 is within 0.6%
    assert (exact.n_steps, rough.n_steps) == (50, 200)
    assert rough.relative_delta == pytest.approx(1 / 200) and exact.relative_delta == pytest.approx(
        0, abs=1e-9
    )


def test_gradient_x_input_matches_a_hand_computation_and_agreement_is_reported(tiny, tricky) -> None:
    import torch

    model, tok = tiny
    exp = tricky[0]
    enc = tok([exp.text], return_tensors="pt")
    kept = {}
    hook = model.get_input_embeddings().register_forward_hook(lambda m, i, o: kept.setdefault("emb", o))
    logit = model(**enc).logits[0, LABELS.index(exp.target)]
    hook.remove()
    (grad,) = torch.autograd.grad(logit, kept["emb"])
    per_token = (grad * kept["emb"]).sum(-1)[0, 1:-1].detach().double().numpy()  # drop [CLS], [SEP]
    np.testing.assert_allclose(exp.gxi_scores, per_token, rtol=1e-4, atol=1e-7)  # one token per word here
    for e in tricky:
        assert len(e.gxi_scores) == len(e.words)
        if len(e.words) >= 2 and e.agreement.spearman is not None:
            assert -1 <= e.agreement.spearman <= 1
        assert e.agreement.method == "gradient_x_input" and 0 <= e.agreement.top_k_overlap <= 1


def test_faithfulness_numbers_match_removing_the_words_by_hand(tiny, tricky) -> None:
    model, tok = tiny
    exp = tricky[1]  # "good good GOOD good"
    f = exp.faithfulness
    target = LABELS.index(exp.target)
    assert f.prob_full == pytest.approx(exp.probabilities[exp.target], abs=1e-6)
    assert f.k == 1 and f.top_words == [exp.words[int(np.nanargmax(np.array(exp.scores, float)))]]
    ids = tok(exp.text)["input_ids"]
    ids[1 + f.top_indices[0]] = tok.pad_token_id  # one token per word: word i is token i + 1
    logits = direct_logits(model, tok, exp.text, ids)
    p = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    assert f.prob_without_top == pytest.approx(p[target], abs=1e-6)
    assert f.comprehensiveness == pytest.approx(f.prob_full - f.prob_without_top)
    assert exp.comprehensiveness == f.comprehensiveness and exp.sufficiency == f.sufficiency
    again = explain(model, tok, LABELS, [exp.text])[0].faithfulness
    assert again.random_indices == f.random_indices  # seeded by the text


def test_to_dict_is_json_safe(tricky) -> None:
    d = json.loads(json.dumps(tricky[0].to_dict(), allow_nan=False))
    assert d["words"] == ["Hello", ",", "world", "!"] and d["word_spans"][0] == [0, 5]
    assert set(d["faithfulness"]) >= {
        "comprehensiveness",
        "sufficiency",
        "random_comprehensiveness",
        "top_words",
    }
    assert set(d["agreement"]) == {"method", "spearman", "top_k_overlap", "k"}


def test_batches_give_the_same_answer_as_one_by_one(tiny) -> None:
    model, tok = tiny
    texts = ["short", "a somewhat longer sentence here", "mid size text"]
    together = explain(model, tok, LABELS, texts, batch_size=3, faithfulness=False)
    alone = [explain(model, tok, LABELS, [t], faithfulness=False)[0] for t in texts]
    for a, b in zip(together, alone, strict=True):
        np.testing.assert_allclose(a.scores, b.scores, atol=1e-5)
        assert a.text == b.text
    tight = explain(model, tok, LABELS, texts, batch_size=3, faithfulness=False, memory_budget_mb=0.05)
    for a, b in zip(tight, together, strict=True):  # tiny budget: smaller batches and chunks, same scores
        np.testing.assert_allclose(a.scores, b.scores, atol=1e-5)


def test_two_threads_on_one_model_do_not_mix_their_hooks(tiny) -> None:
    model, tok = tiny
    expected = explain(model, tok, LABELS, ["threads are fine"], faithfulness=False)[0].scores
    results = []

    def work() -> None:
        results.append(explain(model, tok, LABELS, ["threads are fine"], faithfulness=False)[0].scores)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        np.testing.assert_allclose(r, expected, atol=1e-6)


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


# --------------------------------------------------------------------------- token classification


@pytest.fixture(scope="module")
def tiny_tagger(tiny_model_dir):
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    torch.manual_seed(1)
    model = AutoModelForTokenClassification.from_pretrained(tiny_model_dir, num_labels=3).eval()
    with torch.no_grad():
        model.classifier.weight.mul_(200)
    return model, AutoTokenizer.from_pretrained(tiny_model_dir)


def test_token_explanation_targets_the_first_subword_of_the_word(tiny_tagger) -> None:
    import torch

    model, tok = tiny_tagger
    tokens = ["Jean-Luc", "Picard", "commands", "the", "Enterprise", "."]
    exp = explain_token(model, tok, TAGS, tokens, word_index=1)
    assert exp.task == "token-classification" and exp.word_index == 1
    assert exp.words == tokens and exp.text == " ".join(tokens)
    assert [exp.text[a:b] for a, b in exp.word_spans] == tokens
    enc = tok([tokens], is_split_into_words=True, return_tensors="pt")
    position = enc.word_ids(0).index(1)
    with torch.inference_mode():
        logits = model(**enc).logits[0, position].double().numpy()
    assert exp.predicted == TAGS[int(np.argmax(logits))]
    probs = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    np.testing.assert_allclose([exp.probabilities[t] for t in TAGS], probs, atol=1e-6)
    assert sum(s for s in exp.scores if s is not None) == pytest.approx(
        exp.score_change, abs=abs(exp.delta) + 1e-5
    )
    assert exp.relative_delta <= 0.05 and exp.faithfulness is not None and not exp.truncated
    assert exp.scores[0] == pytest.approx(
        sum(s for s, w in zip(exp.token_scores, exp.token_words, strict=True) if w == 0)
    )
    by_span = explain_token(
        model, tok, TAGS, tokens, char_span=(9, 12), faithfulness=False
    )  # inside "Picard"
    assert by_span.word_index == 1 and by_span.scores == pytest.approx(exp.scores, abs=1e-6)
    with pytest.raises(ValueError, match="either"):
        explain_token(model, tok, TAGS, tokens)
    with pytest.raises(ValueError, match="outside"):
        explain_token(model, tok, TAGS, tokens, word_index=9)


def test_long_sentence_uses_the_window_around_the_word(tiny_tagger) -> None:
    model, tok = tiny_tagger
    tokens = [f"w{i}" for i in range(30)]
    near_end, near_start = explain_tokens(
        model, tok, TAGS, [tokens, tokens], [27, 1], max_length=12, faithfulness=False
    )
    for exp, index in ((near_end, 27), (near_start, 1)):
        assert exp.truncated and exp.scores[index] is not None
        assert sum(s is None for s in exp.scores) > 0
    assert near_end.scores[0] is None and near_start.scores[-1] is None


def test_real_model_converges_at_the_default_steps(real_model_dir) -> None:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(real_model_dir, num_labels=3).eval()
    tok = AutoTokenizer.from_pretrained(real_model_dir)
    (exp,) = explain(
        model, tok, LABELS, ["The screen is sharp but the battery dies by noon."], faithfulness=False
    )
    assert exp.n_steps == 50 and exp.relative_delta < 0.05 and not math.isnan(exp.delta)
    assert exp.words[-1] == "." and len(exp.scores) == 11
