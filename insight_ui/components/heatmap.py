"""Word-by-word highlighting of attributions, and the entity-span view of tagged sentences.

These are the only places that build HTML from user text: every piece goes through html.escape.
"""

from __future__ import annotations

import html
from collections.abc import Collection, Iterable, Sequence

from trainer.data.word_rule import word_separator
from trainer.evaluate.metrics import entity_spans
from trainer.i18n import tr

RED = (220, 38, 38)  # pushes toward the target class
BLUE = (37, 99, 235)  # pushes away from it
ENTITY_COLOURS = ["#fde68a", "#bbf7d0", "#bfdbfe", "#fbcfe8", "#ddd6fe", "#fed7aa", "#a5f3fc", "#e5e7eb"]

_BOX = (
    "font-size:1.15rem;line-height:2.3rem;padding:0.8rem 1rem;border:1px solid rgba(128,128,128,.25);"
    "border-radius:0.5rem;white-space:pre-wrap;word-wrap:break-word"
)


def colour(score: float, scale: float) -> str:
    """rgba background for one score: red for positive, blue for negative, alpha by strength."""
    strength = 0.0 if scale <= 0 else min(1.0, abs(score) / scale)
    r, g, b = RED if score >= 0 else BLUE
    return f"rgba({r},{g},{b},{0.08 + 0.72 * strength:.3f})" if strength > 0.02 else "transparent"


def _pieces(
    text: str, words: Sequence[str], spans: Sequence[tuple[int, int]] | None
) -> list[tuple[str, int | None]]:
    """(piece of text, word index or None for the gaps), covering the whole text when spans are known."""
    if not spans or len(spans) != len(words):
        out: list[tuple[str, int | None]] = []
        for i, word in enumerate(words):
            if i:
                out.append((" ", None))
            out.append((word, i))
        return out
    out, cursor = [], 0
    for i, (start, end) in enumerate(spans):
        start, end = int(start), int(end)
        if start < cursor or end > len(text) or start >= end:
            return _pieces(text, words, None)
        if start > cursor:
            out.append((text[cursor:start], None))
        out.append((text[start:end], i))
        cursor = end
    if cursor < len(text):
        out.append((text[cursor:], None))
    return out


def token_heatmap_html(
    text: str,
    words: Sequence[str],
    scores: Sequence[float | None],
    spans: Sequence[tuple[int, int]] | None = None,
) -> str:
    """The text with each word's background coloured by its attribution (escaped HTML).

    A score of None (a word the model did not read, past its max length) is shown greyed out.
    """
    scale = max((abs(float(s)) for s in scores if s is not None), default=0.0)
    parts = []
    for piece, index in _pieces(text, words, spans):
        if index is None:
            parts.append(html.escape(piece))
            continue
        score = scores[index]
        if score is None:
            parts.append(
                f'<span class="insight-unread" title="{html.escape(tr("not read"))}" style="opacity:.45">'
                f"{html.escape(piece)}</span>"
            )
            continue
        parts.append(
            f'<span class="insight-word" title="{html.escape(words[index])}: {float(score):+.3f}" '
            f'style="background:{colour(float(score), scale)};border-radius:0.3rem;padding:0.1rem 0">'
            f"{html.escape(piece)}</span>"
        )
    return f'<div class="insight-heatmap" style="{_BOX}">{"".join(parts)}</div>'


def legend_html(target: str) -> str:
    """What red and blue mean, for this target class."""
    target = html.escape(target)
    swatch = "display:inline-block;width:1.6rem;height:0.9rem;border-radius:0.2rem;vertical-align:middle;margin:0 0.3rem"
    red = f"rgba({RED[0]},{RED[1]},{RED[2]},0.7)"
    blue = f"rgba({BLUE[0]},{BLUE[1]},{BLUE[2]},0.7)"
    toward = tr("red: the word pushes the model <b>toward</b> “{target}”", target=target)
    away = tr(
        "blue: it pushes <b>away</b> from “{target}” (toward other labels). "
        "Darker means stronger; hover a word for its score.",
        target=target,
    )
    return (
        f'<div class="insight-legend" style="font-size:0.9rem;opacity:0.85;margin:0.3rem 0 0.8rem">'
        f'<span style="{swatch};background:{red}"></span>{toward}'
        f'<span style="{swatch};margin-left:1.2rem;background:{blue}"></span>{away}</div>'
    )


def entity_palette(types: Iterable[str]) -> dict[str, str]:
    """One colour per entity type, stable for a given set of types (gold and predicted views agree)."""
    return {t: ENTITY_COLOURS[i % len(ENTITY_COLOURS)] for i, t in enumerate(sorted(set(types)))}


def entity_spans_html(
    tokens: Sequence[str],
    tags: Sequence[str],
    marked: Collection[tuple[int, int, str]] = (),
    mark: str = "wrong",
    types: Iterable[str] | None = None,
) -> str:
    """A sentence with its entities boxed and labelled (BIO/IOBES tags), escaped HTML.

    Entities in `marked` (start, end, type) are outlined in red: solid with ✗ for `mark="wrong"`
    (a predicted entity that is not in the true labels), dashed with "missed" for `mark="missed"`
    (a true entity the model did not find).
    """
    spans = entity_spans(list(tags)[: len(tokens)])
    palette = entity_palette(types if types is not None else (k for _, _, k in spans))
    sep = word_separator(tokens)
    parts: list[str] = []
    cursor = 0
    for start, end, kind in spans:
        parts.extend(html.escape(t) for t in tokens[cursor:start])
        words = html.escape(sep.join(tokens[start:end]))
        style = (
            f"background:{palette.get(kind, ENTITY_COLOURS[-1])};color:#111;border-radius:0.3rem;"
            "padding:0.1rem 0.3rem"
        )
        note, title = "", kind
        if (start, end, kind) in marked:
            dashed = mark == "missed"
            style += f";outline:2px {'dashed' if dashed else 'solid'} #dc2626;outline-offset:1px"
            note = " " + tr("missed") if dashed else " ✗"
            title = (
                tr("{kind}: a true entity the model did not find", kind=kind)
                if dashed
                else tr("{kind}: not in the true labels (wrong span or type)", kind=kind)
            )
        parts.append(
            f'<span class="insight-entity{" insight-error" if note else ""}" title="{html.escape(title)}" '
            f'style="{style}">{words} <small style="font-weight:600;opacity:.7">{html.escape(kind)}'
            f"{html.escape(note)}</small></span>"
        )
        cursor = end
    parts.extend(html.escape(t) for t in tokens[cursor:])
    return f'<div class="insight-entities" style="{_BOX}">{sep.join(parts)}</div>'
