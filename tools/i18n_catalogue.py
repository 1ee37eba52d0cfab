"""The message ids in the code: what `pybabel extract -k tr -k trn:1,2 -k N_` would list.

Used by the catalogue test (every id has its Chinese) and by `python -m tools.i18n_catalogue`, which
prints the ids a language still lacks as a .po file to translate.
"""

from __future__ import annotations

import sys
from pathlib import Path

from trainer import i18n

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("app.py", "insight_ui", "trainer")
KEYWORDS = {"tr": None, "trn": (1, 2), "N_": None}


def source_files() -> list[Path]:
    found: list[Path] = []
    for name in SOURCES:
        path = ROOT / name
        found.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    return found


def message_ids() -> dict[str, list[str]]:
    """Each message id in the code -> where it is used ("file:line"); plurals give their singular."""
    import contextlib
    import io

    from babel.messages.extract import extract

    found: dict[str, list[str]] = {}
    for path in source_files():
        with path.open("rb") as fh, contextlib.redirect_stderr(io.StringIO()):  # not_literal() reports those
            for line, message, _comments, _context in extract("python", fh, keywords=KEYWORDS):
                singular = message[0] if isinstance(message, tuple | list) else message
                if singular:
                    found.setdefault(singular, []).append(f"{path.relative_to(ROOT)}:{line}")
    return found


def not_literal() -> list[str]:
    """Calls of tr/trn/N_ whose message is built in place ("file:line"): an f-string, `+`, `%` or
    `.format` cannot be in the catalogue (placeholders go in the id; a constant is marked with N_)."""
    import ast

    found = []
    for path in source_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in KEYWORDS
            ):
                continue
            count = 2 if node.func.id == "trn" else 1
            args = node.args[:count]
            built = (ast.JoinedStr, ast.BinOp)
            if len(args) < count or any(
                isinstance(a, built)
                or (isinstance(a, ast.Call) and isinstance(a.func, ast.Attribute) and a.func.attr == "format")
                for a in args
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def missing(lang: str = "zh") -> dict[str, list[str]]:
    """The ids `lang` has no translation for."""
    have = i18n.catalogue(lang)
    return {key: where for key, where in message_ids().items() if key not in have}


def _po_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def main() -> int:
    lang = sys.argv[1] if len(sys.argv) > 1 else "zh"
    for key, where in missing(lang).items():
        print(f'#: {" ".join(where[:3])}\nmsgid {_po_string(key)}\nmsgstr ""\n')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
