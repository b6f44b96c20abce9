"""The ``nas-studio`` command line.

Each subcommand lives in its own module under ``engine.cli`` and exposes
``add_parser(subparsers)`` and ``run(args) -> int``.  With no subcommand the
studio window opens (the GUI is imported only then).

Exit codes: 0 success, 1 the job failed (error on stderr), 2 bad input
(invalid design, unknown run, missing dataset...), 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable

# Subcommand modules, in the order ``--help`` lists them.
SUBCOMMANDS = ("inspect", "space", "train", "runs", "resume", "export", "search", "compress")

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


class CliError(Exception):
    """An error the user caused; printed without a traceback, exit code 2."""

    def __init__(self, message: str, code: int = EXIT_BAD_INPUT) -> None:
        super().__init__(message)
        self.code = code


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as _v

    try:
        return _v("nas-studio")
    except PackageNotFoundError:
        return "0.1.0+checkout"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nas-studio",
        description="NAS Studio: design, train, search, compress and export neural architectures. "
        "With no command, opens the studio window.",
        epilog="Exit codes: 0 ok, 1 job failed, 2 bad input, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"nas-studio {version()}")
    parser.add_argument("--db", help="experiment database (default: the user data directory)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"engine.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"engine.cli.{name}":
                continue  # subcommand not built yet
            raise
        module.add_parser(sub)
    gui = sub.add_parser("gui", help="open the studio window (the default)")
    gui.add_argument("files", nargs="*", help="design files to open")
    gui.set_defaults(func=_no_gui)
    return parser


def _no_gui(args: argparse.Namespace) -> int:
    raise CliError("the studio window is not available here; run `nas-studio --help` for commands")


def main(argv: list[str] | None = None,
         gui: Callable[[argparse.Namespace], int] | None = None) -> int:
    """Run the command line; ``gui`` opens the window (injected by ``app.launcher``)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None or func is _no_gui:
        func = gui or _no_gui
    try:
        return int(func(args) or 0)
    except CliError as exc:
        print(f"nas-studio: error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("nas-studio: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # stdout closed early (e.g. piped into `head`): not an error worth a traceback.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
