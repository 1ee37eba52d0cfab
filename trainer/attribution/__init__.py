"""Why the model decided: integrated gradients on the word embeddings, summed into the user's words.

Decisions a caller relies on:

* Method and baseline: see `engine.py` (Captum LayerIntegratedGradients on the word embeddings, the
  target class's logit, a [PAD] baseline keeping special tokens). Special tokens are never shown.
* Words: the rule of `trainer.data.word_rule`; words are exact substrings of the text with their spans.
* Subword -> word: `words.py`; word scores sum to token scores, which sum to F(x) - F(baseline) - delta
  (completeness).
* Not read (past max_length, or outside the window chosen for a tag): score None, `truncated=True`.
* Convergence: `relative_delta = |delta| / max(|F(x) - F(baseline)|, DELTA_FLOOR)`; texts above the
  tolerance are re-run with more steps (`integrated_gradients.step_schedule`).
* Faithfulness: `faithfulness.py`; the random words are drawn with a seed made from `seed` and the
  text, so a text always gets the same draw.
* Concurrency: every call on one model holds `trainer.model.loading.model_lock(model)`.

Modules: `words` (tokens -> words), `integrated_gradients` (the arithmetic), `engine` (Captum/torch),
`inputs` (texts and words as model inputs), `faithfulness`, `dataset` (many texts, word rankings).
"""

from __future__ import annotations

from trainer.attribution.api import explain, explain_token, explain_tokens
from trainer.attribution.dataset import WordStat, explain_dataset, top_words_per_class
from trainer.attribution.engine import Explanation, Settings, explain_items
from trainer.attribution.faithfulness import (
    Agreement,
    Faithfulness,
    FaithfulnessPlan,
    agreement,
    comprehensiveness,
    faithfulness,
    faithfulness_result,
    plan_faithfulness,
    remove_words,
    spearman,
    sufficiency,
    top_k_count,
    top_k_indices,
    top_k_overlap,
)
from trainer.attribution.inputs import text_items, token_item, word_at
from trainer.attribution.integrated_gradients import (
    DELTA_FLOOR,
    build_baseline_ids,
    choose_internal_batch_size,
    relative_delta,
    rows_budget,
    step_schedule,
    trust_level,
)
from trainer.attribution.token_words import aggregate_to_words, is_cjk, joined_spans, read_scores, word_spans

__all__ = [
    "Agreement",
    "DELTA_FLOOR",
    "Explanation",
    "Faithfulness",
    "FaithfulnessPlan",
    "Settings",
    "WordStat",
    "aggregate_to_words",
    "agreement",
    "build_baseline_ids",
    "choose_internal_batch_size",
    "comprehensiveness",
    "explain",
    "explain_dataset",
    "explain_items",
    "explain_token",
    "explain_tokens",
    "faithfulness",
    "faithfulness_result",
    "is_cjk",
    "joined_spans",
    "plan_faithfulness",
    "read_scores",
    "relative_delta",
    "remove_words",
    "rows_budget",
    "spearman",
    "step_schedule",
    "sufficiency",
    "text_items",
    "token_item",
    "top_k_count",
    "top_k_indices",
    "top_k_overlap",
    "top_words_per_class",
    "trust_level",
    "word_at",
    "word_spans",
]
