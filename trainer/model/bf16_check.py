"""Faster inference on the CPU where it is safe: bf16 autocast, checked against fp32 on the run's own data.

Measured on this project's 2-core CPU (bench/RESULTS.md, "Faster CPU inference"): bf16 autocast (the CPU
has AVX-512 BF16) reads 1.5-2.3x more texts per second than fp32 with embedding cosine 0.9999;
dynamic int8 quantization of the linear layers was 1.6-2x faster but its embeddings drifted (cosine
0.91-0.97), so it is not used. A run's fine-tuned model uses bf16 on the CPU only after it gives the same
label as fp32 on at least 99.5% of its validation texts and an embedding cosine of at least 0.99 on
every one of them; the pretrained backbone only after the cosine check. Otherwise fp32, and the run
says why. CUDA keeps its own bf16/fp16 autocast; MPS stays in fp32. `INSIGHT_CPU_BF16=off` keeps fp32
everywhere; `INSIGHT_CPU_BF16=on` tries bf16 (still checked) on a CPU without native bf16.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from trainer.model.inference import stack

MIN_AGREEMENT = 0.995  # same predicted label as fp32
MIN_COSINE = 0.99  # embedding cosine to fp32, for every text checked
CHECK_TEXTS = 512  # validation texts compared (a sample, in input order); the backbone's check: half


@dataclass
class PrecisionCheck:
    """The outcome of comparing bf16 with fp32 on one model."""

    precision: str | None  # "bf16" when it passed, else None (fp32)
    checked: int  # texts compared
    agreement: float | None  # share with the same predicted label (None: not a classifier)
    min_cosine: float
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


MODE_VARIABLE = "INSIGHT_CPU_BF16"  # auto (default) | on | off
MODES = ("auto", "on", "off")


def cpu_bf16_mode() -> str:
    """`INSIGHT_CPU_BF16`: "auto" asks the CPU, "off" keeps fp32, "on" tries bf16 on any CPU.

    "on" skips only the hardware question (PyTorch emulates bf16 where the CPU lacks it, slowly): the
    agreement check against fp32 still decides. It lets one machine exercise both paths, whatever its CPU.
    """
    mode = (os.environ.get(MODE_VARIABLE) or "auto").strip().lower()
    if mode not in MODES:
        raise ValueError(f"{MODE_VARIABLE} must be one of {', '.join(MODES)}, not {mode!r}.")
    return mode


def cpu_bf16_supported() -> bool:
    """Whether bf16 is tried on this CPU: natively (AVX-512 BF16 or AMX), or as `INSIGHT_CPU_BF16` says."""
    import torch

    mode = cpu_bf16_mode()
    if mode != "auto":
        return mode == "on"
    if not hasattr(torch.backends, "mkldnn") or not torch.backends.mkldnn.is_available():
        return False
    if not kernels_reach_bf16():
        return False
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


# oneDNN's instruction sets below AVX512_CORE_BF16: capped at one of these, bf16 is emulated (measured on
# an AVX-512 bf16 EPYC with ONEDNN_MAX_CPU_ISA=AVX2: a bf16 matmul 60x slower than fp32).
ONEDNN_WITHOUT_BF16 = {"SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE", "AVX512_CORE_VNNI"}


def kernels_reach_bf16() -> bool:
    """Whether the kernels PyTorch may use here reach the CPU's bf16 instructions.

    `ATEN_CPU_CAPABILITY=avx2` (or `default`) and `ONEDNN_MAX_CPU_ISA=AVX2` run the kernels a lesser CPU
    would; under them this CPU behaves as one without native bf16, and takes the fp32 path as that CPU would.
    """
    import torch

    capability = str(torch.backends.cpu.get_cpu_capability()).upper()
    onednn = (os.environ.get("ONEDNN_MAX_CPU_ISA") or "ALL").strip().upper()
    return capability.startswith("AVX512") and onednn not in ONEDNN_WITHOUT_BF16


def usable(recorded: str | None) -> str | None:
    """The precision to run a model in on this CPU: its recorded check's, while bf16 is still tried here.

    A run checked on a CPU with native bf16 and opened on one without (a shared runs folder), or with
    `INSIGHT_CPU_BF16=off`, runs in fp32.
    """
    return recorded if recorded == "bf16" and cpu_bf16_supported() else None


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity of two (N, H) arrays."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return (a * b).sum(1) / np.where(norms > 0, norms, 1.0)


def compare(
    fp32_vectors: np.ndarray,
    fast_vectors: np.ndarray,
    fp32_logits: np.ndarray | None = None,
    fast_logits: np.ndarray | None = None,
) -> PrecisionCheck:
    """bf16 against fp32 on the same texts: embeddings (and predicted labels, for a classifier)."""
    n = len(fp32_vectors)
    min_cos = float(cosines(fp32_vectors, fast_vectors).min()) if n else 1.0
    agreement = None
    if fp32_logits is not None and fast_logits is not None and n:
        agreement = float((fp32_logits.argmax(-1) == fast_logits.argmax(-1)).mean())
    ok = min_cos >= MIN_COSINE and (agreement is None or agreement >= MIN_AGREEMENT)
    said = f"embedding cosine at least {min_cos:.4f}" + (
        f", same label on {agreement:.1%}" if agreement is not None else ""
    )
    if ok:
        return PrecisionCheck(
            "bf16", n, agreement, min_cos, f"bf16 on the CPU: {said} of {n} texts, as fp32."
        )
    return PrecisionCheck(
        None,
        n,
        agreement,
        min_cos,
        f"fp32: bf16 differed from fp32 ({said} of {n} texts; needs cosine {MIN_COSINE} and "
        f"{MIN_AGREEMENT:.1%} agreement).",
    )


def check_model(
    model: Any, tokenizer: Any, task: Any, inputs: list, max_length: int, classifier: bool = True
) -> PrecisionCheck:
    """Whether `model` (a fine-tuned classifier, or a bare encoder) may run in bf16 on this CPU."""
    if model_device_type(model) != "cpu":
        return PrecisionCheck(None, 0, None, 1.0, "Not on the CPU: the GPU's own mixed precision is used.")
    if not cpu_bf16_supported():
        why = (
            "turned off by INSIGHT_CPU_BF16=off"
            if cpu_bf16_mode() == "off"
            else "this CPU has no native bf16"
        )
        return PrecisionCheck(None, 0, None, 1.0, f"fp32: {why}.")
    sample = list(inputs)[: CHECK_TEXTS if classifier else CHECK_TEXTS // 2]
    if not sample:
        return PrecisionCheck(None, 0, None, 1.0, "fp32: no text to check bf16 against.")
    vectors = {
        p: stack(task.embed(model, tokenizer, sample, max_length, precision=p)) for p in (None, "bf16")
    }
    logits = {}
    if classifier:
        logits = {
            p: stack(task.logits(model, tokenizer, sample, max_length, precision=p)) for p in (None, "bf16")
        }
    return compare(vectors[None], vectors["bf16"], logits.get(None), logits.get("bf16"))


def model_device_type(model: Any) -> str:
    return next(model.parameters()).device.type
