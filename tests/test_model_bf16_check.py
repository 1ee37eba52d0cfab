"""The CPU's two inference paths, fp32 and bf16, on every CPU: `INSIGHT_CPU_BF16` forces each one.

Which path a run takes depends on the CPU (AVX-512 BF16 or AMX: bf16 is tried; otherwise fp32), so a
suite that only ever ran `auto` would leave one of them untested wherever CI happens to run. PyTorch
emulates bf16 on a CPU without it (slowly), so both paths run here whatever the CPU.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import sentiment_csv

from trainer.config import TrainConfig
from trainer.model import bf16_check as precision
from trainer.model.inference import stack
from trainer.prepare import prepare
from trainer.runs import RunFolder, create_run
from trainer.runs.predictor import RunModel
from trainer.train.fit import fit

# Numerics: `make test` runs this module again under the AVX2-only kernels (pyproject's `kernels`).
pytestmark = pytest.mark.kernels


def test_this_machine_says_which_path_auto_takes(monkeypatch):
    monkeypatch.delenv(precision.MODE_VARIABLE, raising=False)
    native = precision.cpu_bf16_supported()
    flags = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    assert native == ((" avx512_bf16" in flags or " amx_bf16" in flags) and precision.kernels_reach_bf16())
    print(f"this CPU takes the {'bf16' if native else 'fp32'} path under INSIGHT_CPU_BF16=auto")
    monkeypatch.setenv(precision.MODE_VARIABLE, "off")
    assert not precision.cpu_bf16_supported() and precision.usable("bf16") is None
    monkeypatch.setenv(precision.MODE_VARIABLE, "on")
    assert precision.cpu_bf16_supported() and precision.usable("bf16") == "bf16"
    assert precision.usable(None) is None, "a run whose check failed stays in fp32"
    monkeypatch.setenv(precision.MODE_VARIABLE, "sometimes")
    with pytest.raises(ValueError, match="INSIGHT_CPU_BF16 must be one of auto, on, off"):
        precision.cpu_bf16_mode()


def test_kernels_capped_below_bf16_take_the_fp32_path_as_a_lesser_cpu_would(monkeypatch):
    """`make test` runs the numerics again under ONEDNN_MAX_CPU_ISA=AVX2: that run must see an AVX2 CPU."""
    import os

    import torch

    asked = os.environ.get("ATEN_CPU_CAPABILITY")
    if asked:  # the rerun: PyTorch uses the kernels it was asked for (never more than the CPU has)
        assert torch.backends.cpu.get_cpu_capability().upper() in {asked.upper(), "DEFAULT"}
    monkeypatch.delenv(precision.MODE_VARIABLE, raising=False)
    for isa in ("AVX2", "avx512_core"):
        monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", isa)
        assert not precision.kernels_reach_bf16() and not precision.cpu_bf16_supported()
        assert precision.usable("bf16") is None, "a bf16 run opened under AVX2 kernels runs in fp32"
    monkeypatch.setenv(precision.MODE_VARIABLE, "on")
    assert precision.cpu_bf16_supported(), "'on' still tries bf16 (emulated) whatever the kernels"


def test_the_check_refuses_bf16_beyond_the_documented_tolerance():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(200, 16))
    logits = rng.normal(size=(200, 3))
    same = precision.compare(vectors, vectors + 1e-4, logits, logits)
    assert same.precision == "bf16" and same.agreement == 1.0 and same.min_cosine > 0.999
    flipped = logits.copy()
    for row in (0, 1):  # two labels of 200 differ: 99.0%, under the 99.5% floor (one would be 99.5%)
        flipped[row] = np.roll(np.eye(3)[logits[row].argmax()], 1) * 10
    assert precision.compare(vectors, vectors, logits, flipped).precision is None
    one = logits.copy()
    one[0] = flipped[0]
    assert precision.compare(vectors, vectors, logits, one).agreement == pytest.approx(0.995)
    bent = vectors.copy()
    bent[5] = rng.normal(size=16)  # one text's embedding points elsewhere
    refused = precision.compare(vectors, bent, logits, logits)
    assert refused.precision is None and "needs cosine 0.99" in refused.reason


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return prepare(sentiment_csv(tmp_path_factory.mktemp("precision") / "s.csv", n=150))


@pytest.mark.parametrize(("mode", "expected"), [("off", None), ("on", "bf16")])
def test_a_run_on_either_path_predicts_what_fp32_predicts(
    mode, expected, data, tmp_path, tiny_model_dir, monkeypatch
):
    """Fine-tune with the path forced, then score the test split on that path and in fp32.

    The same assertions for both paths: the run records the path it took, and its predictions match
    fp32's within the documented tolerance (trainer.model.bf16_check: the same label on at least 99.5% of texts
    and an embedding cosine of at least 0.99 on every one; probabilities within bf16's 8-bit mantissa).
    """
    monkeypatch.setenv(precision.MODE_VARIABLE, mode)
    run_dir = create_run(tmp_path / "runs", f"path-{mode}")
    config = TrainConfig(model=str(tiny_model_dir), epochs=3, batch_size=16, learning_rate=1e-3)
    RunFolder(run_dir).write_inputs(config.to_dict(), data)
    fit(config, data, run_dir)

    check = RunFolder(run_dir).inference()["finetuned"]
    assert check["precision"] == expected, check["reason"]
    model = RunModel.load(run_dir, device="cpu")
    assert model.precision == expected
    texts = data.test.texts
    preds, vectors = model.outputs(texts)
    reference = RunModel.load(run_dir, device="cpu")
    reference.precision = None  # fp32, whatever the run recorded
    fp32_preds, fp32_vectors = reference.outputs(texts)

    agreement = np.mean(np.asarray(preds.predicted) == np.asarray(fp32_preds.predicted))
    assert agreement >= precision.MIN_AGREEMENT
    assert precision.cosines(stack(vectors), stack(fp32_vectors)).min() >= precision.MIN_COSINE
    np.testing.assert_allclose(stack(preds.probabilities), stack(fp32_preds.probabilities), atol=0.03)
    if expected is None:  # fp32 against fp32: the same computation, to the last bit
        np.testing.assert_array_equal(stack(vectors), stack(fp32_vectors))
