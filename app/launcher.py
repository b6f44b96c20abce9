"""Console entry point: the engine's command line, plus the studio window.

Kept free of Qt imports so headless commands never load PySide6.
"""

from __future__ import annotations

import argparse
import sys


def _open_studio(args: argparse.Namespace) -> int:
    from app.main import run_app

    return run_app(list(getattr(args, "files", None) or []), db=getattr(args, "db", None))


def main(argv: list[str] | None = None) -> int:
    from engine.cli import main as cli_main

    return cli_main(argv, gui=_open_studio)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
