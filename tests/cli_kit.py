"""The one way the tests run the command line: `python -m trainer ARGS` as a user types it.

    done = trainer_cli("check", path)                          # a child process, from the repository root
    done = trainer_cli("monitor", "list", runs_dir=runs)       # ... "--runs-dir", runs appended
    done = trainer_cli("users", "add", "ana", stdin="pw\\n")    # what the user types
    done = trainer_cli("check", path, in_process=True)         # trainer.cli.main in this process (fast)
    assert done.returncode == 0, done.stderr

Always a `subprocess.CompletedProcess` (returncode, stdout, stderr as text), whichever way it ran.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def trainer_cli(
    *args,
    runs_dir: str | Path | None = None,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    cwd: str | Path = ROOT,
    timeout: float = 600,
    in_process: bool = False,
) -> subprocess.CompletedProcess:
    """Run `python -m trainer *args` (each argument made a string; `--runs-dir runs_dir` appended when given).

    A child process by default, in `cwd` with this process's environment plus `env` (the repository on
    PYTHONPATH), `stdin` typed in, killed after `timeout` seconds. `in_process=True` calls
    `trainer.cli.main` here instead, its output captured: for commands whose only setting is the
    environment (no stdin, no env, no cwd), when the child's start-up would dominate the test."""
    argv = [str(a) for a in args] + (["--runs-dir", str(runs_dir)] if runs_dir is not None else [])
    if in_process:
        if stdin is not None or env or Path(cwd) != ROOT:
            raise ValueError("in_process runs take no stdin, env or cwd: run a child process for those")
        from trainer.cli import main

        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = main(argv)
        return subprocess.CompletedProcess([sys.executable, "-m", "trainer", *argv], code, out.getvalue(),
                                           err.getvalue())  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "trainer", *argv],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )
