"""trainer.attribution.inputs: which window and which token a word of a sentence is explained through."""

from __future__ import annotations

import numpy as np
import pytest
from attribution_helpers import TAGS

from trainer.attribution import (
    explain_token,
    explain_tokens,
)


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
