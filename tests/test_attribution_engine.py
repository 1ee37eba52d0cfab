"""trainer.attribution.engine: integrated gradients on the tiny BERT (and once on the real one)."""

from __future__ import annotations

import json
import math
import threading

import numpy as np
import pytest
from attribution_helpers import LABELS, TRICKY, words_of

from trainer.attribution import (
    build_baseline_ids,
    engine,
    explain,
    relative_delta,
)

# Numerics: `make test` runs this module again under the AVX2-only kernels (pyproject's `kernels`).
pytestmark = pytest.mark.kernels


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
        # The engine reads the change from a padded batch, the test from one row: fp32 matrix products
        # differ in the last bits with the batch's shape (more so on AMX), so 1e-5 relative, not exact.
        assert exp.score_change == pytest.approx(change, rel=1e-5, abs=1e-5)
        total = sum(s for s in exp.scores if s is not None)
        assert total == pytest.approx(sum(exp.token_scores), abs=1e-9)
        assert abs(total - change) <= abs(exp.delta) + 1e-5 * max(1.0, abs(change))
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
    assert chinese.words == ["这个", "手机", "很", "好"] and len(chinese.tokens) == 6  # a token per character
    assert chinese.scores[0] == pytest.approx(sum(chinese.token_scores[:2]))  # 这个 = 这 + 个
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
        # padded batch vs one row: logits agree to ~1e-6 relative (fp32); softmax's slope is at most 1/2
        np.testing.assert_allclose([exp.probabilities[k] for k in LABELS], probs, atol=1e-5)
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
    real = engine._integrate
    monkeypatch.setattr(
        engine, "_integrate", lambda m, b, t, n, budget: steps.append(n) or real(m, b, t, n, budget)
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


def _real_tokens(batch, row: int) -> tuple[int, ...]:
    mask = batch["mask"][row].bool()
    return tuple(int(i) for i in batch["ids"][row][mask])


def test_only_unconverged_texts_are_retried(tiny, monkeypatch) -> None:
    """A fake integrator: row "exact" sums to the change, row "rough" misses by 1/steps of it."""
    model, tok = tiny
    real = engine._integrate
    calls = []

    changes = {}  # a text's real tokens -> its score change, as the engine computed it

    def fake(model, batch, targets, steps, budget):
        out = real(model, batch, targets, 2, budget)  # cheap real shape; rescaled below
        calls.append((steps, len(targets)))
        if not changes:  # the first call sees the engine's own padded batch: the same logits as its change
            logits = engine._logits(model, batch, "ids")
            base = engine._logits(model, batch, "base")
            for row, t in enumerate(targets):
                changes[_real_tokens(batch, row)] = logits[row, t] - base[row, t]
        for row in range(len(targets)):
            # Retries re-run a text alone; its logits alone differ from the padded batch's in the last
            # bits on some CPUs (AMX), so the change is read from the first call, never recomputed.
            change = changes[_real_tokens(batch, row)]
            exact = int(batch["mask"][row].sum()) == 4  # "ok fine" -> [CLS] ok fine [SEP]
            out[row] = 0.0
            out[row, 1] = change * (1 if exact else 1 + 1 / steps)
        return out

    monkeypatch.setattr(engine, "_integrate", fake)
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
    # one token per word here; a sum over the hidden size can cancel to ~0, so the slack scales with the largest
    np.testing.assert_allclose(exp.gxi_scores, per_token, rtol=1e-4, atol=1e-4 * np.abs(per_token).max())
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
    assert f.prob_full == pytest.approx(exp.probabilities[exp.target], abs=1e-5)  # another batch's shape
    assert f.k == 1 and f.top_words == [exp.words[int(np.nanargmax(np.array(exp.scores, float)))]]
    ids = tok(exp.text)["input_ids"]
    ids[1 + f.top_indices[0]] = tok.pad_token_id  # one token per word: word i is token i + 1
    logits = direct_logits(model, tok, exp.text, ids)
    p = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    assert f.prob_without_top == pytest.approx(p[target], abs=1e-5)
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
        assert a.text == b.text and a.n_steps == b.n_steps
        np.testing.assert_allclose(
            a.scores, b.scores, rtol=1e-4, atol=1e-5 * max(1.0, np.abs(b.scores).max())
        )
    tight = explain(model, tok, LABELS, texts, batch_size=3, faithfulness=False, memory_budget_mb=0.05)
    for a, b in zip(tight, together, strict=True):  # tiny budget: smaller batches and chunks, same scores
        np.testing.assert_allclose(
            a.scores, b.scores, rtol=1e-4, atol=1e-5 * max(1.0, np.abs(b.scores).max())
        )


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
