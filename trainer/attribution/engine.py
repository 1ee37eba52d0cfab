"""Integrated gradients, the engine: Captum on the word embeddings, in memory-bounded batches.

Method: Captum `LayerIntegratedGradients` on `model.get_input_embeddings()` (the word-embedding output;
position and token-type embeddings are left alone), attributing the target class's LOGIT (default
target: the predicted class). Baseline: the same ids with every non-special token replaced by [PAD];
special tokens kept; the same attention mask. Texts whose relative delta is above the tolerance are
re-run alone with more steps (50 -> 100 -> 200 -> max_steps); the best run is kept.

Concurrency: Captum hooks the embedding layer while it attributes, so every call on one model holds
`trainer.model.loading.model_lock(model)`; other code that runs the same model object from another thread does too.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from trainer.attribution.faithfulness import (
    Agreement,
    Faithfulness,
    agreement,
    faithfulness_result,
    plan_faithfulness,
)
from trainer.attribution.inputs import Item
from trainer.attribution.integrated_gradients import (
    CPU_BUDGET_MB,
    CUDA_BUDGET_SHARE,
    build_baseline_ids,
    choose_internal_batch_size,
    relative_delta,
    rows_budget,
    step_schedule,
    trust_level,
)
from trainer.attribution.token_words import aggregate_to_words, read_scores
from trainer.i18n import tr
from trainer.model.inference import softmax
from trainer.model.loading import model_device, model_lock


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

    def to_record(self) -> dict:
        """The plain record of this explanation (`explain --json` and the service's /explain)."""
        faith = self.faithfulness
        return {
            "text": self.text,
            "predicted": self.predicted,
            "probabilities": self.probabilities,
            "target": self.target,
            "words": self.words,
            "scores": self.scores,
            "delta": self.delta,
            "relative_delta": self.relative_delta,
            "n_steps": self.n_steps,
            "trust": self.trust,
            "comprehensiveness": faith.comprehensiveness if faith else None,
            "sufficiency": faith.sufficiency if faith else None,
            **({"word_index": self.word_index} if self.word_index is not None else {}),
        }

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
class Settings:
    n_steps: int = 50
    tolerance: float = 0.05
    max_steps: int = 300
    batch_size: int = 8
    faithfulness: bool = True
    fraction: float = 0.2
    seed: int = 0
    budget_mb: float | None = None


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


def _pad_batch(items: Sequence[Item], pad_id: int, device: Any) -> dict[str, Any]:
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
    model: Any, batch: dict[str, Any], targets: list[int], change: np.ndarray, s: Settings, budget: float
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
    items: Sequence[Item],
    exps: Sequence[Explanation],
    targets: list[int],
    s: Settings,
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
    batch = _pad_batch(variants, pad_id, model_device(model))
    probs = softmax(_logits(model, batch, "ids"))  # (5 * B, C)
    row = 0
    for plan, exp, target in zip(plans, exps, targets, strict=True):
        if plan is not None:
            exp.faithfulness = faithfulness_result(plan, probs[row : row + 5, target], exp.words, s.fraction)
            row += 5


def _plan(items: Sequence[Item], model: Any, s: Settings, budget: float) -> list[list[int]]:
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


def explain_items(
    model: Any, tokenizer: Any, labels: list[str], items: list[Item], task: str, s: Settings
) -> list[Explanation]:
    """Explain items in length-sorted batches; results in input order."""
    import torch

    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    device = model_device(model)
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


def _build(tokenizer: Any, labels: list[str], item: Item, task: str, s: Settings, r: _Row) -> Explanation:
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
            tr("The model read no word of this text (empty, or only characters its tokenizer drops)."),
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
