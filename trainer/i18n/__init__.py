"""The languages Insight speaks: English and 简体中文.

Every sentence a person reads goes through `tr` (or `trn` where English has a plural): the English
text is the message id, with named `{placeholders}` filled after translation, so a translator sees the
whole sentence and values (file names, column names, user text) never pass through the catalogue.
The catalogues are gettext `.po` files, one folder per language and one file per area of the app
(`trainer/i18n/zh_CN/*.po`), edited with any PO editor; `pybabel extract -k tr -k trn:1,2` lists the
ids in the code.

The language is a context variable: the command line sets it from `--lang`, the app once per script run
from the URL, the sidebar switch or the browser (`st.context.locale`). Numbers and dates are formatted
for it with Babel's CLDR data.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import functools
import string
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

LANGUAGES = {"en": "English", "zh": "简体中文"}
DEFAULT = "en"
# Babel's locale for each language (numbers, dates, plural rules).
LOCALES = {"en": "en_US", "zh": "zh_Hans_CN"}
CATALOGUES = {"zh": Path(__file__).parent / "zh_CN"}

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("insight_language", default=None)
_resolvers: list[Callable[[], str | None]] = []


def language() -> str:
    """The language sentences are written in right now ("en" or "zh").

    Set in this context (`set_language`, `speaking`), else what a front end's resolver says (the app's
    reads the visitor's session, so a fragment rerun speaks the page's language), else English."""
    lang = _current.get()
    if lang is None:
        for resolve in _resolvers:
            with contextlib.suppress(Exception):
                lang = normalize(resolve())
            if lang:
                break
    return lang or DEFAULT


def add_resolver(resolve: Callable[[], str | None]) -> None:
    """Ask `resolve()` for the language wherever none was set in the context (once per front end)."""
    if resolve not in _resolvers:
        _resolvers.append(resolve)


def normalize(code: str | None) -> str | None:
    """A browser or command-line language ("zh-CN", "zh_Hans", "en-GB", "中文") as one we speak, or None."""
    if not code:
        return None
    code = str(code).strip().lower().replace("_", "-")
    if code in ("中文", "简体中文", "chinese") or code.split("-")[0] == "zh":
        return "zh"
    if code in ("english",) or code.split("-")[0] == "en":
        return "en"
    return None


def set_language(code: str | None) -> str:
    """Speak `code` from now on in this context (an unknown one means English); returns the language."""
    lang = normalize(code) or DEFAULT
    _current.set(lang)
    return lang


@contextlib.contextmanager
def speaking(code: str | None) -> Iterator[str]:
    """Speak `code` inside the block, then go back to the language before."""
    token = _current.set(normalize(code) or DEFAULT)
    try:
        yield language()
    finally:
        _current.reset(token)


@functools.cache
def catalogue(lang: str) -> dict[str, str | tuple[str, ...]]:
    """Message id -> translation for `lang`, from every .po file of its folder (empty ones left out)."""
    from babel.messages.pofile import read_po

    folder = CATALOGUES.get(lang)
    found: dict[str, str | tuple[str, ...]] = {}
    if folder is None:
        return found
    for path in sorted(folder.glob("*.po")):
        with path.open("rb") as fh:
            for message in read_po(fh, locale=LOCALES[lang]):
                key = message.id[0] if isinstance(message.id, tuple) else message.id
                text = message.string
                if key and text and (not isinstance(text, tuple) or all(text)):
                    found.setdefault(key, tuple(text) if isinstance(text, tuple | list) else text)
    return found


class _Keep(dict):
    """format_map values: a placeholder the caller did not give stays as it is."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(template: str, params: dict[str, Any]) -> str:
    """`template` with its placeholders filled; values are never read as templates."""
    if not params:
        return template
    return string.Formatter().vformat(template, (), _Keep(params))


def tr(message: str, /, **params: Any) -> str:
    """`message` in the current language, with `params` filled into its placeholders."""
    found = catalogue(language()).get(message) if language() != DEFAULT else None
    text = found[0] if isinstance(found, tuple) else found
    return fill(text or message, params)


def trn(singular: str, plural: str, n: int, /, **params: Any) -> str:
    """The singular or plural sentence for `n` (filled with `n` and `params`), in the current language."""
    params = {"n": n, **params}
    if language() != DEFAULT:
        found = catalogue(language()).get(singular)
        if found:
            text = found if isinstance(found, str) else found[0]  # Chinese has one plural form
            return fill(text, params)
    return fill(singular if n == 1 else plural, params)


def N_(message: str) -> str:
    """Mark `message` for the catalogue where it is defined (a constant); translate it with `tr` where shown."""
    return message


def placeholders(template: str) -> set[str]:
    """The named placeholders of a message ("{n} rows in {file}" -> {"n", "file"})."""
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def number(value: float | int, digits: int | None = None) -> str:
    """A number the way the current language writes it (grouping, decimals)."""
    from babel.numbers import format_decimal

    if digits is None:
        return format_decimal(value, locale=LOCALES[language()])
    return format_decimal(
        value, format="#,##0." + "0" * digits if digits else "#,##0", locale=LOCALES[language()]
    )


def percent(value: float, digits: int = 0) -> str:
    """A share (0.25) as a percentage in the current language."""
    from babel.numbers import format_percent

    pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
    return format_percent(value, format=pattern, locale=LOCALES[language()])


def date(value: dt.date | dt.datetime | str, with_time: bool = False) -> str:
    """A date (or date and time) written for the current language: "Dec 2, 2026" / "2026年12月2日"."""
    from babel.dates import format_date, format_datetime

    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    locale = LOCALES[language()]
    if with_time and isinstance(value, dt.datetime):
        return format_datetime(value, format="medium", locale=locale)
    day = value.date() if isinstance(value, dt.datetime) else value
    return format_date(day, format="medium", locale=locale)
