"""The model folders the app may open: the bundled model and folders under the model roots.

INSIGHT_MODEL_ROOTS (folders separated by the system's path separator, ':' on Linux) lists them; by default
`models/` beside the app. A typed name is a folder under a root (relative to one, or an absolute path
inside one, symbolic links resolved); anything else gets the same answer whether or not it exists, so the
app never tells a visitor what is on the server's disk.
"""

from __future__ import annotations

import os
from pathlib import Path

from trainer.model.loading import DEFAULT_MODEL, is_default_model

ROOT = Path(__file__).resolve().parents[2]


def model_roots() -> list[Path]:
    configured = [p for p in os.environ.get("INSIGHT_MODEL_ROOTS", "").split(os.pathsep) if p.strip()]
    return [Path(p).expanduser() for p in configured] or [ROOT / "models"]


class ModelNotAllowed(ValueError):
    """A model the app may not open; the message never says whether the path exists."""


def allowed_model(name: str) -> str:
    """`name` as the loader takes it, if the app may use it; else ModelNotAllowed."""
    name = (name or "").strip()
    if is_default_model(name):
        return name or DEFAULT_MODEL
    for root in model_roots():
        candidate = Path(name).expanduser() if Path(name).expanduser().is_absolute() else root / name
        try:
            resolved, base = candidate.resolve(), root.resolve()
        except OSError:
            continue
        if resolved.is_relative_to(base) and resolved != base and resolved.is_dir():
            return str(resolved)
    roots = ", ".join(str(r) for r in model_roots())
    raise ModelNotAllowed(
        f"This app only opens the bundled model ('default') or a model folder under {roots}. Put the model "
        "folder there (or ask whoever runs Insight to add a root with INSIGHT_MODEL_ROOTS) and type its name."
    )
