"""A free monitor name from the one a person would want (a file's name, say): what "Keep watching this"
calls the monitor it makes from a scoring.

The wanted name keeps its ASCII letters, digits, '.', '_' and '-' (anything else becomes '-'), loses
leading and trailing punctuation, and is cut to 40 characters ("stream" if nothing is left); when a
monitor of that name exists, "-1", "-2", ... is added until the name is free. The result is always a
monitor name (trainer.monitor.monitor.NAME_RE).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection

UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
LONGEST = 40  # characters kept of the wanted name (a suffix may follow; a monitor name has at most 64)
FALLBACK = "stream"


def stem_of(wanted: str) -> str:
    """The wanted name made a monitor name: safe characters only, trimmed, "stream" if nothing is left."""
    return UNSAFE.sub("-", wanted).strip("-._")[:LONGEST] or FALLBACK


def free_name(wanted: str, taken: Collection[str]) -> str:
    """`wanted` as a monitor name that is not among `taken`: itself, else itself with -1, -2, ..."""
    stem = stem_of(wanted)
    candidates = itertools.chain([stem], (f"{stem}-{i}" for i in itertools.count(1)))
    return next(name for name in candidates if name not in taken)
