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

from trainer.data.errors import DataError
from trainer.data.limits import Limit

READ_SECONDS = Limit("INSIGHT_READ_SECONDS", 120, "seconds")


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
        out, err = child.communicate(pickle.dumps((function, args, kwargs)), timeout=seconds)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise DataError(
            f"Reading this file took longer than {seconds:,} seconds, so Insight stopped. Split it into smaller "
            f"files, or whoever runs Insight can allow longer by setting {READ_SECONDS.setting}."
        ) from None
    if child.returncode != 0 or not out:
        reason = "it ran out of memory" if child.returncode in (-9, 137) else "it stopped unexpectedly"
        last = (err.decode(errors="replace").strip().splitlines() or [""])[-1]
        raise DataError(
            f"Insight could not read this file: {reason} (exit {child.returncode}). Try a smaller file. {last}".strip()
        )
    ok, value = pickle.loads(out)
    if not ok:
        raise value
    return value


def _main() -> None:
    import importlib

    function, args, kwargs = pickle.loads(sys.stdin.buffer.read())
    module, _, name = function.partition(":")
    fn = getattr(importlib.import_module(module), name)
    try:
        result = (True, fn(*args, **kwargs))
    except DataError as exc:
        result = (False, exc)
    sys.stdout.buffer.write(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    _main()
