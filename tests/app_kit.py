"""The one way the tests open the app in Streamlit's AppTest (no browser).

at = open_app(tmp_path / "runs", monkeypatch)          # app.py over that runs folder, run once
at = open_app(runs, monkeypatch, lang="zh")            # ... with ?lang=zh
at = open_app(timeout=60)                              # the environment a fixture already set
at = open_app(timeout=60, run=False)                   # built, not run yet
at = open_app(script=draw, args=(run_dir,))            # one function as the whole script
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest
    from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"


def open_app(
    runs_dir: str | Path | None = None,
    monkeypatch: pytest.MonkeyPatch | None = None,
    *,
    script: Callable | None = None,
    args: Sequence = (),
    timeout: float = 120,
    lang: str | None = None,
    run: bool = True,
) -> AppTest:
    """An AppTest of app.py (or of `script`, a function, called with `args`), run once unless `run=False`.

    With `monkeypatch`, the test works from the repository root, and with `runs_dir` too the app reads its
    runs there (INSIGHT_RUNS_DIR); without them, whatever the test or a fixture already set holds. `lang`
    opens it with `?lang=`; `timeout` bounds each script run."""
    from streamlit.testing.v1 import AppTest

    if runs_dir is not None:
        if monkeypatch is None:
            raise ValueError("runs_dir is set for the test through monkeypatch: pass both")
        monkeypatch.setenv("INSIGHT_RUNS_DIR", str(runs_dir))
    if monkeypatch is not None:
        monkeypatch.chdir(ROOT)
    if script is not None:
        at = AppTest.from_function(script, args=tuple(args), default_timeout=timeout)
    else:
        at = AppTest.from_file(str(APP), default_timeout=timeout)
    if lang:
        at.query_params["lang"] = lang
    return at.run() if run else at
