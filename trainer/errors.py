"""One plain sentence for any failure, shared by jobs, background tasks, the CLI and the app."""

from __future__ import annotations

import errno


class PlainError(Exception):
    """A failure whose message is written for a person (what happened and what to do)."""


# Failures whose message is already written for a person (DataError, ModelError, config checks...).
PLAIN = (PlainError, ValueError, FileNotFoundError, PermissionError, OSError)


def friendly_error(exc: BaseException, doing: str = "training") -> str:
    """A readable sentence for `exc`, with what to do where we know it; `doing` says what was going on."""
    text = str(exc).strip()
    if "out of memory" in text.lower() or type(exc).__name__ in ("OutOfMemoryError", "MemoryError"):
        return (
            "Ran out of memory. Lower the batch size or the max length (or use fewer examples) and try again."
        )
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return (
            "The disk is full, so the work could not be saved (nothing half-written was kept). "
            "Free some space, then resume or start again."
        )
    if isinstance(exc, PLAIN) and text:
        return text
    return f"Something unexpected went wrong while {doing} ({type(exc).__name__}: {text or 'no details'})."
