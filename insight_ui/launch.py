"""`python -m insight_ui.launch [--address A] [--port P]`: start the app, refusing to listen beyond this
machine while no sign-in is set up (what `make app` runs). With INSIGHT_REQUIRE_SIGN_IN=1 (behind a reverse
proxy, where 127.0.0.1 serves the network) it refuses to start at all without sign-in.

Streamlit opens its port before it runs a line of app.py, so the refusal is made here, before the
server starts; app.py refuses too (auth.gate) when Streamlit is started some other way.
"""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def sign_in_configured(runs_dir: Path) -> bool:
    """An [auth] section in a secrets.toml Streamlit reads, or local accounts set up (even if their file is
    damaged now: the app then refuses everyone), or INSIGHT_SIGN_IN forcing one."""
    forced = os.environ.get("INSIGHT_SIGN_IN", "auto").strip().lower()
    if forced in ("oidc", "local"):
        return True
    if forced == "none":
        return False
    for secrets in (Path.home() / ".streamlit" / "secrets.toml", ROOT / ".streamlit" / "secrets.toml"):
        try:
            if "auth" in tomllib.loads(secrets.read_text(encoding="utf-8")):
                return True
        except (OSError, tomllib.TOMLDecodeError):
            continue
    from trainer.access.users import set_up

    return set_up(runs_dir)


def main(argv: list[str] | None = None) -> int:
    from insight_ui.auth import LOCAL_ADDRESSES, REFUSAL, REQUIRED
    from trainer import i18n
    from trainer.access.people import sign_in_required
    from trainer.i18n import tr

    default_lang = i18n.normalize(os.environ.get("INSIGHT_LANG")) or i18n.DEFAULT  # as python -m trainer
    asked = argparse.ArgumentParser(add_help=False)  # the language first, so the help below speaks it
    asked.add_argument("--lang", default=default_lang)
    i18n.set_language(asked.parse_known_args(argv)[0].lang)
    parser = argparse.ArgumentParser(prog="python -m insight_ui.launch", description=__doc__)
    parser.add_argument(
        "--address", default="127.0.0.1", help=tr("the interface to listen on (default: this machine only)")
    )
    parser.add_argument("--port", default="8501")
    parser.add_argument(
        "--lang",
        choices=sorted(i18n.LANGUAGES),
        default=default_lang,
        help=tr("the language of these messages: en (English) or zh (简体中文); default $INSIGHT_LANG or en"),
    )
    args, rest = parser.parse_known_args(argv)
    runs_dir = Path(os.environ.get("INSIGHT_RUNS_DIR") or "runs")  # as the app reads it (make app runs here)
    configured = sign_in_configured(runs_dir)
    if not configured and (sign_in_required() or args.address not in LOCAL_ADDRESSES):
        if sign_in_required():
            refusal = tr(REQUIRED)
        else:
            refusal = tr(REFUSAL, address=args.address or tr("every network interface"))
        print(tr("error: {message}", message=refusal), file=sys.stderr)
        return 2
    local = args.address in LOCAL_ADDRESSES
    url = f"http://{'localhost' if local else args.address}:{args.port}"
    if local:
        said = tr(
            "Insight on {url} (this machine only). To open it to your team, set up sign-in "
            "(README: Sharing Insight with a team) and run make app ADDRESS=0.0.0.0.",
            url=url,
        )
    else:
        said = tr(
            "Insight on {url} ({address}, with sign-in). To open it to your team, set up sign-in "
            "(README: Sharing Insight with a team) and run make app ADDRESS=0.0.0.0.",
            url=url,
            address=args.address,
        )
    print(said, flush=True)
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.address", args.address,
               "--server.port", str(args.port), "--browser.gatherUsageStats", "false", *rest]  # fmt: skip
    os.execv(sys.executable, command)
    return 0  # not reached


if __name__ == "__main__":
    raise SystemExit(main())
