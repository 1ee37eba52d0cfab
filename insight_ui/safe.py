"""User text is shown as text: escaping for Markdown, HTML and Plotly labels."""

from __future__ import annotations

import html
import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#~$:|])")
_BULLET = re.compile(r"^(\s*)([-+=])", re.MULTILINE)
_NUMBERED = re.compile(r"^(\s*\d+)([.)])", re.MULTILINE)


def md(text: object) -> str:
    """Escape Markdown (and Streamlit's :color[...] / :emoji: / $math$) so `text` shows literally."""
    escaped = _MD_SPECIAL.sub(r"\\\1", str(text))
    escaped = _BULLET.sub(r"\1\\\2", escaped)
    return _NUMBERED.sub(r"\1\\\2", escaped)


def trim(text: object, limit: int = 120) -> str:
    """One line, at most `limit` characters."""
    one_line = " ".join(str(text).split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


def plot_text(text: object, limit: int = 160, width: int = 60) -> str:
    """Text for a Plotly label or hover box: escaped (Plotly reads a subset of HTML), trimmed, wrapped."""
    short = trim(text, limit)
    lines = [html.escape(short[i : i + width]) for i in range(0, len(short), width)]
    return "<br>".join(lines)


def plot_label(text: object, limit: int = 40) -> str:
    """A short, escaped class name for a Plotly axis or legend."""
    return html.escape(trim(text, limit))
