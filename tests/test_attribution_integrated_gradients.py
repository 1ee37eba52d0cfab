"""trainer.attribution.integrated_gradients: baseline, delta, step schedule, memory rule, trust."""

from __future__ import annotations

import pytest

from trainer import attribution as attr
from trainer.attribution import (
    build_baseline_ids,
    choose_internal_batch_size,
    relative_delta,
    rows_budget,
    step_schedule,
    trust_level,
)

# Numerics: `make test` runs this module again under the AVX2-only kernels (pyproject's `kernels`).
pytestmark = pytest.mark.kernels


def test_baseline_keeps_special_tokens_and_pads_the_rest() -> None:
    assert build_baseline_ids([101, 7592, 1010, 102], [1, 0, 0, 1], 0) == [101, 0, 0, 102]


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
