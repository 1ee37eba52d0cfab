"""Integrated gradients, the arithmetic: the baseline, convergence (delta), step schedules, memory budget
and the trust level. Pure functions, each tested alone; the Captum/torch side is in `engine.py`.
"""

from __future__ import annotations

from collections.abc import Sequence

from trainer.i18n import tr

DELTA_FLOOR = 1e-3  # logits; below this |F(x) - F(baseline)| the text barely moves the score
FAIR_FACTOR = 4.0  # relative delta up to FAIR_FACTOR * tolerance is "fair", above is "poor"
# Memory rule: one (text x step) row of an IG chunk keeps seq_len * hidden * layers * ACTIVATION_BYTES
# of activations for the backward pass. Measured 66-74 bytes on an H100 for BERT shapes (hidden 384-768,
# 6-12 layers, 16-512 tokens); 96 leaves headroom for the allocator.
ACTIVATION_BYTES = 96
CPU_BUDGET_MB = 256  # per chunk on CPU/MPS: ~70 short MiniLM rows; bigger chunks were no faster on CPU
CUDA_BUDGET_SHARE = 0.4  # per chunk on CUDA: this share of the free GPU memory


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
        level = "good"
        reason = tr(
            "Word scores add up to the model's score change within {share} ({n} steps).", share=pct, n=n_steps
        )
    elif rel_delta <= FAIR_FACTOR * tolerance:
        level = "fair"
        reason = tr("Word scores add up only within {share} after {n} steps: trust the ranking more than the numbers.",
                    share=pct, n=n_steps)  # fmt: skip
    else:
        level = "poor"
        reason = tr("Word scores miss the model's score change by {share} even after {n} steps: they may mislead.",
                    share=pct, n=n_steps)  # fmt: skip
    if level == "good" and abs(score_change) < DELTA_FLOOR:
        level = "fair"
        reason = tr(
            "The text barely moves the score away from an empty input, so every word score is near zero."
        )
    if truncated:
        reason += " " + tr("Only the start of the text was read (it is longer than the model's limit).")
    return level, reason
