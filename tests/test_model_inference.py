"""trainer.model.inference: batched forward passes give each input the model's own answer, in input order."""

from __future__ import annotations

import numpy as np
import pytest

from trainer.model.inference import mean_pool, softmax
from trainer.model.loading import model_lock
from trainer.tasks import TEXT_TASK, TOKEN_TASK, get_task

TEXT, TOKEN = get_task(TEXT_TASK), get_task(TOKEN_TASK)


# Numerics: `make test` runs this module again under the AVX2-only kernels (pyproject's `kernels`).
pytestmark = pytest.mark.kernels


def direct(model, tok, texts):
    import torch

    with torch.inference_mode():
        return np.stack([model(**tok([t], return_tensors="pt")).logits[0].float().numpy() for t in texts])


def test_softmax_is_stable_and_sums_to_one():
    probs = softmax(np.array([[1000.0, 1000.0], [0.0, np.log(3.0)]]))
    np.testing.assert_allclose(probs, [[0.5, 0.5], [0.25, 0.75]])


def test_batched_logits_are_each_texts_own_in_input_order(tiny):
    model, tok = tiny
    texts = ["a long review that goes on and on about the film", "short", "a middling one here"]
    progress = []
    batched = TEXT.logits(model, tok, texts, 64, batch_size=2, progress=lambda d, t: progress.append((d, t)))
    np.testing.assert_allclose(batched, direct(model, tok, texts), atol=1e-4)
    assert progress == [(2, 3), (3, 3)]


def test_mean_pool_ignores_padding():
    import torch

    hidden = torch.tensor([[[1.0, 1.0], [3.0, 3.0], [100.0, 100.0]]])
    assert mean_pool(hidden, torch.tensor([[1, 1, 0]])).tolist() == [[2.0, 2.0]]


def test_embeddings_of_a_classifier_are_its_encoders(tiny):
    model, tok = tiny
    vectors = TEXT.embed(model, tok, ["good film", "bad film"], 32)
    assert vectors.shape == (2, model.config.hidden_size) and not np.allclose(vectors[0], vectors[1])


def test_long_sentences_are_read_in_windows_and_every_word_gets_a_row(tiny_tagger):
    model, tok = tiny_tagger
    words = [f"w{i}" for i in range(40)]
    (per_word,) = TOKEN.logits(model, tok, [words], 12)
    assert per_word.shape == (40, model.config.num_labels)
    assert not np.any(np.all(per_word == 0, axis=1)), "no word is left without logits"


def test_a_forward_pass_waits_for_the_models_lock(tiny):
    import threading

    model, tok = tiny
    done = threading.Event()
    with model_lock(model):
        worker = threading.Thread(target=lambda: (TEXT.logits(model, tok, ["x"], 16), done.set()))
        worker.start()
        assert not done.wait(0.3), "the pass started while another thread held the lock"
    assert done.wait(30)
    worker.join()


@pytest.mark.parametrize("batch_size", [1, 64])
def test_batch_size_does_not_change_the_answer(tiny, batch_size):
    model, tok = tiny
    texts = ["one", "two words", "three words here"]
    np.testing.assert_allclose(
        TEXT.logits(model, tok, texts, 32, batch_size), direct(model, tok, texts), atol=1e-4
    )
