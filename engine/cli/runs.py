"""``nas-studio runs``: list the runs in the experiment store."""

from __future__ import annotations

import argparse
import json
from typing import Any

from engine.store import (
    STATUSES,
    Store,
    StoreError,
    StoreMissing,
    add_db_argument,
    open_store,
)

# JSON keys, in order; ``parent`` is the parent run id (lineage).
JSON_KEYS = ("id", "experiment_id", "experiment", "kind", "status", "parent", "design_hash",
             "design_name", "design_kind", "params", "macs", "latency_ms", "size_bytes",
             "best_val_accuracy", "test_accuracy", "epochs_done", "checkpoint", "error",
             "created", "finished")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("runs", help="list the runs in the experiment store",
                       description="List runs: id, experiment, kind, status, parent run, "
                       "design, params, MACs, best validation and test accuracy, created.")
    p.add_argument("--json", action="store_true", help="print a JSON list of run objects")
    p.add_argument("--experiment", type=int, metavar="ID", help="only runs of this experiment")
    p.add_argument("--status", choices=STATUSES, help="only runs with this status")
    p.add_argument("--kind", help="only runs of this kind (train, search, compress, ...)")
    add_db_argument(p)
    p.set_defaults(func=run)


def _record(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row, experiment=row.get("experiment_name"), parent=row.get("parent_id"))
    return {k: out.get(k) for k in JSON_KEYS}


def _si(value: float | None) -> str:
    if value is None:
        return "-"
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= div:
            return f"{value / div:.2f}{suffix}"
    return str(int(value))


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}%"


def _table(records: list[dict[str, Any]]) -> str:
    head = ("id", "experiment", "kind", "status", "parent", "design", "params", "macs",
            "val acc", "test acc", "created")
    rows = [head] + [(
        str(r["id"]), r["experiment"] or "-", r["kind"], r["status"],
        "-" if r["parent"] is None else str(r["parent"]), r["design_name"] or "-",
        _si(r["params"]), _si(r["macs"]), _pct(r["best_val_accuracy"]),
        _pct(r["test_accuracy"]), (r["created"] or "")[:19].replace("T", " "),
    ) for r in records]
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
                     .rstrip() for row in rows)


def _best_epochs(store: Any) -> dict[int, float]:
    rows = store.query("SELECT run_id, MAX(val_accuracy) AS v FROM epochs "
                       "WHERE val_accuracy IS NOT NULL GROUP BY run_id")
    return {int(r["run_id"]): float(r["v"]) for r in rows}


def _records(store: Any, args: argparse.Namespace) -> list[dict[str, Any]]:
    """The listed runs: orphaned "running" runs shown as interrupted, and a run that
    did not finish shows its best recorded epoch (its row may predate that epoch)."""
    orphans = set(store.orphaned_run_ids())
    best = _best_epochs(store)
    records = []
    for row in store.runs_with_designs(args.experiment, kind=args.kind):
        rec = _record(row.to_dict())
        if rec["id"] in orphans:
            rec["status"] = "interrupted"
        epoch_best = best.get(rec["id"])
        if rec["status"] != "finished" and epoch_best is not None and (
                rec["best_val_accuracy"] is None or epoch_best > rec["best_val_accuracy"]):
            rec["best_val_accuracy"] = epoch_best
        if args.status is None or rec["status"] == args.status:
            records.append(rec)
    return records


def run(args: argparse.Namespace) -> int:
    from engine.cli import CliError

    # a read command: a store named by --db is opened read-only and never created; the
    # default store in the user data directory is created on first use by any command
    default = getattr(args, "db", None) is None
    try:
        store = open_store(args, read_only=not default or Store.default_path().exists())
    except CliError as exc:
        missing = exc.__cause__
        if not (isinstance(missing, StoreMissing) and missing.path.parent.is_dir()):
            raise
        records: list[dict[str, Any]] = []  # no database yet in an existing folder
    else:
        try:
            if args.experiment is not None:
                try:
                    store.get_experiment(args.experiment)
                except StoreError as exc:
                    raise CliError(str(exc)) from exc
            records = _records(store, args)
        finally:
            store.close()
    if args.json:
        print(json.dumps(records, indent=2))
    elif not records:
        print("no runs yet" if args.experiment is None else
              f"no runs in experiment {args.experiment}")
    else:
        print(_table(records))
    return 0
