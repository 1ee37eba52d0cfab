"""The limits on one data file, each a setting with a stated default, and the sentence a file past one gets.

A limit is read from its environment variable each time it is used (the app, the CLI and the jobs all
read the same ones), so whoever runs Insight raises it without touching code:

| setting | default | what it bounds |
|---|---|---|
| INSIGHT_MAX_FILE_MB | 200 | megabytes in one file (an upload or a path) |
| INSIGHT_MAX_ROWS | 500,000 | data rows (CoNLL: sentences) in one file |
| INSIGHT_MAX_COLUMNS | 1,000 | columns (JSON: distinct keys) in one file |
| INSIGHT_MAX_CELL_CHARS | 1,000,000 | characters in one cell (CoNLL: one line) |
| INSIGHT_MAX_LABELS | 1,000 | distinct labels (token task: entity types) |
| INSIGHT_MAX_DEPTH | 64 | levels of lists and objects nested in a JSON value |

The app's uploader refuses files over Streamlit's own `server.maxUploadSize` (200 MB in
.streamlit/config.toml) before Insight sees them; raise both together.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from trainer import i18n
from trainer.data.errors import DataError
from trainer.i18n import N_, tr

# An amount of what a limit counts, by its unit (a Limit's, or the one a caller names).
AMOUNTS = {
    "megabytes": N_("{n} megabytes"),
    "MB": N_("{n} MB"),
    "data rows": N_("{n} data rows"),
    "columns": N_("{n} columns"),
    "characters": N_("{n} characters"),
    "labels": N_("{n} labels"),
    "levels of nesting": N_("{n} levels of nesting"),
    "seconds": N_("{n} seconds"),
    "sentences": N_("{n} sentences"),
    "records": N_("{n} records"),
    "distinct keys (columns)": N_("{n} distinct keys (columns)"),
    "different labels": N_("{n} different labels"),
    "different entity types": N_("{n} different entity types"),
}


def amount(n: int, unit: str) -> str:
    """ "600,000 data rows", in the current language (an unknown unit stays as it is)."""
    template = AMOUNTS.get(unit)
    return tr(template, n=i18n.number(n)) if template else f"{i18n.number(n)} {unit}"


@dataclass(frozen=True)
class Limit:
    setting: str  # the environment variable
    default: int
    unit: (
        str  # what is counted, plural: "data rows", "columns" (marked with N_: a message shows it translated)
    )

    @property
    def value(self) -> int:
        raw = os.environ.get(self.setting, "").strip().replace("_", "").replace(",", "")
        if not raw:
            return self.default
        if not raw.isdigit() or int(raw) < 1:
            raise DataError(
                tr(
                    "{setting} is set to {value}; it must be a whole number of {unit} (1 or more). "
                    "Unset it to use the default, {default}.",
                    setting=self.setting,
                    value=repr(os.environ[self.setting]),
                    unit=tr(self.unit),
                    default=i18n.number(self.default),
                )
            )
        return int(raw)

    def refuse(self, subject: str, found: int | None = None, unit: str | None = None) -> DataError:
        """One sentence for a file past this limit: what holds too much, the limit, and how to raise it.

        `subject` is already worded in the current language (tr('Line {number} of "{name}"', ...))."""
        unit = unit or self.unit
        if found is not None:
            return DataError(
                tr(
                    "{subject} holds {amount}, more than the limit of {limit}: split or shorten it, or whoever "
                    "runs Insight can raise the limit by setting {setting} to a larger number.",
                    subject=subject,
                    amount=amount(found, unit),
                    limit=i18n.number(self.value),
                    setting=self.setting,
                )
            )
        return DataError(
            tr(
                "{subject} holds more than {amount}, the limit: split or shorten it, or whoever runs Insight "
                "can raise the limit by setting {setting} to a larger number.",
                subject=subject,
                amount=amount(self.value, unit),
                setting=self.setting,
            )
        )

    def check(self, found: int, subject: str, unit: str | None = None) -> None:
        if found > self.value:
            raise self.refuse(subject, found, unit)


FILE_MB = Limit("INSIGHT_MAX_FILE_MB", 200, N_("megabytes"))
ROWS = Limit("INSIGHT_MAX_ROWS", 500_000, N_("data rows"))
COLUMNS = Limit("INSIGHT_MAX_COLUMNS", 1_000, N_("columns"))
CELL_CHARS = Limit("INSIGHT_MAX_CELL_CHARS", 1_000_000, N_("characters"))
LABELS = Limit("INSIGHT_MAX_LABELS", 1_000, N_("labels"))
DEPTH = Limit("INSIGHT_MAX_DEPTH", 64, N_("levels of nesting"))


def check_size(name: str, size: int) -> None:
    """A file of `size` bytes: refused when over INSIGHT_MAX_FILE_MB (checked before it is read)."""
    megabytes = size / 1_000_000
    if megabytes > FILE_MB.value:
        raise FILE_MB.refuse(tr('"{name}"', name=name), round(megabytes), "MB")


def nesting_depth(value: object, stop: int) -> int:
    """How deeply lists and objects nest in `value` (a scalar is 0), counting no further than `stop` + 1.

    Iterative, so a deep value cannot exhaust Python's stack; linear in the value's size."""
    deepest = 0
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop:
                    return deepest
            stack.extend((child, depth) for child in (item.values() if isinstance(item, dict) else item))
    return deepest
