"""``nas-studio runs``: list the runs in the experiment store."""

from __future__ import annotations

import argparse
import json
from typing import Any

from engine.store import STATUSES, StoreError, add_db_argument, open_store

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


def run(args: argparse.Namespace) -> int:
    from engine.cli import CliError

    store = open_store(args)
    try:
        store.mark_interrupted()
        if args.experiment is not None:
            try:
                store.get_experiment(args.experiment)
            except StoreError as exc:
                raise CliError(str(exc)) from exc
        rows = store.runs_with_designs(args.experiment, status=args.status, kind=args.kind)
    finally:
        store.close()
    records = [_record(r) for r in rows]
    if args.json:
        print(json.dumps(records, indent=2))
    elif not records:
        print("no runs yet" if args.experiment is None else
              f"no runs in experiment {args.experiment}")
    else:
        print(_table(records))
    return 0
