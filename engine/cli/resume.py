"""``nas-studio resume``: continue an interrupted training run, or a killed search."""

from __future__ import annotations

import argparse
from typing import Any

from engine.cli import CliError


def add_parser(sub: Any) -> None:
    p = sub.add_parser("resume", help="continue an interrupted training run",
                       description="Continue a killed, interrupted or cancelled training run "
                       "from its last checkpoint; the result equals an uninterrupted run.")
    p.add_argument("run_id", type=int, metavar="RUN_ID", nargs="?")
    p.add_argument("--experiment", type=int, metavar="EXPERIMENT_ID",
                   help="resume a search experiment instead (same as "
                   "`nas-studio search --resume EXPERIMENT_ID`)")
    p.add_argument("--json", action="store_true", help="print the final metrics as JSON")
    p.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS,
                   help="experiment database (default: the user data directory)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine.cli.train import ProgressPrinter, report
    from engine.data import DatasetError
    from engine.store import StoreError, open_store
    from engine.train import CheckpointError, ResumeError, resume_job

    if args.experiment is not None:
        from engine.cli import search

        search_args = search.parse_resume_args(args.experiment, as_json=args.json,
                                               db=getattr(args, "db", None))
        return search.run(search_args)
    if args.run_id is None:
        raise CliError("give a RUN_ID, or --experiment EXPERIMENT_ID for a search")
    store = open_store(args)
    try:
        try:
            job = resume_job(store, args.run_id)
        except (ResumeError, CheckpointError, DatasetError, StoreError) as exc:
            raise CliError(str(exc)) from exc
        return report(job, ProgressPrinter(), args.json)
    finally:
        store.close()
