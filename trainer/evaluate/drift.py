"""Drift: how new texts compare with what the model was trained and checked on, as a verdict that names the
evidence that decided it, with the size of each difference and its direction.

Three measures, each compared with its reference and given a level (none, some, strong) by the SIZE of the
difference, never by its p-value alone; a difference counts only when it goes the way drift goes and chance
would rarely give it (one-sided, p < CHANCE), so a small validation split does not cry wolf and a big sample
with a tiny difference does not either:

- untrusted texts (trainer.apply.score: much less sure than on validation, or unlike the training texts):
  their share here against the share the validation texts had. Its size is Cohen's h (the difference of
  2·asin√p, the usual effect size for two proportions, which weighs 1% → 4% as much as 50% → 65%): 0.2 is
  "small" and 0.5 "medium" on Cohen's scale; a share that rose by at least a small effect is some drift, by
  at least a medium one strong drift. From a validation share of 5% that is 10% and 23% (a doubling and a
  quadrupling). Fewer untrusted texts than on validation is no drift at all. Chance: a one-sided test of two
  proportions (the validation split's size is its sample).
- mean confidence: how many points lower it is than on the validation texts (5 points: some, 15: strong).
  Chance: a one-sided two-sample Kolmogorov-Smirnov test (a drop in confidence, not a rise); its distance
  is kept as `confidence_distance` (0 when the test says it could be chance). A higher mean is no drift.
- word pieces unknown to the model's vocabulary: their share against the training data's, in points
  (2: some, 5: strong; the word pieces number in the thousands, so chance does not enter).

The verdict is the highest level any measure reached; the sentence says which measure decided it and
gives every figure with `share`, the one function that formats them, so a page's tile and this sentence
show the same number. `describe` builds the sentence from the stored record, in the reader's language.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from trainer import i18n
from trainer.i18n import N_, tr

CHANCE = 0.01  # one-sided: a difference in the drift direction counts when chance would give it < 1 in 100
UNTRUSTED_H = (0.2, 0.5)  # Cohen's h for some / strong drift: a small / a medium effect
CONFIDENCE_POINTS = (0.05, 0.15)  # mean confidence lower by 5 / 15 points
UNKNOWN_POINTS = (0.02, 0.05)  # 2 / 5 more word pieces in 100 unknown to the vocabulary
LEVELS = ("none", "some", "strong")
VERDICTS = {"none": "similar", "some": "some drift", "strong": "strong drift"}

# The verdict's first sentence, by verdict (the verdict itself is a value code compares).
VERDICT_SENTENCES = {
    "similar": N_("The new texts look like the ones the model was trained on."),
    "some drift": N_("The new texts differ somewhat from the training data."),
    "strong drift": N_("The new texts differ clearly from the training data: check the predictions."),
}


@dataclass
class Evidence:
    """One measure: its value here and in the reference, the size of the difference, and what it counts for."""

    measure: str  # "untrusted" | "confidence" | "unknown"
    new: float
    reference: float
    effect: float  # untrusted: Cohen's h; confidence: points lower; unknown: points more (>0: the drift way)
    level: str  # "none" | "some" | "strong"
    beyond_chance: bool


@dataclass
class Drift:
    """How new texts compare with what the model was trained and checked on, with a plain verdict."""

    verdict: str  # "similar" | "some drift" | "strong drift"
    sentence: str
    untrusted_share: float
    expected_untrusted_share: float
    confidence_distance: float  # how far confidence dropped below the validation split's (KS; 0 if by chance)
    mean_confidence: float
    validation_mean_confidence: float
    unknown_token_share: float | None
    training_unknown_token_share: float | None
    texts: int = 0
    validation_texts: int = 0
    evidence: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def share(value: float) -> str:
    """A share as every drift figure is written, on the Apply page's tiles and in the verdict: "0.7%"."""
    return i18n.percent(float(value), 1)


def points(value: float) -> str:
    """A difference of two shares in percentage points: "5.2"."""
    return i18n.number(abs(float(value)) * 100, 1)


def cohens_h(new: float, reference: float) -> float:
    """Cohen's h of two proportions: 2·asin√new − 2·asin√reference (positive: new is higher)."""
    clip = lambda p: min(1.0, max(0.0, float(p)))  # noqa: E731
    return 2 * math.asin(math.sqrt(clip(new))) - 2 * math.asin(math.sqrt(clip(reference)))


def higher_share_p(new: float, n_new: int, reference: float, n_reference: int) -> float:
    """One-sided p-value that `new` (of n_new) is above `reference` (of n_reference; 0: a known share) by chance."""
    if n_new <= 0:
        return 1.0
    if n_reference > 0:
        pooled = (new * n_new + reference * n_reference) / (n_new + n_reference)
        variance = pooled * (1 - pooled) * (1 / n_new + 1 / n_reference)
    else:
        variance = reference * (1 - reference) / n_new
    if variance <= 0:
        return 0.0 if new > reference else 1.0
    from scipy.stats import norm

    return float(norm.sf((new - reference) / math.sqrt(variance)))


def level(effect: float, thresholds: tuple[float, float], beyond_chance: bool) -> str:
    """none / some / strong: by the size of a difference in the drift direction that chance would rarely give."""
    if not beyond_chance or effect < thresholds[0]:
        return "none"
    return "strong" if effect >= thresholds[1] else "some"


def drift(
    confidences: np.ndarray,
    validation_confidences: np.ndarray,
    untrusted_share: float,
    expected_untrusted_share: float,
    unknown_token_share: float | None = None,
    training_unknown_token_share: float | None = None,
) -> Drift:
    """A verdict a non-engineer understands, from the confidence and untrusted shares (see the module)."""
    from scipy.stats import ks_2samp

    n, n_val = len(confidences), len(validation_confidences)
    mean_conf = float(np.mean(confidences)) if n else 0.0
    val_conf = float(np.mean(validation_confidences)) if n_val else 0.0
    distance, dropped = 0.0, False
    if n and n_val:  # only a drop in confidence, and only beyond chance
        test = ks_2samp(confidences, validation_confidences, alternative="greater", method="asymp")
        dropped = bool(test.pvalue < CHANCE)
        distance = float(test.statistic) if dropped else 0.0
    h = cohens_h(untrusted_share, expected_untrusted_share)
    untrusted_chance = higher_share_p(untrusted_share, n, expected_untrusted_share, n_val) < CHANCE
    evidence = [
        Evidence(
            "untrusted",
            float(untrusted_share),
            float(expected_untrusted_share),
            round(h, 4),
            level(h, UNTRUSTED_H, untrusted_chance),
            untrusted_chance,
        ),
        Evidence(
            "confidence",
            mean_conf,
            val_conf,
            round(val_conf - mean_conf, 4),
            level(val_conf - mean_conf, CONFIDENCE_POINTS, dropped),
            dropped,
        ),
    ]
    if unknown_token_share is not None:
        before = training_unknown_token_share or 0.0
        more = float(unknown_token_share) - before
        evidence.append(Evidence("unknown", float(unknown_token_share), float(before), round(more, 4),
                                 level(more, UNKNOWN_POINTS, True), True))  # fmt: skip
    worst = max((e.level for e in evidence), key=LEVELS.index)
    record = Drift(VERDICTS[worst], "", float(untrusted_share), float(expected_untrusted_share), distance, mean_conf,
                   val_conf, unknown_token_share, training_unknown_token_share, n, n_val,
                   [asdict(e) for e in evidence])  # fmt: skip
    record.sentence = describe(record.to_dict())
    return record


# What each measure says, by the way its difference went ("more": the drift way) and what it counts for.
SAID = {
    ("untrusted", "more"): N_(
        "untrusted texts: {new} here against {reference} on the validation texts, {points} points more ({size})."
    ),
    ("untrusted", "fewer"): N_(
        "untrusted texts: {new} here against {reference} on the validation texts, fewer than there: no sign of "
        "drift."
    ),
    ("untrusted", "same"): N_(
        "untrusted texts: {new} here against {reference} on the validation texts, no more than there: no sign "
        "of drift."
    ),
    ("confidence", "more"): N_(
        "mean confidence: {new} here against {reference} on the validation texts, {points} points lower ({size})."
    ),
    ("confidence", "fewer"): N_(
        "mean confidence: {new} here against {reference} on the validation texts, higher than there: no sign of "
        "drift."
    ),
    ("confidence", "same"): N_(
        "mean confidence: {new} here against {reference} on the validation texts, no lower than there."
    ),
    ("unknown", "more"): N_(
        "word pieces unknown to the model: {new} here against {reference} in the training data, {points} points "
        "more ({size})."
    ),
    ("unknown", "fewer"): N_(
        "word pieces unknown to the model: {new} here against {reference} in the training data, fewer than there."
    ),
    ("unknown", "same"): N_(
        "word pieces unknown to the model: {new} here against {reference} in the training data, no more than there."
    ),
}
SIZES = {
    "strong": N_("a large difference, beyond chance"),
    "some": N_("a moderate difference, beyond chance"),
    "small": N_("too small a difference to count"),
    "chance": N_("a difference chance could give"),
}


def _said(item: dict) -> str:
    """One measure in words: both figures (formatted by `share`), the difference in points, its size."""
    effect = float(item["effect"])
    shown = points(item["new"] - item["reference"])
    way = "same" if shown == points(0) else "more" if effect > 0 else "fewer"
    size = item["level"] if item["level"] != "none" else "small" if item.get("beyond_chance") else "chance"
    text = tr(SAID[(item["measure"], way)], new=share(item["new"]), reference=share(item["reference"]),
              points=shown, size=tr(SIZES[size]))  # fmt: skip
    return text[:1].upper() + text[1:]


# A record written before the evidence was kept: each measure's two figures, without a size.
MEASURED = {
    "untrusted": N_("untrusted texts: {new} here against {reference} on the validation texts."),
    "confidence": N_("mean confidence: {new} here against {reference} on the validation texts."),
    "unknown": N_("word pieces unknown to the model: {new} here against {reference} in the training data."),
}
FIGURES = {  # measure -> (its share here, its reference) in a Drift record
    "untrusted": ("untrusted_share", "expected_untrusted_share"),
    "confidence": ("mean_confidence", "validation_mean_confidence"),
    "unknown": ("unknown_token_share", "training_unknown_token_share"),
}


def _figures_only(record: dict) -> str:
    """The verdict of a record without its evidence, rebuilt from its figures in the current language (the
    sentence it stored was written in the language of the process that scored)."""
    verdict = record["verdict"]
    parts = [tr(VERDICT_SENTENCES[verdict]), tr("Measured:")]
    for measure, (here, there) in FIGURES.items():
        if record.get(here) is None:
            continue
        text = tr(MEASURED[measure], new=share(record[here]), reference=share(record.get(there) or 0.0))
        parts.append(text[:1].upper() + text[1:])
    if verdict != "similar":
        parts.append(tr("Label some of the untrusted texts and train again."))
    return " ".join(parts)


def describe(record: dict) -> str:
    """The verdict in words, from a Drift record (results.json's "drift"): the measures that decided it first,
    then the others, each figure with its size and direction, in the current language. Never the sentence
    the record stored (written in the scoring process's language): a record written before the evidence was
    kept is said from its figures; one without a known verdict or figures gives its stored sentence."""
    evidence = record.get("evidence")
    verdict = record.get("verdict", "")
    if verdict not in VERDICT_SENTENCES or not (evidence or record.get("untrusted_share") is not None):
        return str(record.get("sentence", ""))
    if not evidence:
        return _figures_only(record)
    deciding = [e for e in evidence if e["level"] != "none" and VERDICTS[e["level"]] == verdict]
    others = [e for e in evidence if e not in deciding]
    parts = [tr(VERDICT_SENTENCES[verdict])]
    if deciding:
        parts.append(tr("What decided it:"))
        parts += [_said(e) for e in deciding]
        if others:
            parts.append(tr("Also measured:"))
    else:
        parts.append(tr("No measure differs by much:"))
    parts += [_said(e) for e in others]
    if verdict != "similar":
        parts.append(tr("Label some of the untrusted texts and train again."))
    return " ".join(parts)
