"""Does the explanation hold? Agreement with a second method, and removing the top words (faithfulness).

Removal: a removed word's tokens are replaced by [PAD] in place, the same "absence" as the baseline;
length and positions do not move. The top words are the ceil(fraction * n_words) highest-scoring ones
(toward the target); the random words are as many, drawn with a seed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

ProbFn = Callable[[list[list[int]]], np.ndarray]  # equal-length id rows -> (rows, C) probabilities


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
