"""One plain sentence for any failure, shared by jobs, background tasks, the CLI and the app."""

from __future__ import annotations

import errno

from trainer.i18n import N_, tr


class PlainError(Exception):
    """A failure whose message is written for a person (what happened and what to do)."""


# Failures whose message is already written for a person (DataError, ModelError, config checks...).
PLAIN = (PlainError, ValueError, FileNotFoundError, PermissionError, OSError)

# The sentence for an unexpected failure, by what was going on (`doing`, as callers pass it).
UNEXPECTED = {
    "training": N_("Something unexpected went wrong while training ({error})."),
    "scoring": N_("Something unexpected went wrong while scoring ({error})."),
    "showing this page": N_("Something unexpected went wrong while showing this page ({error})."),
    "computing in the background": N_(
        "Something unexpected went wrong while computing in the background ({error})."
    ),
}


def friendly_error(exc: BaseException, doing: str = "training") -> str:
    """A readable sentence for `exc`, with what to do where we know it; `doing` says what was going on
    (one of UNEXPECTED's keys gets its own whole sentence, so it can be translated)."""
    text = str(exc).strip()
    if "out of memory" in text.lower() or type(exc).__name__ in ("OutOfMemoryError", "MemoryError"):
        return tr(
            "Ran out of memory. Lower the batch size or the max length (or use fewer examples) and try again."
        )
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return tr(
            "The disk is full, so the work could not be saved (nothing half-written was kept). "
            "Free some space, then resume or start again."
        )
    if isinstance(exc, PLAIN) and text:
        return text
    details = text or tr("no details")
    error = f"{type(exc).__name__}: {details}"
    if doing in UNEXPECTED:
        return tr(UNEXPECTED[doing], error=error)
    return tr("Something unexpected went wrong while {doing} ({error}).", doing=doing, error=error)
