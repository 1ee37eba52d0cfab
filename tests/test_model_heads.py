"""The mean-pooling sentence head: built from stock BERT parts, it starts as the masked mean of the token
vectors, trains like any layer, and saves a model that `transformers.pipeline` loads with the user's labels."""

import json

import pytest
import torch
from transformers import AutoModel, AutoTokenizer, DistilBertConfig

from trainer.model.heads import pooling_for
from trainer.model.loading import load_model
from trainer.tasks import TEXT_TASK, TOKEN_TASK, get_task

# Numerics: `make test` runs this module again under the AVX2-only kernels (pyproject's `kernels`).
pytestmark = pytest.mark.kernels


LABELS = ["billing", "delivery", "refund"]
TEXTS = ["where is my parcel", "I was charged twice for the same order and nobody answers", "refund please"]


def _mean_head(tiny_model_dir):
    torch.manual_seed(0)
    return load_model(str(tiny_model_dir), get_task(TEXT_TASK), LABELS, pooling="mean").eval()


def test_the_head_starts_as_the_layer_normalised_mean_of_the_words(tiny_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    backbone = AutoModel.from_pretrained(tiny_model_dir).eval()
    model = _mean_head(tiny_model_dir)
    with torch.no_grad():
        words = backbone(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        mean = (words * mask).sum(1) / mask.sum(1)
        expected = torch.nn.functional.layer_norm(mean + words[:, 0], (words.shape[-1],), eps=1e-12)
        pooled = model.bert(**batch).pooler_output
    assert torch.allclose(pooled, torch.tanh(expected), atol=1e-4), "reads LayerNorm(mean + [CLS])"


def test_padding_does_not_change_what_the_head_reads(tiny_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = _mean_head(tiny_model_dir)
    with torch.no_grad():
        alone = model(**tokenizer(TEXTS[:1], return_tensors="pt")).logits
        padded = model(**tokenizer(TEXTS, padding=True, return_tensors="pt")).logits[:1]
    assert torch.allclose(alone, padded, atol=1e-5), "padding tokens are outside the mean"


def test_the_saved_model_is_a_stock_bert_that_a_pipeline_answers_with_the_users_labels(
    tiny_model_dir, tmp_path
):
    from transformers import pipeline

    model = _mean_head(tiny_model_dir)
    model.save_pretrained(tmp_path)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["architectures"] == ["BertForSequenceClassification"]
    assert config["num_hidden_layers"] == 3, "the tiny backbone's 2 layers plus the pooling layer"
    assert "auto_map" not in config, "no custom code to trust"

    classify = pipeline("text-classification", model=str(tmp_path), top_k=None)
    (answers,) = classify([TEXTS[1]])
    assert {a["label"] for a in answers} == set(LABELS)
    with torch.no_grad():
        tokenizer = AutoTokenizer.from_pretrained(tmp_path)
        probs = model(**tokenizer(TEXTS[1], return_tensors="pt")).logits.softmax(-1)[0]
    for answer in answers:
        assert answer["score"] == pytest.approx(probs[LABELS.index(answer["label"])].item(), abs=1e-5)


def test_entity_runs_cls_pooling_and_other_families_keep_the_stock_head(tiny_model_dir):
    stock = json.loads((tiny_model_dir / "config.json").read_text())["num_hidden_layers"]
    token = load_model(str(tiny_model_dir), get_task(TOKEN_TASK), ["O", "B-X", "I-X"], pooling="mean")
    assert token.config.num_hidden_layers == stock
    cls = load_model(str(tiny_model_dir), get_task(TEXT_TASK), LABELS, pooling="cls")
    assert cls.config.num_hidden_layers == stock
    assert pooling_for("mean", get_task(TEXT_TASK), DistilBertConfig()) == "cls"
    assert pooling_for("mean", get_task(TEXT_TASK), token.config) == "mean"
