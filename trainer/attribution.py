"""Why the model decided: integrated gradients on the word embeddings, summed into the user's words.

Decisions a caller relies on:

* Method: Captum `LayerIntegratedGradients` on `model.get_input_embeddings()` (the word-embedding
  output; position and token-type embeddings are left alone), attributing the target class's LOGIT
  (default target: the predicted class). Baseline: the same ids with every non-special token replaced
  by [PAD]; special tokens ([CLS], [SEP], ...) kept; the same attention mask. Special tokens are never
  shown (their attribution is exactly 0: they equal the baseline).
* Words: maximal runs of non-whitespace, split further so that every punctuation character (BERT's
  rule: ASCII non-alphanumeric symbols and Unicode category P*) and every CJK ideograph is its own
  word. Letters, digits, accents, emoji and other symbols stay in their run ("great😍" is one word).
  Words are exact substrings of the text, each with its (start, end) character span.
* Subword -> word: a token's score goes to the words its character span overlaps, split in proportion
  to the overlapped characters; a token overlapping no word goes to the nearest word. So word scores
  sum to token scores, which sum to F(x) - F(baseline) - delta (completeness).
* Not read (past max_length, or outside the window chosen for a tag): score None, `truncated=True`.
* Convergence: `relative_delta = |delta| / max(|F(x) - F(baseline)|, DELTA_FLOOR)`. Texts above the
  tolerance are re-run alone with more steps (50 -> 100 -> 200 -> max_steps); the best run is kept.
* Removal (faithfulness): a removed word's tokens are replaced by [PAD] in place, the same "absence"
  as the baseline; length, positions (and the explained token's position) do not move. The top words
  are the ceil(fraction * n_words) highest-scoring ones (toward the target); the random words are as
  many, drawn with a seed made from `seed` and the text, so a text always gets the same draw.
* Concurrency: Captum hooks the embedding layer while it attributes, so every call on one model holds
  `model_lock(model)`; other code that runs the same model object from another thread should too.
"""

from __future__ import annotations

import bisect
import math
import threading
import unicodedata
import weakref
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from trainer.config import TEXT_TASK, TOKEN_TASK

DELTA_FLOOR = 1e-3  # logits; below this |F(x) - F(baseline)| the text barely moves the score
FAIR_FACTOR = 4.0  # relative delta up to FAIR_FACTOR * tolerance is "fair", above is "poor"
# Memory rule: one (text x step) row of an IG chunk keeps seq_len * hidden * layers * ACTIVATION_BYTES
# of activations for the backward pass. Measured 66-74 bytes on an H100 for BERT shapes (hidden 384-768,
# 6-12 layers, 16-512 tokens); 96 leaves headroom for the allocator.
ACTIVATION_BYTES = 96
CPU_BUDGET_MB = 256  # per chunk on CPU/MPS: ~70 short MiniLM rows; bigger chunks were no faster on CPU
CUDA_BUDGET_SHARE = 0.4  # per chunk on CUDA: this share of the free GPU memory

Progress = Callable[[int, int], None]
ProbFn = Callable[[list[list[int]]], np.ndarray]  # equal-length id rows -> (rows, C) probabilities

_CJK_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)


# --------------------------------------------------------------------------- results


@dataclass
class Agreement:
    """How far a second, cheaper method ranks the words like integrated gradients."""

    method: str  # "gradient_x_input"
    spearman: float | None  # rank correlation of word scores; None with < 2 words or constant scores
    top_k_overlap: float | None  # share of IG's top-k words also in the other method's top k
    k: int


@dataclass
class Faithfulness:
    """What happens to the target's probability when the top (or random) words are removed/kept."""

    fraction: float
    k: int
    top_words: list[str]
    top_indices: list[int]  # word indices
    random_words: list[str]
    random_indices: list[int]
    prob_full: float
    prob_without_top: float
    prob_only_top: float
    prob_without_random: float
    prob_only_random: float
    comprehensiveness: float  # prob_full - prob_without_top: higher = the top words matter
    sufficiency: float  # prob_full - prob_only_top: lower = the top words alone keep the answer
    random_comprehensiveness: float
    random_sufficiency: float


@dataclass
class Explanation:
    """One explained prediction, in plain values (no colours, no HTML)."""

    text: str
    task: str
    predicted: str
    target: str
    probabilities: dict[str, float]
    words: list[str]
    word_spans: list[tuple[int, int]]
    scores: list[float | None]  # integrated gradients per word; None where not read
    tokens: list[str]  # subword tokens read (special tokens left out)
    token_scores: list[float]
    token_spans: list[tuple[int, int]]
    token_words: list[int]  # word index of each token (-1 for none)
    delta: float  # sum(attributions) - (F(x) - F(baseline)), in logits
    relative_delta: float
    score_change: float  # F(x) - F(baseline): target logit on the text minus on the baseline
    n_steps: int
    trust: str  # "good" | "fair" | "poor"
    trust_reason: str
    gxi_scores: list[float | None]  # gradient x input per word
    agreement: Agreement | None
    faithfulness: Faithfulness | None
    truncated: bool
    read_span: tuple[int, int]  # characters of the text the model read
    word_index: int | None = None  # token task: the explained word
    method: str = "integrated_gradients"

    @property
    def comprehensiveness(self) -> float | None:
        return self.faithfulness.comprehensiveness if self.faithfulness else None

    @property
    def sufficiency(self) -> float | None:
        return self.faithfulness.sufficiency if self.faithfulness else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (tuples as lists, NaN/inf as None)."""
        return _json_safe(asdict(self))


@dataclass
class WordStat:
    """One word's attribution toward a class, over many explanations."""

    word: str
    mean: float
    total: float
    count: int


# --------------------------------------------------------------------------- words


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def is_cjk(ch: str) -> bool:
    """A Chinese/Japanese/Korean ideograph or syllable: a word on its own."""
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _CJK_RANGES)


def word_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each word: non-whitespace runs, punctuation and CJK characters on their own."""
    spans: list[tuple[int, int]] = []
    start = None
    for i, ch in enumerate(text):
        alone = _is_punctuation(ch) or is_cjk(ch)
        if (ch.isspace() or alone) and start is not None:
            spans.append((start, i))
            start = None
        if alone:
            spans.append((i, i + 1))
        elif not ch.isspace() and start is None:
            start = i
    if start is not None:
        spans.append((start, len(text)))
    return spans


def joined_spans(tokens: Sequence[str]) -> list[tuple[int, int]]:
    """Spans of pre-split words in `" ".join(tokens)`."""
    spans, pos = [], 0
    for token in tokens:
        spans.append((pos, pos + len(token)))
        pos += len(token) + 1
    return spans


def _token_parts(start: int, end: int, starts: list[int], ends: list[int]) -> list[tuple[int, int]]:
    """(word, overlapped chars) for one token span; the nearest word (weight 1) if it overlaps none."""
    parts = []
    i = bisect.bisect_right(ends, start)
    while i < len(starts) and starts[i] < end:
        overlap = min(end, ends[i]) - max(start, starts[i])
        if overlap > 0:
            parts.append((i, overlap))
        i += 1
    if parts or not starts:
        return parts
    inside = bisect.bisect_right(starts, start) - 1
    if inside >= 0 and ends[inside] > start:
        return [(inside, 1)]
    nxt = bisect.bisect_left(starts, end)
    prev = nxt - 1
    if nxt >= len(starts) or (prev >= 0 and start - ends[prev] < starts[nxt] - end):
        return [(prev, 1)]
    return [(nxt, 1)]


def aggregate_to_words(
    token_spans: Sequence[tuple[int, int]], token_scores: Sequence[float], spans: Sequence[tuple[int, int]]
) -> tuple[np.ndarray, list[int]]:
    """Sum token scores into words: ((n_words,) float64, NaN where no token; main word per token)."""
    starts = [s for s, _ in spans]
    ends = [e for _, e in spans]
    scores = np.full(len(spans), np.nan)
    token_words = []
    for (start, end), value in zip(token_spans, token_scores, strict=True):
        parts = _token_parts(start, end, starts, ends)
        total = sum(chars for _, chars in parts)
        for word, chars in parts:
            scores[word] = np.nan_to_num(scores[word]) + float(value) * chars / total
        token_words.append(max(parts, key=lambda p: p[1])[0] if parts else -1)
    return scores, token_words


def read_scores(
    raw: np.ndarray, spans: Sequence[tuple[int, int]], read_span: tuple[int, int]
) -> list[float | None]:
    """Word scores for display: None outside what the model read, 0.0 for a read word with no token."""
    out: list[float | None] = []
    for value, (start, end) in zip(raw, spans, strict=True):
        if not np.isnan(value):
            out.append(float(value))
        elif end <= read_span[0] or start >= read_span[1]:
            out.append(None)
        else:
            out.append(0.0)
    return out


# --------------------------------------------------------------------------- IG arithmetic


def build_baseline_ids(input_ids: Sequence[int], special_mask: Sequence[int], pad_id: int) -> list[int]:
    """The IG baseline: special tokens kept, every other token replaced by [PAD]."""
    return [tok if special else pad_id for tok, special in zip(input_ids, special_mask, strict=True)]


def relative_delta(delta: float, score_change: float, floor: float = DELTA_FLOOR) -> float:
    """|delta| relative to |F(x) - F(baseline)| (floored, so a near-zero change is not divided by ~0)."""
    return abs(delta) / max(abs(score_change), floor)


def step_schedule(n_steps: int, max_steps: int) -> list[int]:
    """Step counts to try in turn: n_steps, doubled each retry, capped at max_steps."""
    steps = [n_steps]
    while steps[-1] < max_steps:
        steps.append(min(steps[-1] * 2, max_steps))
    return steps


def rows_budget(seq_len: int, hidden_size: int, n_layers: int, budget_mb: float) -> int:
    """How many (text x step) rows of this length fit one forward/backward in `budget_mb` (>= 1).

    Rule: a row costs seq_len * hidden_size * n_layers * ACTIVATION_BYTES of activations kept for the
    backward pass.
    """
    per_row = max(1, seq_len) * hidden_size * max(1, n_layers) * ACTIVATION_BYTES
    return max(1, int(budget_mb * 2**20 // per_row))


def choose_internal_batch_size(
    n_examples: int, n_steps: int, seq_len: int, hidden_size: int, n_layers: int, budget_mb: float
) -> int:
    """Captum's internal_batch_size: whole steps of all examples per chunk, within the memory budget."""
    rows = rows_budget(seq_len, hidden_size, n_layers, budget_mb)
    steps_per_chunk = min(n_steps, max(1, rows // max(1, n_examples)))
    return steps_per_chunk * max(1, n_examples)


def trust_level(
    rel_delta: float, tolerance: float, n_steps: int, score_change: float, truncated: bool = False
) -> tuple[str, str]:
    """("good" | "fair" | "poor", a one-line reason) from the convergence of the attribution."""
    pct = "<0.1%" if rel_delta < 0.001 else f"{rel_delta:.1%}"
    if rel_delta <= tolerance:
        level, reason = (
            "good",
            f"Word scores add up to the model's score change within {pct} ({n_steps} steps).",
        )
    elif rel_delta <= FAIR_FACTOR * tolerance:
        level = "fair"
        reason = f"Word scores add up only within {pct} after {n_steps} steps: trust the ranking more than the numbers."
    else:
        level = "poor"
        reason = f"Word scores miss the model's score change by {pct} even after {n_steps} steps: they may mislead."
    if level == "good" and abs(score_change) < DELTA_FLOOR:
        level = "fair"
        reason = "The text barely moves the score away from an empty input, so every word score is near zero."
    if truncated:
        reason += " Only the start of the text was read (it is longer than the model's limit)."
    return level, reason


# --------------------------------------------------------------------------- agreement & faithfulness


def spearman(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Spearman rank correlation (ties averaged); None with < 2 values or a constant side."""
    from scipy.stats import rankdata

    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    return float(np.corrcoef(rankdata(x), rankdata(y))[0, 1])


def top_k_indices(scores: Sequence[float | None], k: int) -> list[int]:
    """Indices of the k highest scores (None/NaN skipped), earlier position first on ties."""
    valid = [(i, float(s)) for i, s in enumerate(scores) if s is not None and not math.isnan(s)]
    valid.sort(key=lambda p: (-p[1], p[0]))
    return [i for i, _ in valid[:k]]


def top_k_overlap(a: Sequence[float], b: Sequence[float], k: int) -> float | None:
    """Share of a's top-k indices that are also in b's top k."""
    if k <= 0:
        return None
    return len(set(top_k_indices(a, k)) & set(top_k_indices(b, k))) / k


def top_k_count(n_words: int, fraction: float) -> int:
    """How many words are 'the top words': ceil(fraction * n), at least 1, at most n."""
    return min(n_words, max(1, math.ceil(fraction * n_words)))


def agreement(
    ig: Sequence[float | None], other: Sequence[float | None], fraction: float = 0.2
) -> Agreement | None:
    """Rank agreement of two word-score lists over the words both scored."""
    pairs = [(x, y) for x, y in zip(ig, other, strict=True) if x is not None and y is not None]
    if not pairs:
        return None
    x, y = [p[0] for p in pairs], [p[1] for p in pairs]
    k = top_k_count(len(pairs), fraction)
    return Agreement("gradient_x_input", spearman(x, y), top_k_overlap(x, y, k), k)


def remove_words(
    input_ids: Sequence[int],
    token_positions: Sequence[int],
    token_words: Sequence[int],
    chosen: set[int],
    pad_id: int,
    keep_only: bool = False,
) -> list[int]:
    """Ids with the chosen words' tokens replaced by [PAD] (keep_only: all other words' tokens)."""
    ids = list(input_ids)
    for pos, word in zip(token_positions, token_words, strict=True):
        if (word in chosen) != keep_only:
            ids[pos] = pad_id
    return ids


def comprehensiveness(prob_full: float, prob_removed: float) -> float:
    """Drop in the target's probability when the chosen words are removed (higher = they matter)."""
    return float(prob_full - prob_removed)


def sufficiency(prob_full: float, prob_kept: float) -> float:
    """Drop in the target's probability when only the chosen words are kept (lower = they suffice)."""
    return float(prob_full - prob_kept)


@dataclass
class FaithfulnessPlan:
    """The words to remove and the 5 id rows to score: full, without top, only top, without/only random."""

    k: int
    top: list[int]
    random: list[int]
    rows: list[list[int]]


def plan_faithfulness(
    input_ids: Sequence[int],
    token_positions: Sequence[int],
    token_words: Sequence[int],
    scores: Sequence[float | None],
    fraction: float = 0.2,
    pad_id: int = 0,
    seed: int = 0,
) -> FaithfulnessPlan | None:
    """Choose the top-scored words and as many random ones (seeded); None when no word was read."""
    seen = set(token_words)
    readable = [i for i, s in enumerate(scores) if s is not None and i in seen]
    if not readable:
        return None
    k = top_k_count(len(readable), fraction)
    top = top_k_indices([scores[i] if i in seen else None for i in range(len(scores))], k)
    rng = np.random.default_rng(seed)
    rand = sorted(int(i) for i in rng.choice(readable, size=k, replace=False))
    rows = [list(input_ids)]
    for chosen in (set(top), set(rand)):
        rows.append(remove_words(input_ids, token_positions, token_words, chosen, pad_id))
        rows.append(remove_words(input_ids, token_positions, token_words, chosen, pad_id, keep_only=True))
    return FaithfulnessPlan(k, top, rand, rows)


def faithfulness_result(
    plan: FaithfulnessPlan, target_probs: Sequence[float], words: Sequence[str], fraction: float
) -> Faithfulness:
    """The numbers, from the target's probability on each of the plan's 5 rows."""
    p = [float(x) for x in target_probs]
    return Faithfulness(
        fraction=fraction,
        k=plan.k,
        top_words=[words[i] for i in plan.top],
        top_indices=plan.top,
        random_words=[words[i] for i in plan.random],
        random_indices=plan.random,
        prob_full=p[0],
        prob_without_top=p[1],
        prob_only_top=p[2],
        prob_without_random=p[3],
        prob_only_random=p[4],
        comprehensiveness=comprehensiveness(p[0], p[1]),
        sufficiency=sufficiency(p[0], p[2]),
        random_comprehensiveness=comprehensiveness(p[0], p[3]),
        random_sufficiency=sufficiency(p[0], p[4]),
    )


def faithfulness(
    prob_fn: ProbFn,
    input_ids: Sequence[int],
    token_positions: Sequence[int],
    token_words: Sequence[int],
    scores: Sequence[float | None],
    words: Sequence[str],
    target: int,
    fraction: float = 0.2,
    pad_id: int = 0,
    seed: int = 0,
) -> Faithfulness | None:
    """Remove/keep the top-scored words and as many random ones; one prob_fn call of 5 rows."""
    plan = plan_faithfulness(input_ids, token_positions, token_words, scores, fraction, pad_id, seed)
    if plan is None:
        return None
    return faithfulness_result(plan, np.asarray(prob_fn(plan.rows))[:, target], words, fraction)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, numerically stable."""
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


# --------------------------------------------------------------------------- dataset-wide


def top_words_per_class(
    explanations: Sequence[Explanation | None],
    min_count: int = 2,
    top_k: int = 10,
    by: str = "mean",
    skip_punctuation: bool = False,
) -> dict[str, list[WordStat]]:
    """Per target class, the lower-cased words whose attribution most pushes toward it.

    Only words seen at least `min_count` times with a positive `by` ("mean" or "total") are kept.
    """
    if by not in ("mean", "total"):
        raise ValueError(f"by must be 'mean' or 'total', not {by!r}")
    sums: dict[str, dict[str, list[float]]] = {}
    for exp in explanations:
        if exp is None:
            continue
        per_word = sums.setdefault(exp.target, {})
        for word, score in zip(exp.words, exp.scores, strict=True):
            if score is None or (skip_punctuation and all(_is_punctuation(c) for c in word)):
                continue
            per_word.setdefault(word.lower(), []).append(score)
    result = {}
    for label, per_word in sums.items():
        stats = [WordStat(w, float(np.mean(v)), float(np.sum(v)), len(v)) for w, v in per_word.items()]
        stats = [s for s in stats if s.count >= min_count and getattr(s, by) > 0]
        stats.sort(key=lambda s: (-getattr(s, by), s.word))
        result[label] = stats[:top_k]
    return result


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# --------------------------------------------------------------------------- model side

_LOCKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def model_lock(model: Any) -> threading.RLock:
    """The lock serialising attribution on one model (Captum hooks its embedding layer meanwhile)."""
    with _LOCKS_GUARD:
        lock = _LOCKS.get(model)
        if lock is None:
            lock = _LOCKS[model] = threading.RLock()
        return lock


@dataclass
class _Item:
    """One thing to explain: model inputs plus how they map back to the text's words."""

    text: str
    ids: list[int]
    special: list[int]
    type_ids: list[int] | None
    offsets: list[tuple[int, int]]  # char span per token, in `text`
    spans: list[tuple[int, int]]  # word spans in `text`
    truncated: bool
    target: int | None = None
    position: int | None = None  # token task: the explained token's index in ids
    word_index: int | None = None


@dataclass
class _Settings:
    n_steps: int = 50
    tolerance: float = 0.05
    max_steps: int = 300
    batch_size: int = 8
    faithfulness: bool = True
    fraction: float = 0.2
    seed: int = 0
    budget_mb: float | None = None


def _device(model: Any) -> Any:
    return next(model.parameters()).device


def _budget_mb(device: Any, budget_mb: float | None) -> float:
    """The IG chunk's activation budget: given, a share of free GPU memory, or CPU_BUDGET_MB."""
    if budget_mb is not None:
        return float(budget_mb)
    if device.type == "cuda":
        import torch

        free, _total = torch.cuda.mem_get_info(device)
        return free * CUDA_BUDGET_SHARE / 2**20
    return float(CPU_BUDGET_MB)


def _forward(model: Any) -> Callable[..., Any]:
    """Captum's forward: (ids, mask, type ids, positions) -> (B, C) logits."""
    import torch

    def forward(
        input_ids: Any, attention_mask: Any, token_type_ids: Any = None, positions: Any = None
    ) -> Any:
        kwargs = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None:
            kwargs["token_type_ids"] = token_type_ids
        logits = model(**kwargs).logits  # (B, C) or (B, T, C)
        if positions is not None:
            logits = logits[torch.arange(len(logits), device=logits.device), positions]  # (B, C)
        return logits

    return forward


def _pad_batch(items: Sequence[_Item], pad_id: int, device: Any) -> dict[str, Any]:
    """Right-padded tensors for a batch: ids, baseline, mask, type ids, positions (all (B, T) or (B,))."""
    import torch

    width = max(len(it.ids) for it in items)
    ids = torch.full((len(items), width), pad_id, dtype=torch.long)
    base = torch.full_like(ids, pad_id)
    mask = torch.zeros_like(ids)
    types = torch.zeros_like(ids) if items[0].type_ids is not None else None
    for row, it in enumerate(items):
        n = len(it.ids)
        ids[row, :n] = torch.tensor(it.ids)
        base[row, :n] = torch.tensor(build_baseline_ids(it.ids, it.special, pad_id))
        mask[row, :n] = 1
        if types is not None:
            types[row, :n] = torch.tensor(it.type_ids)
    positions = None
    if items[0].position is not None:
        positions = torch.tensor([it.position for it in items], dtype=torch.long)
    out = {"ids": ids, "base": base, "mask": mask, "types": types, "positions": positions}
    return {k: (v.to(device) if v is not None else None) for k, v in out.items()}


def _rows(batch: dict[str, Any], rows: Sequence[int]) -> dict[str, Any]:
    """A sub-batch, trimmed to its longest row."""
    import torch

    index = torch.tensor(list(rows), device=batch["ids"].device)
    width = int(batch["mask"][index].sum(1).max())
    out = {}
    for key, value in batch.items():
        if value is None:
            out[key] = None
        elif value.dim() == 2:
            out[key] = value[index, :width]
        else:
            out[key] = value[index]
    return out


def _integrate(
    model: Any, batch: dict[str, Any], targets: list[int], steps: int, budget: float
) -> np.ndarray:
    """Layer IG on the word embeddings: (B, T) float64 token attributions."""
    from captum.attr import LayerIntegratedGradients

    ids = batch["ids"]
    config = model.config
    internal = choose_internal_batch_size(
        len(ids), steps, ids.shape[1], config.hidden_size, config.num_hidden_layers, budget
    )
    lig = LayerIntegratedGradients(_forward(model), model.get_input_embeddings())
    attr = lig.attribute(
        ids,
        baselines=batch["base"],
        target=targets,
        additional_forward_args=(batch["mask"], batch["types"], batch["positions"]),
        n_steps=steps,
        internal_batch_size=internal,
    )  # (B, T, H)
    return attr.sum(-1).detach().double().cpu().numpy()


def _gradient_x_input(model: Any, batch: dict[str, Any], targets: list[int]) -> np.ndarray:
    """Gradient x input on the word embeddings, one backward pass: (B, T) float64."""
    from captum.attr import LayerGradientXActivation

    attr = LayerGradientXActivation(_forward(model), model.get_input_embeddings()).attribute(
        batch["ids"],
        target=targets,
        additional_forward_args=(batch["mask"], batch["types"], batch["positions"]),
    )  # (B, T, H)
    return attr.sum(-1).detach().double().cpu().numpy()


def _logits(model: Any, batch: dict[str, Any], key: str) -> np.ndarray:
    """(B, C) float64 logits of batch[key] ("ids" or "base"), no gradient."""
    import torch

    with torch.inference_mode():
        out = _forward(model)(batch[key], batch["mask"], batch["types"], batch["positions"])
    return out.double().cpu().numpy()


def _escalate(
    model: Any, batch: dict[str, Any], targets: list[int], change: np.ndarray, s: _Settings, budget: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """IG with more steps for the rows whose relative delta is over tolerance: (scores, delta, steps)."""
    n, width = batch["ids"].shape
    scores, delta = np.zeros((n, width)), np.full(n, np.inf)
    used = np.zeros(n, dtype=int)
    todo = list(range(n))
    for steps in step_schedule(s.n_steps, s.max_steps):
        sub = _rows(batch, todo) if len(todo) < n else batch
        attr = _integrate(model, sub, [targets[i] for i in todo], steps, budget)  # (b, t)
        for j, i in enumerate(todo):
            d = attr[j].sum() - change[i]
            if relative_delta(d, change[i]) < relative_delta(delta[i], change[i]):
                scores[i] = 0.0
                scores[i, : attr.shape[1]] = attr[j]
                delta[i], used[i] = d, steps
        todo = [i for i in todo if relative_delta(delta[i], change[i]) > s.tolerance]
        if not todo:
            break
    return scores, delta, used


def _add_faithfulness(
    model: Any,
    tokenizer: Any,
    items: Sequence[_Item],
    exps: Sequence[Explanation],
    targets: list[int],
    s: _Settings,
) -> None:
    """Faithfulness for a batch of explanations, with one forward pass over all their 5-row plans."""
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    plans, variants = [], []
    for item, exp in zip(items, exps, strict=True):
        positions = [p for p, special in enumerate(item.special) if not special]
        seed = s.seed + zlib.crc32(item.text.encode("utf-8"))
        plan = plan_faithfulness(item.ids, positions, exp.token_words, exp.scores, s.fraction, pad_id, seed)
        plans.append(plan)
        variants += [replace(item, ids=row) for row in plan.rows] if plan else []
    if not variants:
        return
    batch = _pad_batch(variants, pad_id, _device(model))
    probs = softmax(_logits(model, batch, "ids"))  # (5 * B, C)
    row = 0
    for plan, exp, target in zip(plans, exps, targets, strict=True):
        if plan is not None:
            exp.faithfulness = faithfulness_result(plan, probs[row : row + 5, target], exp.words, s.fraction)
            row += 5


def _plan(items: Sequence[_Item], model: Any, s: _Settings, budget: float) -> list[list[int]]:
    """Batches of item indices, longest first, each within batch_size and the memory budget."""
    order = sorted(range(len(items)), key=lambda i: -len(items[i].ids))
    config = model.config
    batches: list[list[int]] = []
    for i in order:
        if batches:
            first = items[batches[-1][0]]
            cap = rows_budget(len(first.ids), config.hidden_size, config.num_hidden_layers, budget)
            if len(batches[-1]) < min(s.batch_size, cap):
                batches[-1].append(i)
                continue
        batches.append([i])
    return batches


def _explain_items(
    model: Any, tokenizer: Any, labels: list[str], items: list[_Item], task: str, s: _Settings
) -> list[Explanation]:
    """Explain items in length-sorted batches; results in input order."""
    import torch

    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    device = _device(model)
    budget = _budget_mb(device, s.budget_mb)
    out: list[Explanation | None] = [None] * len(items)
    with model_lock(model), torch.inference_mode(False), torch.enable_grad():
        for idx in _plan(items, model, s, budget):
            batch_items = [items[i] for i in idx]
            batch = _pad_batch(batch_items, pad_id, device)
            logits, base_logits = _logits(model, batch, "ids"), _logits(model, batch, "base")  # (B, C)
            targets = [
                int(np.argmax(lg)) if it.target is None else it.target
                for it, lg in zip(batch_items, logits, strict=True)
            ]
            rows = np.arange(len(idx))
            change = logits[rows, targets] - base_logits[rows, targets]  # (B,)
            scores, delta, used = _escalate(model, batch, targets, change, s, budget)
            gxi = _gradient_x_input(model, batch, targets)  # (B, T)
            exps = []
            for j, it in enumerate(batch_items):
                row = _Row(logits[j], targets[j], change[j], delta[j], int(used[j]), scores[j], gxi[j])
                exps.append(_build(tokenizer, labels, it, task, s, row))
            if s.faithfulness:
                _add_faithfulness(model, tokenizer, batch_items, exps, targets, s)
            for i, exp in zip(idx, exps, strict=True):
                out[i] = exp
    return out  # type: ignore[return-value]


@dataclass
class _Row:
    """One item's numbers from its batch."""

    logits: np.ndarray  # (C,)
    target: int
    change: float  # F(x) - F(baseline)
    delta: float
    steps: int
    token_scores: np.ndarray  # (T,) integrated gradients
    gxi: np.ndarray  # (T,) gradient x input


def _build(tokenizer: Any, labels: list[str], item: _Item, task: str, s: _Settings, r: _Row) -> Explanation:
    """Turn one row of token attributions into an Explanation (faithfulness is added per batch)."""
    positions = [p for p, special in enumerate(item.special) if not special]
    tok_spans = [tuple(item.offsets[p]) for p in positions]
    tok_scores = [float(r.token_scores[p]) for p in positions]
    raw, token_words = aggregate_to_words(tok_spans, tok_scores, item.spans)
    raw_gxi, _ = aggregate_to_words(tok_spans, [float(r.gxi[p]) for p in positions], item.spans)
    read = (min((a for a, _ in tok_spans), default=0), max((b for _, b in tok_spans), default=0))
    words = [item.text[a:b] for a, b in item.spans]
    scores, gxi = read_scores(raw, item.spans, read), read_scores(raw_gxi, item.spans, read)
    probs = softmax(r.logits[None])[0]
    rel = relative_delta(r.delta, r.change)
    trust, reason = trust_level(rel, s.tolerance, r.steps, r.change, item.truncated)
    if not tok_spans:
        trust, reason = (
            "fair",
            "The model read no word of this text (empty, or only characters its tokenizer drops).",
        )
    return Explanation(
        text=item.text,
        task=task,
        predicted=labels[int(np.argmax(probs))],
        target=labels[r.target],
        probabilities={label: float(p) for label, p in zip(labels, probs, strict=True)},
        words=words,
        word_spans=list(item.spans),
        scores=scores,
        tokens=tokenizer.convert_ids_to_tokens([item.ids[p] for p in positions]),
        token_scores=tok_scores,
        token_spans=tok_spans,
        token_words=token_words,
        delta=float(r.delta),
        relative_delta=float(rel),
        score_change=float(r.change),
        n_steps=r.steps,
        trust=trust,
        trust_reason=reason,
        gxi_scores=gxi,
        agreement=agreement(scores, gxi, s.fraction),
        faithfulness=None,
        truncated=item.truncated,
        read_span=read,
        word_index=item.word_index,
    )


# --------------------------------------------------------------------------- entry points


def _labels(model: Any, labels: Sequence[str] | None) -> list[str]:
    n = model.config.num_labels
    labels = list(labels) if labels is not None else [model.config.id2label[i] for i in range(n)]
    if len(labels) != n:
        raise ValueError(f"The model has {n} classes but {len(labels)} label names were given.")
    return labels


def _target_index(target: str | int | None, labels: list[str]) -> int | None:
    if target is None:
        return None
    if isinstance(target, int) and not isinstance(target, bool) and 0 <= target < len(labels):
        return target
    if target in labels:
        return labels.index(target)
    raise ValueError(f"Unknown class {target!r}: choose one of {', '.join(labels)}.")


def _max_length(model: Any, tokenizer: Any, max_length: int | None) -> int:
    from trainer.models import model_max_length

    return int(max_length) if max_length else model_max_length(tokenizer, model.config)


def _text_items(
    tokenizer: Any, texts: Sequence[str], targets: Sequence[int | None], max_length: int
) -> list[_Item]:
    """Tokenize like predict.py (truncation at max_length) and keep offsets and special-token masks."""
    enc = tokenizer(
        list(texts),
        truncation=True,
        max_length=max_length,
        return_offsets_mapping=True,
        return_special_tokens_mask=True,
    )
    items = []
    for i, text in enumerate(texts):
        types = enc["token_type_ids"][i] if "token_type_ids" in enc else None
        items.append(
            _Item(
                text=text,
                ids=list(enc["input_ids"][i]),
                special=list(enc["special_tokens_mask"][i]),
                type_ids=list(types) if types is not None else None,
                offsets=[tuple(o) for o in enc["offset_mapping"][i]],
                spans=word_spans(text),
                truncated=bool(enc.encodings[i].overflowing),
                target=targets[i],
            )
        )
    return items


def _settings(**kwargs: Any) -> _Settings:
    s = _Settings(**kwargs)
    if s.n_steps < 1 or s.max_steps < 1 or s.batch_size < 1 or not 0 < s.fraction <= 1:
        raise ValueError("n_steps, max_steps and batch_size must be >= 1 and fraction in (0, 1].")
    return s


def explain(
    model: Any,
    tokenizer: Any,
    labels: Sequence[str] | None,
    texts: Sequence[str],
    targets: Sequence[str | int | None] | None = None,
    max_length: int | None = None,
    n_steps: int = 50,
    tolerance: float = 0.05,
    max_steps: int = 300,
    batch_size: int = 8,
    faithfulness: bool = True,
    fraction: float = 0.2,
    seed: int = 0,
    memory_budget_mb: float | None = None,
) -> list[Explanation]:
    """Explain a text classifier's decision on each text (target: a class name, or None = predicted)."""
    labels = _labels(model, labels)
    targets = list(targets) if targets is not None else [None] * len(texts)
    if len(targets) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(targets)} targets.")
    settings = _settings(
        n_steps=n_steps, tolerance=tolerance, max_steps=max_steps, batch_size=batch_size,
        faithfulness=faithfulness, fraction=fraction, seed=seed, budget_mb=memory_budget_mb,
    )  # fmt: skip
    if not texts:
        return []
    length = _max_length(model, tokenizer, max_length)
    items = _text_items(tokenizer, texts, [_target_index(t, labels) for t in targets], length)
    return _explain_items(model, tokenizer, labels, items, TEXT_TASK, settings)


def _word_at(spans: list[tuple[int, int]], char_span: tuple[int, int]) -> int:
    """The word overlapping char_span the most (the first on ties)."""
    start, end = char_span
    best, best_overlap = -1, 0
    for i, (a, b) in enumerate(spans):
        overlap = min(b, max(end, start + 1)) - max(a, start)
        if overlap > best_overlap:
            best, best_overlap = i, overlap
    if best < 0:
        raise ValueError(f"No word at characters {start}-{end}.")
    return best


def _token_item(
    tokenizer: Any, tokens: Sequence[str], word_index: int, target: int | None, max_length: int
) -> _Item:
    """The window that predict.py would use for this word (most context on both sides), as an item."""
    # Same call as trainer.encoding.encode_words, so the tag explained is the one RunModel.predict_tags gives.
    stride = max(0, min(32, max_length // 4))
    enc = tokenizer(
        [list(tokens)], is_split_into_words=True, truncation=True, max_length=max_length, stride=stride,
        return_overflowing_tokens=True, return_offsets_mapping=True, return_special_tokens_mask=True,
    )  # fmt: skip
    spans = joined_spans(tokens)
    best = None
    for w in range(len(enc["input_ids"])):
        word_ids, offsets = enc.word_ids(w), enc["offset_mapping"][w]
        prev = None
        for pos, (wid, (start, _end)) in enumerate(zip(word_ids, offsets, strict=True)):
            if wid == word_index and wid != prev and start == 0:
                score = min(pos, len(word_ids) - 1 - pos)
                if best is None or score > best[0]:
                    best = (score, w, pos)
            prev = wid
    if best is None:
        raise ValueError(f"Word {word_index} ({tokens[word_index]!r}) has no token the model can read.")
    _, w, position = best
    word_ids = enc.word_ids(w)
    offsets = [
        (0, 0) if wid is None else (spans[wid][0] + a, spans[wid][0] + b)
        for wid, (a, b) in zip(word_ids, enc["offset_mapping"][w], strict=True)
    ]
    types = enc["token_type_ids"][w] if "token_type_ids" in enc else None
    return _Item(
        text=" ".join(tokens),
        ids=list(enc["input_ids"][w]),
        special=list(enc["special_tokens_mask"][w]),
        type_ids=list(types) if types is not None else None,
        offsets=offsets,
        spans=spans,
        truncated=len(enc["input_ids"]) > 1,
        target=target,
        position=position,
        word_index=word_index,
    )


def explain_tokens(
    model: Any,
    tokenizer: Any,
    labels: Sequence[str] | None,
    sentences: Sequence[Sequence[str]],
    word_indices: Sequence[int],
    targets: Sequence[str | int | None] | None = None,
    max_length: int | None = None,
    n_steps: int = 50,
    tolerance: float = 0.05,
    max_steps: int = 300,
    batch_size: int = 8,
    faithfulness: bool = True,
    fraction: float = 0.2,
    seed: int = 0,
    memory_budget_mb: float | None = None,
) -> list[Explanation]:
    """Explain a token classifier's tag for one word per pre-split sentence, batched."""
    labels = _labels(model, labels)
    targets = list(targets) if targets is not None else [None] * len(sentences)
    if not len(sentences) == len(word_indices) == len(targets):
        raise ValueError("sentences, word_indices and targets must have the same length.")
    settings = _settings(
        n_steps=n_steps, tolerance=tolerance, max_steps=max_steps, batch_size=batch_size,
        faithfulness=faithfulness, fraction=fraction, seed=seed, budget_mb=memory_budget_mb,
    )  # fmt: skip
    length = _max_length(model, tokenizer, max_length)
    items = []
    for tokens, index, target in zip(sentences, word_indices, targets, strict=True):
        if not 0 <= index < len(tokens):
            raise ValueError(f"Word index {index} is outside the sentence ({len(tokens)} words).")
        items.append(_token_item(tokenizer, tokens, index, _target_index(target, labels), length))
    return _explain_items(model, tokenizer, labels, items, TOKEN_TASK, settings)


def explain_token(
    model: Any,
    tokenizer: Any,
    labels: Sequence[str] | None,
    tokens: Sequence[str],
    word_index: int | None = None,
    target: str | int | None = None,
    char_span: tuple[int, int] | None = None,
    **kwargs: Any,
) -> Explanation:
    """Explain the tag of one word: by index in `tokens`, or by a char span of `" ".join(tokens)`."""
    if (word_index is None) == (char_span is None):
        raise ValueError("Give either word_index or char_span.")
    if word_index is None:
        word_index = _word_at(joined_spans(tokens), char_span)  # type: ignore[arg-type]
    return explain_tokens(model, tokenizer, labels, [tokens], [word_index], [target], **kwargs)[0]


def explain_dataset(
    model: Any,
    tokenizer: Any,
    labels: Sequence[str] | None,
    texts: Sequence[str],
    targets: Sequence[str | int | None] | None = None,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    batch_size: int = 8,
    faithfulness: bool = False,
    **kwargs: Any,
) -> list[Explanation | None]:
    """Explain many texts, longest first, reporting progress(done, total); safe in a background thread.

    Returns one entry per text in input order: None for texts not reached before should_stop() said so.
    """
    out: list[Explanation | None] = [None] * len(texts)
    targets = list(targets) if targets is not None else [None] * len(texts)
    tokenizer_lengths = [len(t) for t in texts]  # characters: a cheap proxy for length to sort by
    order = sorted(range(len(texts)), key=lambda i: -tokenizer_lengths[i])
    if progress:
        progress(0, len(texts))
    for start in range(0, len(order), batch_size):
        if should_stop is not None and should_stop():
            break
        idx = order[start : start + batch_size]
        done = explain(
            model, tokenizer, labels, [texts[i] for i in idx], [targets[i] for i in idx],
            batch_size=batch_size, faithfulness=faithfulness, **kwargs,
        )  # fmt: skip
        for i, exp in zip(idx, done, strict=True):
            out[i] = exp
        if progress:
            progress(min(start + batch_size, len(texts)), len(texts))
    return out
