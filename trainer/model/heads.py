"""A mean-pooling classification head built from stock transformers parts.

all-MiniLM-L6-v2 was trained to be read by averaging its token vectors; the stock
BertForSequenceClassification reads the [CLS] vector only. Measured on CR and TREC (bench/RESULTS.md,
"Stronger defaults"), reading the mean gives better text classifiers. A custom nn.Module would need
`trust_remote_code` to load, so the head is built as one more *standard* BERT encoder layer whose
initial weights compute the masked mean:

- query and key weights are zero, so every attention score is 0 and softmax is uniform over the tokens
  the attention mask keeps: each position's attention output is the mean of the value vectors;
- value and attention-output weights are the identity, so that mean is the mean of the last layer's
  token vectors, added to the residual and layer-normalised;
- the feed-forward output is zero, so the layer's output at [CLS] is LayerNorm(mean + h[CLS]);
- the pooler's dense layer starts as the identity, so the classifier reads (tanh of) that vector.

Training then adjusts the layer like any other. The saved model is a plain BertForSequenceClassification
with one more layer in its config: `transformers.pipeline` loads it as it is, with the user's labels.
Other model families (RoBERTa, DistilBERT, ...) keep their stock head.
"""

from __future__ import annotations

from typing import Any

POOLING = ("mean", "cls")


def supports_mean_pooling(config: Any) -> bool:
    """Whether a backbone's config is a BERT whose layers this construction can extend."""
    return getattr(config, "model_type", None) == "bert"


def pooling_for(pooling: str, task: Any, config: Any) -> str:
    """The pooling a model gets: "mean" when asked for, the task has a sentence head and the backbone
    is a BERT; "cls" (the stock head) otherwise."""
    return "mean" if pooling == "mean" and task.sentence_head and supports_mean_pooling(config) else "cls"


def init_mean_layer(layer: Any, hidden: int) -> None:
    """Make a BertLayer output LayerNorm(masked_mean(h) + h) at every position (see the module doc)."""
    import torch

    attention = layer.attention
    with torch.no_grad():
        for linear in (attention.self.query, attention.self.key):
            linear.weight.zero_()
            linear.bias.zero_()
        for linear in (attention.self.value, attention.output.dense):
            linear.weight.copy_(torch.eye(hidden))
            linear.bias.zero_()
        for norm in (attention.output.LayerNorm, layer.output.LayerNorm):
            norm.weight.fill_(1.0)
            norm.bias.zero_()
        layer.output.dense.weight.zero_()
        layer.output.dense.bias.zero_()


def mean_pooling_classifier(auto: Any, path: str, config: Any, **kwargs: Any) -> Any:
    """`auto.from_pretrained(path, **kwargs)` with the extra mean-pooling layer and an identity pooler;
    `config` is the backbone's (already read by the caller), extended here."""
    import torch
    from transformers.utils import logging as hf_logging

    layers = config.num_hidden_layers
    config.num_hidden_layers = layers + 1
    for key in ("num_labels", "id2label", "label2id"):
        if key in kwargs:
            setattr(config, key, kwargs.pop(key))
    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # the new layer is "missing from the checkpoint" by design: no table
    try:
        model = auto.from_pretrained(path, config=config, **kwargs)
    finally:
        hf_logging.set_verbosity(level)
    hidden = config.hidden_size
    init_mean_layer(model.bert.encoder.layer[layers], hidden)
    with torch.no_grad():
        model.bert.pooler.dense.weight.copy_(torch.eye(hidden))
        model.bert.pooler.dense.bias.zero_()
    return model
