"""Reading and checking a file in a child process, so a large or slow file cannot stall the caller.

The app serves every visitor from one process; a file that takes seconds of CPU to parse would hold
them all up. `run("trainer.data.readers:read_table", ...)` calls that function in a fresh
`python -m trainer.data.isolated`, under a time limit (INSIGHT_READ_SECONDS, default 120), and
returns what it returned (or raises the DataError it raised). The child imports only what the
function needs.

Parent and child exchange pickles over a pipe: both are this program, nothing else writes to it.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from typing import Any

from trainer import i18n
from trainer.data.errors import DataError
from trainer.data.limits import Limit
from trainer.i18n import N_, tr

READ_SECONDS = Limit("INSIGHT_READ_SECONDS", 120, N_("seconds"))


def run(function: str, *args: Any, **kwargs: Any) -> Any:
    """`function` ("module:name" of a trainer module) called in a child process; its DataError is raised here."""
    if not function.startswith("trainer.") or ":" not in function:
        raise ValueError(f"not a trainer function: {function!r}")
    seconds = READ_SECONDS.value
    child = subprocess.Popen(
        [sys.executable, "-m", "trainer.data.isolated"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "TOKENIZERS_PARALLELISM": "false"},
    )
    try:
        # the child speaks the caller's language, so the messages it raises need no second wording
        request = pickle.dumps((function, args, kwargs, i18n.language()))
        out, err = child.communicate(request, timeout=seconds)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise DataError(
            tr(
                "Reading this file took longer than {seconds} seconds, so Insight stopped. Split it into smaller "
                "files, or whoever runs Insight can allow longer by setting {setting}.",
                seconds=i18n.number(seconds),
                setting=READ_SECONDS.setting,
            )
        ) from None
    if child.returncode != 0 or not out:
        last = (err.decode(errors="replace").strip().splitlines() or [""])[-1]
        if child.returncode in (-9, 137):
            said = tr(
                "Insight could not read this file: it ran out of memory (exit {code}). Try a smaller file.",
                code=child.returncode,
            )
        else:
            said = tr(
                "Insight could not read this file: it stopped unexpectedly (exit {code}). Try a smaller file.",
                code=child.returncode,
            )
        raise DataError(f"{said} {last}".strip())
    ok, value = pickle.loads(out)
    if not ok:
        raise value
    return value


def _main() -> None:
    import importlib

    function, args, kwargs, language = pickle.loads(sys.stdin.buffer.read())
    i18n.set_language(language)
    module, _, name = function.partition(":")
    fn = getattr(importlib.import_module(module), name)
    try:
        result = (True, fn(*args, **kwargs))
    except DataError as exc:
        result = (False, exc)
    sys.stdout.buffer.write(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    _main()
