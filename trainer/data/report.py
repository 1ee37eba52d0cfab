"""The validation report: what `prepare` found, as numbers and plain-English errors, warnings, notes.

Also the length and vocabulary checks that need the model's tokenizer (`measure`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from trainer.data.errors import PLAIN_NAMES, render
from trainer.i18n import N_, tr, trn

TRUNCATION_WARNING = 0.01  # share of texts longer than max_length
UNK_WARNING = 0.05  # share of [UNK] among non-special tokens

# The words a report holds as values (the task adapters' task_title, unit, class_title and units, the
# split names), translated where the report is shown; the values themselves stay English.
SHOWN_WORDS = (
    N_("text classification"),
    N_("token classification (entities)"),
    N_("Rows"),
    N_("Sentences"),
    N_("Labels"),
    N_("Entities"),
    N_("text"),
    N_("sentence"),
)
SPLITS = {"train": N_("train"), "validation": N_("validation"), "test": N_("test")}


def split_name(split: str) -> str:
    """A split as people read it, in the current language ("validation" -> "验证集"); another name as it is."""
    return tr(SPLITS[split]) if split in SPLITS else str(split)


SECTIONS = (("errors", N_("Errors:")), ("warnings", N_("Warnings:")), ("notes", N_("Notes:")))


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def quote(items: Iterable[str]) -> str:
    return ", ".join(f'"{i}"' for i in items)


def pct(share: float | None) -> str:
    """A share for people: '12%', '3.4%', '0%'; '-' when unknown."""
    if share is None:
        return "-"
    return f"{share:.0%}" if share >= 0.1 or share == 0 else f"{share:.1%}"


@dataclass
class ValidationReport:
    """What `prepare` found. Token task: label_counts are tag counts, split_counts entity counts.

    `unit`, `task_title`, `class_title` and `class_counts` are the task's words and the classes that
    matter for balance (labels, or entity types), filled in by the task adapter.
    """

    task: str = "text-classification"
    task_title: str = "text classification"
    unit: str = "rows"
    class_title: str = "Labels"
    rows_read: int = 0
    rows_used: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    duplicate_texts: int = 0
    conflicting_duplicates: int = 0
    label_counts: dict[str, int] = field(default_factory=dict)
    class_counts: dict[str, int] = field(default_factory=dict)
    split_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    split_sizes: dict[str, int] = field(default_factory=dict)
    merged_labels: dict[str, list[str]] = field(default_factory=dict)
    imbalance_ratio: float | None = None
    max_length: int | None = None
    truncated_share: float | None = None
    unk_share: float | None = None
    unseen_labels: dict[str, list[str]] = field(default_factory=dict)
    missing_held_out: dict[str, list[str]] = field(default_factory=dict)  # split -> training labels it lacks
    tag_scheme: str | None = None
    repaired_tags: int = 0
    entity_counts: dict[str, int] = field(default_factory=dict)
    rare_labels: list[str] = field(default_factory=list)  # too few to train on (the error names them)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe copy (plain ints, floats, strings), with `ok`; messages name settings plainly."""
        out = asdict(self)
        for key in ("errors", "warnings", "notes"):
            out[key] = [render(m, PLAIN_NAMES) for m in getattr(self, key)]
        return {**out, "ok": self.ok}

    def _counts_line(self) -> str:
        """How many rows (sentences) were read, dropped and why, and used."""
        unit = self.unit.capitalize()  # "Rows", "Sentences"
        counted = {
            "unit": tr(unit),
            "read": self.rows_read,
            "dropped": sum(self.dropped.values()),
            "used": self.rows_used,
        }
        if not self.dropped:
            return tr("{unit}: {read} read, {dropped} dropped, {used} used", **counted)
        reasons = ", ".join(f"{tr(k)}: {v}" for k, v in self.dropped.items())
        return tr(
            "{unit}: {read} read, {dropped} dropped ({reasons}), {used} used", **counted, reasons=reasons
        )

    def to_text(self) -> str:
        """A readable multi-line report (what the CLI prints), in the current language."""
        lines = [tr("Task: {task}", task=tr(self.task_title)), self._counts_line()]
        if self.split_sizes:
            sizes = ", ".join(f"{split_name(k)} {v}" for k, v in self.split_sizes.items())
            lines.append(tr("Splits: {sizes}", sizes=sizes))
        if self.tag_scheme:
            lines.append(
                tr("Tag scheme: {scheme} ({n} tags repaired)", scheme=self.tag_scheme, n=self.repaired_tags)
            )
        if self.class_counts:
            title = tr(self.class_title)
            counts = ", ".join(f"{k} {v}" for k, v in self.class_counts.items())
            lines.append(f"{title} ({len(self.class_counts)}): {counts}")
        if self.imbalance_ratio is not None:
            ratio = f"{self.imbalance_ratio:.1f}"
            lines.append(tr("Imbalance: {ratio} to 1 (largest / smallest)", ratio=ratio))
        lines.append(
            tr(
                "Duplicates: {repeated} repeated, {conflicting} with conflicting labels",
                repeated=self.duplicate_texts,
                conflicting=self.conflicting_duplicates,
            )
        )
        if self.max_length is not None:
            if self.truncated_share is not None:
                lines.append(
                    tr(
                        "Max length: {n} tokens ({share} longer)",
                        n=self.max_length,
                        share=pct(self.truncated_share),
                    )
                )
            else:
                lines.append(tr("Max length: {n} tokens", n=self.max_length))
        if self.unk_share is not None:
            lines.append(tr("Unknown tokens: {share}", share=pct(self.unk_share)))
        for key, title in SECTIONS:
            items = getattr(self, key)
            if items:
                lines.append(tr(title))
                lines.extend(f"  - {item}" for item in items)
        lines.append(tr("OK") if self.ok else tr("NOT OK: fix the errors above"))
        return "\n".join(lines)


def choose_max_length(token_lengths: Sequence[int], model_max: int) -> int:
    """99th percentile of the lengths, rounded up to a multiple of 8, at least 16, at most model_max."""
    if len(token_lengths) == 0:
        return min(16, model_max)
    p99 = math.ceil(float(np.percentile(np.asarray(token_lengths), 99)))
    return int(min(model_max, max(16, 8 * math.ceil(p99 / 8))))


def token_stats(tokenizer: Any, inputs: list, split_words: bool) -> tuple[list[int], float | None]:
    """Token count of each input (special tokens included) and the share of [UNK] among the others."""
    unk = getattr(tokenizer, "unk_token_id", None)
    special_ids = set(getattr(tokenizer, "all_special_ids", None) or []) - {unk}  # [UNK] is "special" too
    special = np.asarray(sorted(special_ids), dtype=np.int64)
    lengths: list[int] = []
    n_unk = n_plain = 0
    for start in range(0, len(inputs), 512):
        batch = inputs[start : start + 512]
        extra = {"is_split_into_words": True} if split_words else {}
        ids = tokenizer(
            batch,
            add_special_tokens=True,
            truncation=False,
            verbose=False,  # no "longer than the maximum" warning: measuring that is the point
            return_attention_mask=False,
            return_token_type_ids=False,
            **extra,
        )["input_ids"]
        lengths.extend(len(seq) for seq in ids)
        flat = np.fromiter((i for seq in ids for i in seq), dtype=np.int64)
        plain = flat[~np.isin(flat, special)]
        n_plain += plain.size
        if unk is not None:
            n_unk += int((plain == unk).sum())
    return lengths, (n_unk / n_plain if unk is not None and n_plain else None)


def measure(
    report: ValidationReport,
    tokenizer: Any,
    inputs: list,
    words: bool,
    max_length: int | None,
    model_max_length: int,
    unit: str = "text",
) -> None:
    """Token lengths, the max length, the share cut, and the share of unknown tokens.

    `inputs` are texts, or word lists when `words`; word lists longer than the max length are read in
    overlapping windows (a note), texts are cut (a warning). `unit` names one input ("text", "sentence":
    one of SHOWN_WORDS, translated in the messages).
    """
    cap = model_max_length
    tok_max = getattr(tokenizer, "model_max_length", None)
    if isinstance(tok_max, int) and 0 < tok_max < 100_000:
        cap = min(cap, tok_max)
    lengths, report.unk_share = token_stats(tokenizer, inputs, words)
    report.max_length = min(max_length, cap) if max_length else choose_max_length(lengths, cap)
    longer = sum(1 for n in lengths if n > report.max_length)
    report.truncated_share = longer / len(lengths) if lengths else 0.0
    if report.truncated_share > TRUNCATION_WARNING:
        said = {"unit": tr(unit), "share": pct(report.truncated_share), "max": report.max_length}
        if words:
            report.notes.append(
                trn(
                    "{n} {unit} ({share}) is longer than {max} tokens; they are read in overlapping windows.",
                    "{n} {unit}s ({share}) are longer than {max} tokens; they are read in overlapping windows.",
                    longer,
                    **said,
                )
            )
        else:
            report.warnings.append(
                trn(
                    "{n} {unit} ({share}) is longer than {max} tokens and will be cut. "
                    "Raise the max length if the end of a text matters.",
                    "{n} {unit}s ({share}) are longer than {max} tokens and will be cut. "
                    "Raise the max length if the end of a text matters.",
                    longer,
                    **said,
                )
            )
    if report.unk_share is not None and report.unk_share > UNK_WARNING:
        report.warnings.append(
            tr(
                "{share} of the words are unknown to this model's vocabulary (is the text in a language the "
                "model does not read? The default model is English-only; choose a multilingual or Chinese "
                "backbone).",
                share=pct(report.unk_share),
            )
        )
