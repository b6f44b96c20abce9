"""Numbered schema migrations, applied in order and recorded in ``_migrations``.

Each migration is a function ``(db: sqlite_utils.Database) -> None`` run inside the
writer's transaction.  Append new migrations to ``MIGRATIONS``; never edit or reorder
an applied one.  A database whose ``_migrations`` holds an id above ``len(MIGRATIONS)``
was written by a newer NAS Studio and is refused.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlite_utils import Database

Migration = Callable[[Database], None]


def _m001_tables(db: Database) -> None:
    """The initial tables (contract: docs/CONTRACTS.md, engine/store)."""
    db["designs"].create({"hash": str, "kind": str, "name": str, "json": str, "created": str},
                         pk="hash", not_null={"kind", "json"})
    db["experiments"].create(
        {"id": int, "kind": str, "name": str, "config": str, "status": str, "seed": int,
         "created": str, "finished": str, "environment": str, "pid": int, "host": str},
        pk="id", not_null={"kind", "status"})
    db["runs"].create(
        {"id": int, "experiment_id": int, "design_hash": str, "parent_id": int, "kind": str,
         "status": str, "recipe": str, "params": int, "macs": int, "latency_ms": float,
         "size_bytes": int, "best_val_accuracy": float, "test_accuracy": float,
         "epochs_done": int, "checkpoint": str, "error": str, "created": str, "finished": str,
         "config": str, "pid": int, "host": str},
        pk="id", not_null={"kind", "status"})
    db["epochs"].create(
        {"run_id": int, "epoch": int, "train_loss": float, "train_accuracy": float,
         "val_loss": float, "val_accuracy": float, "lr": float, "seconds": float},
        pk=("run_id", "epoch"))
    db["artifacts"].create(
        {"id": int, "run_id": int, "kind": str, "path": str, "sha256": str, "bytes": int,
         "verified": int, "details": str, "created": str},
        pk="id", not_null={"kind", "path"})
    db["trials"].create(
        {"id": int, "experiment_id": int, "trial": int, "run_id": int, "status": str,
         "arch": str, "metrics": str, "error": str, "created": str},
        pk="id", not_null={"experiment_id", "trial", "status"})
    db["search_state"].create({"experiment_id": int, "state": str, "updated": str},
                              pk="experiment_id")


def _m002_indexes(db: Database) -> None:
    """Indexes for the browser's filters and for cascading deletes."""
    db["runs"].create_index(["experiment_id"])
    db["runs"].create_index(["status"])
    db["runs"].create_index(["parent_id"])
    db["trials"].create_index(["experiment_id", "trial"], unique=True)
    db["artifacts"].create_index(["run_id"])
    db["experiments"].create_index(["status"])


MIGRATIONS: list[tuple[str, Migration]] = [
    ("initial tables", _m001_tables),
    ("indexes", _m002_indexes),
]
