"""The SQLite experiment store (see ``engine.store.store`` for the threading model)."""

from __future__ import annotations

import argparse

from engine.store.common import (
    EPOCH_METRICS,
    FINAL_STATUSES,
    MAX_NAME,
    STATUSES,
    StoreError,
    check_name,
)
from engine.store.environment import capture_environment
from engine.store.opening import StoreMissing, StoreReadOnly
from engine.store.store import Store

__all__ = ["EPOCH_METRICS", "FINAL_STATUSES", "MAX_NAME", "STATUSES", "Store", "StoreError",
           "StoreMissing", "StoreReadOnly", "add_db_argument", "capture_environment", "check_name",
           "open_store"]


def add_db_argument(parser: argparse.ArgumentParser) -> None:
    """``--db PATH`` on a subcommand, without clobbering the global ``nas-studio --db``."""
    parser.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS,
                        help="experiment database (default: the user data directory)")


def open_store(args: argparse.Namespace, *, read_only: bool = False) -> Store:
    """The store named by ``args.db`` (default path when unset); a ``StoreError``
    becomes ``engine.cli.CliError`` (exit 2).  Read commands pass ``read_only=True``:
    nothing is created or changed (a missing store is an error)."""
    from engine.cli import CliError

    try:
        return Store(getattr(args, "db", None), read_only=read_only)
    except StoreError as exc:
        raise CliError(str(exc)) from exc
