"""``nas-studio compress RUN_ID``: prune, fine-tune and/or quantize a stored run.

Each step becomes a new run whose parent is the run it came from (see
``engine.compress.job``).  ``--json`` prints the final run's figures and its parent's.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from engine.cli import EXIT_FAILED, EXIT_INTERRUPTED, CliError
from engine.events import EpochFinished, Event, JobCancelled, JobFailed, LogMessage

FIGURE_KEYS = ("params", "macs", "size_bytes", "latency_ms", "test_accuracy")


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "compress", help="prune / fine-tune / quantize a trained run",
        description="Compress a stored run. Each step (pruning, quantization) is recorded as "
        "a new run whose parent is the run it came from, with size, latency (onnxruntime, "
        "CPU, median) and test accuracy measured before and after.")
    p.add_argument("run_id", type=int, metavar="RUN_ID", help="the run to compress")
    p.add_argument("--prune", type=float, metavar="RATIO",
                   help="channel ratio to remove (structured) or weight sparsity (unstructured)")
    p.add_argument("--prune-kind", choices=("structured", "unstructured"), default="structured")
    p.add_argument("--criterion", choices=("magnitude", "bn", "taylor"), default="magnitude",
                   help="channel importance for structured pruning")
    p.add_argument("--steps", type=int, default=1, help="iterative pruning steps")
    p.add_argument("--scope", choices=("global", "layer"), default="global",
                   help="unstructured: rank weights globally or per layer")
    p.add_argument("--round-to", type=int, metavar="N",
                   help="structured: keep channel counts multiples of N")
    p.add_argument("--quantize", choices=("int8", "int8-dynamic", "qat"),
                   help="int8: static post-training (calibrated); int8-dynamic: linear layers")
    p.add_argument("--quant-format", choices=("qdq", "qoperator"), default="qdq",
                   help="ONNX layout of the static int8 model")
    p.add_argument("--calibration-batches", type=int, default=8, metavar="N")
    p.add_argument("--finetune-epochs", type=int, default=0, metavar="N",
                   help="fine-tune after pruning (early stopping on validation)")
    p.add_argument("--finetune-lr", type=float, default=0.01, metavar="LR")
    p.add_argument("--patience", type=int, default=3, metavar="N",
                   help="stop fine-tuning after N epochs without validation gain (0: never)")
    p.add_argument("--distill", action="store_true",
                   help="fine-tune with knowledge distillation from the parent")
    p.add_argument("--temperature", type=float, default=4.0)
    p.add_argument("--threads", type=int, default=1, help="CPU threads for latency")
    p.add_argument("--device", default="auto", help="fine-tuning device (auto, cpu, cuda, mps)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS,
                   help="experiment database (default: the user data directory)")
    p.set_defaults(func=run)


class _Printer:
    """Prints log lines and epochs to stderr; remembers failure/cancellation."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stderr
        self.failed: JobFailed | None = None
        self.cancelled = False

    def __call__(self, event: Event) -> None:
        if isinstance(event, LogMessage):
            self.out.write(f"{event.message}\n")
        elif isinstance(event, EpochFinished):
            self.out.write(f"fine-tune epoch {event.epoch}/{event.epochs}: val accuracy "
                           f"{100 * event.val_accuracy:.2f}%\n")
        elif isinstance(event, JobFailed):
            self.failed = event
        elif isinstance(event, JobCancelled):
            self.cancelled = True


def _options(args: argparse.Namespace) -> Any:
    from engine.compress import CompressError, CompressOptions

    try:
        return CompressOptions(
            prune=args.prune, prune_kind=args.prune_kind, criterion=args.criterion,
            steps=args.steps, scope=args.scope, round_to=args.round_to,
            quantize=args.quantize, quant_format=args.quant_format,
            calibration_batches=args.calibration_batches,
            finetune_epochs=args.finetune_epochs, finetune_lr=args.finetune_lr,
            patience=args.patience or None, distill=args.distill, temperature=args.temperature,
            latency_threads=args.threads, device=args.device, seed=args.seed)
    except CompressError as exc:
        raise CliError(str(exc)) from exc


def _format(result: dict[str, Any]) -> str:
    def fig(f: dict[str, Any]) -> str:
        acc = f.get("test_accuracy")
        return (f"{f.get('params') or 0:,} params, {f.get('macs') or 0:,} MACs, "
                f"{f.get('size_bytes') or 0:,} B, {f.get('latency_ms') or 0:.3f} ms, "
                f"test {'-' if acc is None else f'{100 * acc:.2f}%'}")

    lines = [f"run {s['run_id']} ({s['method']}, parent {s['parent']}): {fig(s['figures'])}"
             for s in result["steps"]]
    lines.append(f"source run {result['source']}: {fig(result['source_figures'])}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from engine.compress import CompressJob
    from engine.store import open_store

    options = _options(args)
    store = open_store(args)
    try:
        from engine.store import StoreError

        try:
            store.get_run(args.run_id)
        except StoreError as exc:
            raise CliError(str(exc)) from exc
        job = CompressJob(store, args.run_id, options)
        printer = _Printer()
        try:
            result = job.run(printer)
        except KeyboardInterrupt:
            print("nas-studio: compression interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        if result is None:
            if printer.cancelled:
                return EXIT_INTERRUPTED
            failed = printer.failed
            kind, _, message = (failed.error if failed else "unknown error").partition(": ")
            if kind in ("CompressError", "DatasetError", "CheckpointError"):
                raise CliError(message)
            print(f"nas-studio: error: compression failed: {failed.error if failed else ''}",
                  file=sys.stderr)
            return EXIT_FAILED
        if args.json:
            out = {"run_id": result["run_id"], "parent": result["parent"],
                   **{k: result.get(k) for k in FIGURE_KEYS},
                   "parent_figures": {k: result["parent_figures"].get(k)
                                      for k in FIGURE_KEYS},
                   "source": result["source"],
                   "steps": [{"run_id": s["run_id"], "parent": s["parent"],
                              "method": s["method"]} for s in result["steps"]]}
            print(json.dumps(out))
        else:
            print(_format(result))
        return 0
    finally:
        store.close()
