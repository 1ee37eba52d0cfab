"""Tag schemes of entity data: detect (BIO, IOBES, BILOU, BMES, IO), rewrite as BIO/IOBES, repair, count.

Tags are normalised to BIO or IOBES (IO and bare tags -> BIO, BMES -> IOBES with M=I, BILOU -> IOBES
with L=E, U=S); an I-X (or E-X) that does not continue an X entity becomes B-X (or S-X), as conlleval
reads it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from trainer.i18n import tr, trn

PREFIX_RE = re.compile(r"^([BIESMLU])[-_](.+)$")


def detect_tag_scheme(tags: Iterable[str]) -> str:
    """BIO, IOBES, BILOU, BMES, IO (I- only, or bare types like PER), or unknown (numbers)."""
    kinds = set(tags) - {"O"}
    if kinds and all(t.isdigit() for t in kinds):
        return "unknown"
    matches = [PREFIX_RE.match(t) for t in kinds]
    if any(m is None for m in matches):
        return "IO"
    prefixes = {m.group(1) for m in matches}
    if "M" in prefixes:
        return "BMES"
    if prefixes & {"L", "U"}:
        return "BILOU"
    if prefixes & {"E", "S"}:
        return "IOBES"
    return "BIO" if "B" in prefixes or not prefixes else "IO"


def canonical_tag(tag: str, scheme: str) -> str:
    """The tag written as BIO/IOBES with a "-" separator (bare types become I-TYPE)."""
    if tag == "O" or scheme == "unknown":
        return tag
    match = PREFIX_RE.match(tag)
    if match is None:
        return f"I-{tag}"
    prefix, kind = match.groups()
    if scheme in ("BMES", "BILOU"):
        prefix = {"M": "I", "L": "E", "U": "S"}.get(prefix, prefix)
    return f"{prefix}-{kind}"


def repair_tags(tags: Sequence[str]) -> tuple[list[str], int]:
    """I-X (E-X) that does not continue an X entity becomes B-X (S-X), as conlleval reads it."""
    out: list[str] = []
    fixed = 0
    previous = "O"
    for tag in tags:
        match = PREFIX_RE.match(tag)
        if match and match.group(1) in ("I", "E"):
            prev = PREFIX_RE.match(previous)
            if not (prev and prev.group(1) in ("B", "I") and prev.group(2) == match.group(2)):
                tag = ("B-" if match.group(1) == "I" else "S-") + match.group(2)
                fixed += 1
        out.append(tag)
        previous = tag
    return out, fixed


def entity_counts(tag_lists: Iterable[Sequence[str]]) -> dict[str, int]:
    """Entities per type (each starts with B- or S- once tags are repaired)."""
    counts: Counter[str] = Counter()
    for tags in tag_lists:
        for tag in tags:
            match = PREFIX_RE.match(tag)
            if match and match.group(1) in ("B", "S"):
                counts[match.group(2)] += 1
    return dict(sorted(counts.items()))


def normalise_tags(parts: list[list[Any]], report: Any) -> None:
    """Detect the tag scheme, rewrite tags as BIO/IOBES and repair invalid I- tags."""
    scheme = detect_tag_scheme(t for part in parts for ex in part for t in ex.y)
    report.tag_scheme = scheme
    if scheme == "unknown":
        report.warnings.append(
            tr(
                "The tags are numbers, so Insight cannot tell which entity each one means. Replace them with "
                "names like B-PER, I-PER and O to get entity scores."
            )
        )
        return
    for ex in (ex for part in parts for ex in part):
        ex.y, fixed = repair_tags([canonical_tag(t, scheme) for t in ex.y])
        ex.y = tuple(ex.y)
        report.repaired_tags += fixed
    if scheme == "IO":
        report.notes.append(
            tr("The tags have no B- prefixes (IO scheme); the first word of each entity was tagged B- (BIO).")
        )
    elif scheme == "BMES":
        report.notes.append(tr("The tags use the BMES scheme; they were read as IOBES (M- as I-)."))
    elif scheme == "BILOU":
        report.notes.append(
            tr("The tags use the BILOU scheme; they were read as IOBES (L- as E- and U- as S-).")
        )
    elif report.repaired_tags:
        report.notes.append(
            trn(
                "Repaired {n} tag: an I- tag that does not continue an entity of the same type starts one "
                "(it became B-), as the standard scorer reads it.",
                "Repaired {n} tags: an I- tag that does not continue an entity of the same type starts one "
                "(it became B-), as the standard scorer reads it.",
                report.repaired_tags,
            )
        )


def tag_names(tags: Iterable[str], scheme: str | None) -> list[str]:
    """The model's classes: O, then every prefix of every entity type seen (numbers: as they are)."""
    tags = set(tags)
    if scheme == "unknown":
        return sorted(tags, key=lambda t: (t != "O", int(t) if t.isdigit() else 0, t))
    prefixes = ("B", "I", "E", "S") if scheme in ("IOBES", "BMES", "BILOU") else ("B", "I")
    kinds = sorted({m.group(2) for t in tags if (m := PREFIX_RE.match(t))})
    return ["O"] + [f"{p}-{k}" for k in kinds for p in prefixes]
