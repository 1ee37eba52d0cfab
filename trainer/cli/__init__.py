"""Command line: `python -m trainer check | fit | cancel | runs | clean | predict | score | monitor | compare | issues |
slices | robustness | propose | curve | explain | compress |
serve | tokens | users | audit`.

One module per command, each with `add_parser(sub)` (its arguments) and `run(args)`, as
`git`-style tools do (it sets `handler`). Bad input exits 2 with one `error:` line; a failed job exits 1.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from trainer import i18n
from trainer.cli import (
    audit,
    cancel,
    check,
    clean,
    compare,
    compress,
    curve,
    explain,
    fit,
    issues,
    monitor,
    predict,
    propose,
    robustness,
    runs,
    score,
    serve,
    slices,
    tokens,
    users,
)
from trainer.cli.common import EXIT_FAILED, EXIT_USAGE, CliError
from trainer.i18n import tr

COMMANDS = (
    check,
    fit,
    predict,
    cancel,
    runs,
    clean,
    score,
    monitor,
    compare,
    issues,
    slices,
    robustness,
    propose,
    curve,
    explain,
    compress,
    serve,
    tokens,
    users,
    audit,
)  # help order


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse prints usage + exits 2; keep it to one line
        raise CliError(f"{message} (see `{self.prog} --help`)")  # prog: "python -m trainer [command]"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m trainer", description=tr("Insight: fine-tune and explain text classifiers.")
    )
    parser.add_argument(
        "--lang",
        choices=sorted(i18n.LANGUAGES),
        default=i18n.DEFAULT,
        help="the language of messages and reports: en (English) or zh (简体中文); default $INSIGHT_LANG or en",
    )
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def _quiet_libraries() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    logging.basicConfig(level=logging.ERROR)
    for name in ("transformers", "huggingface_hub", "accelerate", "peft"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover
        pass


def asked_language(argv: Sequence[str]) -> str:
    """The language `--lang` asks for (before the command), else $INSIGHT_LANG, else English."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return i18n.normalize(argv[i + 1]) or i18n.DEFAULT
        if arg.startswith("--lang="):
            return i18n.normalize(arg.split("=", 1)[1]) or i18n.DEFAULT
        if not arg.startswith("-"):
            break
    return i18n.normalize(os.environ.get("INSIGHT_LANG")) or i18n.DEFAULT


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (0 ok, 1 training failed, 2 bad input). Messages and reports are
    in the language `--lang` asks for, for this call only."""
    argv = list(sys.argv[1:] if argv is None else argv)
    with i18n.speaking(asked_language(argv)):
        return _main(argv)


def _main(argv: list[str]) -> int:
    from trainer.data import DataError
    from trainer.errors import PlainError
    from trainer.model.loading import ModelError

    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:  # no command: the help, as `git` and `pip` do
            parser.print_help()
            return 0
        if args.command not in ("runs", "users", "audit"):
            _quiet_libraries()
        return args.handler(args)
    except (CliError, DataError, ModelError, PlainError, FileNotFoundError, ValueError) as exc:
        print(tr("error: {message}", message=exc), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(tr("error: {message}", message=tr("interrupted")), file=sys.stderr)
        return 130
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except Exception as exc:  # noqa: BLE001 - never a traceback on the terminal
        if os.environ.get("INSIGHT_DEBUG"):
            raise
        print(
            tr(
                "error: unexpected failure ({kind}: {error}). Set INSIGHT_DEBUG=1 to see the traceback.",
                kind=type(exc).__name__,
                error=exc,
            ),
            file=sys.stderr,
        )
        return EXIT_FAILED


if __name__ == "__main__":
    raise SystemExit(main())


def main_exit() -> None:
    """Console-script entry point (`insight ...` once the project is pip-installed)."""
    raise SystemExit(main())
