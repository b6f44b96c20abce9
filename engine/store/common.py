"""Names shared by the store's modules: statuses, columns, errors, value conversion,
and the check that refuses a file that is not a NAS Studio database."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

STATUSES = ("running", "finished", "failed", "cancelled", "interrupted", "rejected")
FINAL_STATUSES = frozenset(STATUSES) - {"running"}
EPOCH_METRICS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds")
RUN_FIELDS = ("experiment_id", "design_hash", "parent_id", "kind", "status", "recipe", "params",
              "macs", "latency_ms", "size_bytes", "best_val_accuracy", "test_accuracy",
              "epochs_done", "checkpoint", "error", "created", "finished", "config")
JSON_COLUMNS = {
    "experiments": ("config", "environment"),
    "runs": ("recipe", "config"),
    "artifacts": ("details",),
    "trials": ("arch", "metrics"),
    "search_state": ("state",),
}
SQLITE_HEADER = b"SQLite format 3\x00"
MAX_NAME = 200       # characters in a design or experiment name
MAX_TEXT = 10_000    # characters of error text kept in a row


class StoreError(Exception):
    """A problem with the experiment database the user can act on."""


def check_name(value: str | None, what: str) -> str | None:
    """``value`` when it is a sensible name, else ``StoreError`` saying the limit."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise StoreError(f"{what} must be text, not {type(value).__name__}")
    if len(value) > MAX_NAME:
        raise StoreError(f"{what} is {len(value):,} characters long; the limit is "
                         f"{MAX_NAME} characters")
    return value


def bounded_text(value: Any) -> Any:
    """Free text (an error message) cut to ``MAX_TEXT`` characters, saying so."""
    if not isinstance(value, str) or len(value) <= MAX_TEXT:
        return value
    return (value[:MAX_TEXT] + f"… [cut: {len(value):,} characters, the limit is "
            f"{MAX_TEXT:,}]")


def now() -> str:
    """The current time as ISO-8601 UTC text (millisecond precision)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def check_file(path: Path) -> None:
    """Refuse, without modifying it, a file that is not a NAS Studio database."""
    if path.is_dir():
        raise StoreError(f"{path} is a directory, not a NAS Studio database")
    if not path.exists() or path.stat().st_size == 0:
        return
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StoreError(f"{path} cannot be read: {exc.strerror or exc}") from exc
    if head != SQLITE_HEADER:
        raise StoreError(f"{path} is not a NAS Studio database (not SQLite): "
                         f"it starts with {head!r}, not the SQLite header")
    from engine.store.opening import connect_read_only

    conn, _uri = connect_read_only(path)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} cannot be read: {exc}") from exc
    finally:
        conn.close()
    if tables and "_migrations" not in tables:
        shown = ", ".join(sorted(tables)[:8])
        raise StoreError(f"{path} is a SQLite database of another application "
                         f"(tables: {shown}), not a NAS Studio database")


def scalar(value: Any) -> Any:
    """Plain Python value for a column (numpy/torch scalars unwrapped, NaN -> NULL)."""
    if value is not None and hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value

_EPOCH_KEYS = frozenset(("run_id", "epoch", *EPOCH_METRICS))


def epoch_values(rows: Iterable[Mapping[str, Any]]) -> list[tuple]:
    """Validated ``(run_id, epoch, *EPOCH_METRICS)`` tuples (the bulk-insert hot path)."""
    values = []
    for row in rows:
        if not _EPOCH_KEYS.issuperset(row):
            unknown = ", ".join(sorted(set(row) - _EPOCH_KEYS))
            raise StoreError(f"epoch {row.get('epoch')} of run {row.get('run_id')}: unknown "
                             f"metric(s) {unknown}; known: {', '.join(EPOCH_METRICS)}")
        try:
            key = (int(row["run_id"]), int(row["epoch"]))
        except KeyError as exc:
            raise StoreError(f"epoch row {len(values)} has no {exc.args[0]!r}") from None
        metrics = [row.get(k) for k in EPOCH_METRICS]
        for i, v in enumerate(metrics):
            if type(v) is not float or v - v != 0:  # not a finite float: None, int, numpy, NaN
                metrics[i] = scalar(v)
        values.append(key + tuple(metrics))
    return values
