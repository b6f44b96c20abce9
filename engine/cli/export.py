"""``nas-studio export``: write a trained run as ONNX, TorchScript or a bundle."""

from __future__ import annotations

import argparse
import json
from typing import Any

from engine.cli import EXIT_FAILED, CliError
from engine.export.formats import format_names


def add_parser(sub: Any) -> None:
    p = sub.add_parser("export", help="export a trained run (ONNX, TorchScript, bundle)",
                       description="Export a run's best weights. ONNX is checked in onnxruntime "
                       "and TorchScript by reloading; a bundle (folder, or .zip) holds the "
                       "design JSON, safetensors weights and metadata. Each export is "
                       "recorded as an artifact in the store.")
    p.add_argument("run_id", type=int, metavar="RUN_ID")
    p.add_argument("--format", choices=format_names(), required=True)
    p.add_argument("-o", "--output", required=True, metavar="PATH")
    p.add_argument("--force", action="store_true",
                   help="replace an existing output file or bundle (never the store or a "
                   "checkpoint)")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    p.add_argument("--json", action="store_true", help="print the export record as JSON")
    p.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS,
                   help="experiment database (default: the user data directory)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine.compress.runs import RunLoadError, load_run
    from engine.export import ExportError, check_output, export_run
    from engine.store import StoreError, open_store
    from engine.train import CheckpointError

    options = {"opset": args.opset} if args.format == "onnx" else {}
    store = open_store(args)
    try:
        try:  # the run, its checkpoint and weights: bad input, exit 2
            loaded = load_run(store, args.run_id)
            check_output(args.output, args.format, store=store, force=args.force)
        except (StoreError, CheckpointError, ExportError, RunLoadError) as exc:
            raise CliError(str(exc)) from exc
        try:  # the export itself (unsupported op...): the job failed, exit 1
            details = export_run(store, args.run_id, args.format, args.output, loaded,
                                 force=args.force, **options)
        except ExportError as exc:
            raise CliError(str(exc), code=EXIT_FAILED) from exc
    finally:
        store.close()
    if args.json:
        print(json.dumps(details))
    else:
        check = (f"verified, max |diff| {details['max_abs_diff']:.2e}" if details["verified"]
                 else f"NOT verified: max |diff| {details['max_abs_diff']:.2e}")
        print(f"run {args.run_id} -> {details['path']} ({args.format}, {details['bytes']:,} "
              f"bytes, sha256 {details['sha256'][:12]}, {check})")
    return 0 if details["verified"] else EXIT_FAILED
