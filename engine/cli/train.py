"""``nas-studio train``: train a design on a dataset, record it in the store."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from engine.cli import EXIT_FAILED, EXIT_INTERRUPTED, CliError
from engine.events import EpochFinished, Event, JobCancelled, JobFailed, LogMessage, Progress

BAR = 24
RESULT_KEYS = ("run_id", "test_accuracy", "val_accuracy", "params", "macs", "epochs", "seconds")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("train", help="train a design and record the run",
                       description="Train a design (preset name, design file, Genotype(...) or "
                       "NAS-Bench-201 string) on a dataset; every epoch is written to the "
                       "experiment store and checkpointed, so `nas-studio resume` can continue.")
    p.add_argument("source", metavar="SOURCE", help="preset, design file or architecture string")
    p.add_argument("--layers", type=int, help="cells in the network (cell designs)")
    p.add_argument("--channels", type=int, help="initial channels C (cell designs)")
    p.add_argument("--auxiliary", action="store_true", default=None,
                   help="add the auxiliary head (cell designs)")
    p.add_argument("--input", metavar="CxHxW",
                   help="input shape; H resizes the dataset, C must match it")
    p.add_argument("--classes", type=int, help="classes (must match the dataset)")
    p.add_argument("--dataset", default="digits",
                   help="digits (built in), cifar10, cifar100, mnist, fashion-mnist or a "
                   "folder of class subfolders (default: digits)")
    p.add_argument("--data-root", metavar="DIR", help="folder holding torchvision datasets")
    p.add_argument("--download", action="store_true", help="download the dataset if missing")
    p.add_argument("--skip-bad-images", action="store_true",
                   help="image folders: leave out unreadable or empty image files (listed) "
                   "instead of refusing the dataset")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=None,
                   help="learning rate (default 0.05 for sgd, 0.002 for adamw)")
    p.add_argument("--optimizer", choices=("sgd", "adamw"), default="sgd")
    p.add_argument("--weight-decay", type=float, default=3e-4)
    p.add_argument("--schedule", choices=("cosine", "step", "constant"), default="cosine")
    p.add_argument("--warmup", type=float, default=0.0, metavar="EPOCHS")
    p.add_argument("--label-smoothing", type=float, default=0.0)
    p.add_argument("--cutout", type=int, default=0, metavar="PIXELS")
    p.add_argument("--subset", type=int, help="train on this many training images")
    p.add_argument("--time-budget", type=float, metavar="SECONDS",
                   help="stop after the epoch that passes this much training time")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--patience", type=int, help="early stopping: epochs without improvement")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default auto)")
    p.add_argument("--name", help="experiment name")
    p.add_argument("--json", action="store_true", help="print the final metrics as JSON")
    p.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS,
                   help="experiment database (default: the user data directory)")
    p.set_defaults(func=run)


class ProgressPrinter:
    """One self-updating progress line per epoch on ``out`` (stderr)."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stderr
        self.failed: JobFailed | None = None
        self.cancelled = False
        self.tty = bool(getattr(self.out, "isatty", lambda: False)())

    def __call__(self, event: Event) -> None:
        if isinstance(event, Progress) and self.tty and event.total:
            frac = event.done - int(event.done)
            filled = int(frac * BAR)
            self.out.write(f"\r{event.message} [{'#' * filled}{'.' * (BAR - filled)}] "
                           f"{100 * frac:3.0f}%")
            self.out.flush()
        elif isinstance(event, EpochFinished):
            width = len(str(event.epochs))
            self.out.write(f"\repoch {event.epoch:>{width}}/{event.epochs} [{'#' * BAR}] "
                           f"loss {event.train_loss:.4f} acc {100 * event.train_accuracy:5.1f}% "
                           f"| val loss {event.val_loss:.4f} acc {100 * event.val_accuracy:5.1f}%"
                           f" | lr {event.lr:.3g} | {event.seconds:.1f}s\n")
            self.out.flush()
        elif isinstance(event, LogMessage):
            self.out.write(f"{event.message}\n")
        elif isinstance(event, JobFailed):
            self.failed = event
        elif isinstance(event, JobCancelled):
            self.cancelled = True


def report(job: Any, printer: ProgressPrinter, as_json: bool) -> int:
    """Run ``job`` with ``printer`` and print its result; the exit code."""
    try:
        result = job.run(printer)
    except KeyboardInterrupt:
        print(f"\nnas-studio: run {job.run_id} interrupted; continue it with "
              f"`nas-studio resume {job.run_id}`", file=sys.stderr)
        return EXIT_INTERRUPTED
    if result is None:
        if printer.cancelled:
            print(f"nas-studio: run {job.run_id} cancelled", file=sys.stderr)
            return EXIT_INTERRUPTED
        error = printer.failed.error if printer.failed else "unknown error"
        if printer.failed is not None:
            _raise_user_error(printer.failed)
        print(f"nas-studio: error: training failed: {error}", file=sys.stderr)
        return EXIT_FAILED
    result["seconds"] = round(float(result["seconds"]), 3)
    if as_json:
        out = {k: result.get(k) for k in RESULT_KEYS}
        out.update(status="finished", stop_reason=result.get("stop_reason"),
                   best_epoch=result.get("best_epoch"), checkpoint=result.get("checkpoint"),
                   experiment_id=result.get("experiment_id"))
        print(json.dumps(out))
    else:
        macs = "-" if result.get("macs") is None else f"{result['macs']:,}"
        print(f"run {result['run_id']}: test accuracy {100 * result['test_accuracy']:.2f}% "
              f"(best val {100 * result['val_accuracy']:.2f}% at epoch {result['best_epoch']}), "
              f"{result['params']:,} params, {macs} MACs, {result['epochs']} epochs, "
              f"{result['seconds']:.1f}s ({result['stop_reason']})")
    return 0


_USER_ERRORS = ("DatasetError", "CheckpointError", "ResumeError", "DesignError")


def _raise_user_error(failed: JobFailed) -> None:
    """Bad input discovered inside the job (dataset, checkpoint): exit 2, not 1."""
    kind, _, message = failed.error.partition(": ")
    if kind in _USER_ERRORS:
        raise CliError(message)


def run(args: argparse.Namespace) -> int:
    from engine.arch.sources import parse_input_shape, resolve_source
    from engine.arch.validate import DesignError
    from engine.data import DatasetError, load_dataset, skipped_note
    from engine.store import open_store
    from engine.train import TrainConfig, TrainJob

    for flag, value in (("--classes", args.classes), ("--layers", args.layers),
                        ("--channels", args.channels)):
        if value is not None and value < 1:  # before the design file gets the blame
            raise CliError(f"{flag} must be a positive whole number, got {value}")
    try:
        shape = None if args.input is None else parse_input_shape(args.input)
        design = resolve_source(args.source, layers=args.layers, channels=args.channels,
                                auxiliary=args.auxiliary)
    except DesignError as exc:
        raise CliError(str(exc)) from exc
    from engine.store import StoreError, check_name

    try:  # before any data is loaded: the store would refuse these names
        check_name(design.name, "design name")
        check_name(args.name, "--name (the experiment name)")
    except StoreError as exc:
        raise CliError(str(exc)) from exc
    try:
        splits = load_dataset(args.dataset, root=args.data_root, download=args.download,
                              seed=args.seed, image_size=shape[1] if shape else None,
                              skip_bad_images=args.skip_bad_images)
    except DatasetError as exc:
        raise CliError(str(exc)) from exc
    note = skipped_note(splits)
    if note:
        print(f"note: {note}", file=sys.stderr)
    if shape is not None and shape[0] != splits.input_shape[0]:
        raise CliError(f"--input {args.input}: {splits.name} images have "
                       f"{splits.input_shape[0]} channel(s), not {shape[0]}")
    if args.classes is not None and args.classes != splits.classes:
        raise CliError(f"--classes {args.classes}: {splits.name} has {splits.classes} classes")
    lr = args.lr if args.lr is not None else (0.002 if args.optimizer == "adamw" else 0.05)
    try:
        from engine.train.job import pick_device

        pick_device(args.device)
        config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=lr,
                             optimizer=args.optimizer, weight_decay=args.weight_decay,
                             schedule=args.schedule, warmup_epochs=args.warmup,
                             label_smoothing=args.label_smoothing, cutout=args.cutout,
                             subset=args.subset, time_budget_s=args.time_budget, seed=args.seed,
                             patience=args.patience, device=args.device)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    store = open_store(args)
    try:
        job = TrainJob(design, splits, config, store, name=args.name)
        return report(job, ProgressPrinter(), args.json)
    finally:
        store.close()
