"""Trials away from the store: what a worker sends back and how the driver records it.

A pool or Ray worker never opens the SQLite store.  It trains with a ``RunCollector``
in the store's place (the training job writes its run, epochs and final figures to it
exactly as it would to the store) and returns a ``TrialResult`` holding that
``RunReport`` and the checkpoint bytes, or the checkpoint's path when the search
names a shared ``--checkpoint-dir``.  ``record_result`` then writes the run, its epochs
and the checkpoint in the driver, the one writer.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.search.evaluators import TrialOutcome
from engine.search.executors import TrialResult, TrialTask

PLACEHOLDER_RUN = -1   # the run id a worker sees; the driver assigns the real one


@dataclass
class RunReport:
    """One training run as a worker saw it: the rows the driver writes."""

    design: Any = None
    kind: str = "train"
    config: Any = None
    recipe: Any = None
    fields: dict[str, Any] = field(default_factory=dict)     # the runs columns set
    epochs: dict[int, dict[str, Any]] = field(default_factory=dict)
    checkpoint_bytes: bytes | None = None


class RunCollector:
    """Stands in for the store inside a worker (the calls ``TrainJob`` makes)."""

    path = None

    def __init__(self) -> None:
        self.report: RunReport | None = None
        self._design: Any = None

    def add_design(self, design: Any) -> str:
        from engine.arch.serialize import design_hash

        self._design = design
        return design_hash(design)

    def create_experiment(self, *args: Any, **kwargs: Any) -> int:
        raise RuntimeError("a trial's training run belongs to the search's experiment")

    def create_run(self, experiment_id: int | None, design_hash: str, kind: str = "train",
                   parent_id: int | None = None, config: Any = None,
                   recipe: Any = None) -> int:
        self.report = RunReport(self._design, kind, config, recipe)
        return PLACEHOLDER_RUN

    def update_run(self, run_id: int, **fields: Any) -> None:
        if self.report is not None:
            self.report.fields.update(fields)

    def add_epoch(self, run_id: int, epoch: int, **metrics: Any) -> None:
        if self.report is not None:
            self.report.epochs[int(epoch)] = {"epoch": int(epoch), **metrics}

    def epochs(self, run_id: int) -> list[dict[str, Any]]:
        return [] if self.report is None else list(self.report.epochs.values())


def worker_info(**extra: Any) -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid(), **extra}


def run_task(task: TrialTask, **where: Any) -> TrialResult:
    """Evaluate ``task`` in a worker process (no store): the worker side of the pool
    and Ray executors.  ``where`` adds to the worker's description (the Ray node)."""
    worker = worker_info(**where)
    if not task.record:
        ctx = {"checkpoint_path": task.checkpoint_path()} if task.checkpoint_dir else None
        return TrialResult(task.run(ctx), None, worker)
    collector = RunCollector()
    scratch = None if task.checkpoint_dir else Path(tempfile.mkdtemp(prefix="nas-trial-"))
    try:
        path = task.checkpoint_path() or scratch / "last.pt"
        outcome = task.run({"store": collector, "experiment_id": task.experiment_id,
                            "checkpoint_path": path})
        report = collector.report
        if report is not None and scratch is not None:   # the bytes travel to the driver
            kept = report.fields.get("checkpoint")
            if kept and Path(kept).is_file():
                report.checkpoint_bytes = Path(kept).read_bytes()
            report.fields.pop("checkpoint", None)
        elif report is not None and not path.is_file():
            report.fields.pop("checkpoint", None)
        return TrialResult(outcome, report, worker)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def record_run(store: Any, report: RunReport, experiment_id: int | None,
               parent_id: int | None, worker: dict[str, Any] | None = None) -> int:
    """Write a worker's training run (run row, epochs, checkpoint); returns its id."""
    design_hash = store.add_design(report.design)
    config = report.config
    if worker and isinstance(config, dict):
        config = {**config, "worker": worker}
    run_id = store.create_run(experiment_id, design_hash, kind=report.kind,
                              parent_id=parent_id, config=config, recipe=report.recipe)
    if report.epochs:
        store.add_epochs([{"run_id": run_id, **row} for _, row in sorted(report.epochs.items())])
    fields = dict(report.fields)
    if report.checkpoint_bytes is not None:
        from engine.train.checkpoint import run_checkpoint_dir, save_checkpoint_bytes

        path = run_checkpoint_dir(run_id, getattr(store, "path", None)) / "last.pt"
        save_checkpoint_bytes(report.checkpoint_bytes, path)
        fields["checkpoint"] = str(path)
    fields.setdefault("status", "finished")
    store.update_run(run_id, **fields)
    return run_id


def record_result(store: Any, task: TrialTask, result: TrialResult) -> TrialOutcome:
    """The outcome of ``result`` with its run recorded (remote workers) and the worker
    that ran it in ``metrics["worker"]``."""
    outcome = result.outcome
    if result.run is not None:
        outcome.run_id = None
        if store is not None:
            outcome.run_id = record_run(store, result.run, task.experiment_id,
                                        task.parent_run, result.worker)
    if result.worker:
        outcome.metrics["worker"] = dict(result.worker)
    return outcome
