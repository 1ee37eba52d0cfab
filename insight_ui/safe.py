"""User text is shown as text: one escaping helper for each kind of output.

- `md`: Streamlit Markdown (st.markdown, captions, alerts, headings, widget and button labels, metrics,
  progress and spinner text, tooltips, segmented-control and radio options).
- `md_code`: an inline code span inside such Markdown.
- `md_cell`: a table cell (or heading, or list item) of an exported Markdown file.
- `plot_text` / `plot_label`: Plotly titles, labels and hover boxes (they read a subset of HTML).
- HTML (st.html, the HTML reports) goes through `html.escape`.

A backslash before ':' does not stop a bare URL from becoming a link: remark-gfm, which Streamlit and
most Markdown viewers use, finds "http://", "www." and e-mail addresses in the text *after* escapes are
read. So `md` and `md_cell` put an invisible word joiner (U+2060) inside each of them.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

WORD_JOINER = "\u2060"
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#~$:|&])")
_CELL_SPECIAL = re.compile(r"([\\`*_{}\[\]#~$:|])")  # < > & are already HTML entities in a cell
_BULLET = re.compile(r"^(\s*)([-+=])", re.MULTILINE)
_NUMBERED = re.compile(r"^(\s*\d+)([.)])", re.MULTILINE)
_AUTOLINK = re.compile(r"(?i)(https?(?=\\?:)|www(?=\\?\.)|@(?=[-\w]))")  # GFM's bare links
_BACKTICKS = re.compile(r"`+")


def _escape(text: str, special: re.Pattern[str]) -> str:
    escaped = special.sub(r"\\\1", text)
    escaped = _BULLET.sub(r"\1\\\2", escaped)
    escaped = _NUMBERED.sub(r"\1\\\2", escaped)
    return _AUTOLINK.sub(lambda m: m.group(1) + WORD_JOINER, escaped)


def md(text: object) -> str:
    """Escape Markdown (and Streamlit's :color[...] / :emoji: / $math$, and bare links) so `text` shows literally."""
    return _escape(str(text), _MD_SPECIAL)


def md_code(text: object) -> str:
    """`text` as an inline code span, verbatim: fenced by more backticks than it holds."""
    body = " ".join(str(text).splitlines())
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(body)), default=0) + 1)
    pad = " " if body[:1] in ("`", " ") or body[-1:] in ("`", " ") else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def md_cell(text: object) -> str:
    """A cell of a Markdown table (or a heading or list item) in an exported file: HTML and Markdown
    escaped, pipes escaped, on one line."""
    one_line = re.sub(r"[\r\n]+", " ", str(text))
    return _escape(html.escape(one_line, quote=False), _CELL_SPECIAL)


def html_table(rows: Iterable[Iterable[object]], head: Iterable[object] | None = None) -> str:
    """An HTML table of `rows` (each a sequence of values) under `head`, every cell escaped."""
    out = ["<table>"]
    if head:
        out.append("<tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in head) + "</tr>")
    out += ["<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows]
    return "".join(out) + "</table>"


def trim(text: object, limit: int = 120) -> str:
    """One line, at most `limit` characters."""
    one_line = " ".join(str(text).split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


def plot_text(text: object, limit: int = 160, width: int = 60) -> str:
    """Text for a Plotly label or hover box: escaped (Plotly reads a subset of HTML), trimmed, wrapped."""
    short = trim(text, limit)
    lines = [_plotly_escape(short[i : i + width]) for i in range(0, len(short), width)]
    return "<br>".join(lines)


def plot_label(text: object, limit: int = 40) -> str:
    """A short, escaped class name for a Plotly axis or legend."""
    return _plotly_escape(trim(text, limit))


def _plotly_escape(text: str) -> str:
    """<, > and & escaped for Plotly's text markup. Quotes stay as they are: outside a tag they are plain
    text, and Plotly decodes only a few named entities (it would show "&quot;" as typed)."""
    return html.escape(text, quote=False)
