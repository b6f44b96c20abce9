"""Where trials run.  Strategies never see this: the search loop hands an executor
``TrialTask``s and reads ``TrialResult``s from futures, so a distributed engine only
has to implement ``Executor.submit``.

``EXECUTORS`` is the one list of executor names (the CLI's ``--executor`` choices and
the studio's search dialog read it).  Only the in-process executor lets a trial write
to the store; pool and Ray workers never open it: they send back their training run
(``engine.search.remote``) and the search job, the one writer, records it.
"""

from __future__ import annotations

import concurrent.futures as cf
import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from engine.arch.model import Design
from engine.arch.space import Code
from engine.search.evaluators import Evaluator, TrialOutcome, run_trial


class ExecutorError(ValueError):
    """An executor that cannot run here (Ray missing, no cluster at the address...)."""


@dataclass(frozen=True)
class ExecutorKind:
    name: str
    title: str          # what the studio's dialog shows
    description: str    # one line for --help
    extra: str | None = None   # the pip extra it needs


EXECUTORS: dict[str, ExecutorKind] = {k.name: k for k in (
    ExecutorKind("local", "In this process",
                 "trials one after another in this process (a batch of --workers in turn)"),
    ExecutorKind("pool", "Process pool (this machine)",
                 "--workers processes on this machine"),
    ExecutorKind("ray", "Ray cluster",
                 "Ray tasks: a local Ray, or the cluster at --address", extra="cluster"),
)}

RAY_INSTALL = 'pip install "nas-studio[cluster]"'


def executor_names() -> tuple[str, ...]:
    return tuple(EXECUTORS)


def describe_executors() -> dict[str, str]:
    return {k.name: k.description for k in EXECUTORS.values()}


def executor_available(name: str) -> str | None:
    """None when ``name`` can run here, else why not (with how to install it)."""
    if name == "ray":
        import importlib.util

        try:
            missing = importlib.util.find_spec("ray") is None
        except (ImportError, ValueError):   # a broken or blocked installation
            missing = True
        if missing:
            return f"the ray executor needs Ray, which is not installed: {RAY_INSTALL}"
    return None


_ADDRESS = re.compile(r"^(ray://)?\[?[A-Za-z0-9_.:-]+\]?:\d{1,5}$")


@dataclass(frozen=True)
class ExecutorSettings:
    """Where a search's trials run (stored with the experiment's config)."""

    kind: str = "local"
    address: str | None = None        # ray: "auto" or HOST:PORT of a running cluster
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0
    checkpoint_dir: str | None = None  # trials write checkpoints here (shared by all nodes)

    def __post_init__(self) -> None:
        if self.kind not in EXECUTORS:
            raise ExecutorError(f"unknown executor {self.kind!r}; choose one of "
                                f"{', '.join(EXECUTORS)}")
        if self.address is not None:
            if self.kind != "ray":
                raise ExecutorError("--address names a Ray cluster: use it with --executor ray")
            if self.address != "auto" and not _ADDRESS.match(self.address):
                raise ExecutorError(f"--address: expected auto or HOST:PORT, got "
                                    f"{self.address!r}")
        if not self.cpus_per_trial > 0:
            raise ExecutorError(f"--cpus-per-trial must be > 0, got {self.cpus_per_trial:g}")
        if not self.gpus_per_trial >= 0:
            raise ExecutorError(f"--gpus-per-trial must be >= 0, got {self.gpus_per_trial:g}")
        if self.kind != "ray" and (self.cpus_per_trial != 1 or self.gpus_per_trial != 0):
            raise ExecutorError("--cpus-per-trial/--gpus-per-trial are Ray resources: use "
                                "them with --executor ray")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_config(cls, executor: dict[str, Any] | None, workers: int) -> ExecutorSettings:
        """From a search config's ``executor`` entry; none (older experiments) means the
        process pool for more than one worker, else this process."""
        obj = dict(executor or {})
        obj.setdefault("kind", "pool" if workers > 1 else "local")
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in obj.items() if k in names})


@dataclass
class TrialTask:
    """Everything a worker needs to evaluate one candidate (picklable)."""

    evaluator: Evaluator
    design: Design
    code: Code
    trial: int
    seed: int
    budget: float | None = None
    parent_run: int | None = None   # lineage: the run this candidate was mutated from
    experiment_id: int | None = None
    record: bool = False            # the driver has a store: send the training run back
    checkpoint_dir: str | None = None

    def run(self, context: dict[str, Any] | None = None) -> TrialOutcome:
        if context is not None and self.parent_run is not None:
            context = {**context, "parent_id": self.parent_run}
        return run_trial(self.evaluator, self.design, self.code, trial=self.trial,
                         seed=self.seed, budget=self.budget, context=context)

    def checkpoint_path(self) -> Path | None:
        """``checkpoint_dir/experiment-E/trial-T[-budget-B]/last.pt`` (None without a dir)."""
        if not self.checkpoint_dir:
            return None
        name = f"trial-{self.trial}" + ("" if self.budget is None else f"-budget-{self.budget:g}")
        return Path(self.checkpoint_dir) / f"experiment-{self.experiment_id or 0}" / name \
            / "last.pt"


@dataclass
class TrialResult:
    """A worker's answer: the outcome, the training run to record (remote workers) and
    where it ran (``{"host", "pid", "node"}``; None in the driver's own process)."""

    outcome: TrialOutcome
    run: Any = None                       # engine.search.remote.RunReport
    worker: dict[str, Any] | None = None


class Executor:
    """Interface: ``submit(task, context) -> Future[TrialResult]``; ``shutdown()``.

    ``context`` is the driver's (store, experiment id, cancel token); only an executor
    running trials in the driver's process may use it."""

    name = "local"
    workers = 1

    def submit(self, task: TrialTask, context: dict[str, Any] | None = None
               ) -> cf.Future[TrialResult]:
        raise NotImplementedError

    def shutdown(self) -> None:
        pass

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


class InProcessExecutor(Executor):
    """Runs each task at submit time in this process; ``context`` (the store, the
    experiment id, the cancel token) lets the evaluator record its training run."""

    def __init__(self, workers: int = 1) -> None:
        self.workers = max(1, workers)

    def submit(self, task: TrialTask, context: dict[str, Any] | None = None
               ) -> cf.Future[TrialResult]:
        future: cf.Future[TrialResult] = cf.Future()
        if context is not None and task.checkpoint_dir:
            context = {**context, "checkpoint_path": task.checkpoint_path()}
        try:
            future.set_result(TrialResult(task.run(context)))
        except BaseException as exc:  # noqa: BLE001 - cancellation travels through the future
            future.set_exception(exc)
        return future


def make_executor(settings: ExecutorSettings | None = None, workers: int = 1) -> Executor:
    """The executor ``settings`` name (``ExecutorError`` when it cannot run here)."""
    settings = settings or ExecutorSettings("pool" if workers > 1 else "local")
    if (why := executor_available(settings.kind)) is not None:
        raise ExecutorError(why)
    if settings.kind == "ray":
        from engine.search.ray_executor import RayExecutor

        return RayExecutor(workers, settings)
    if settings.kind == "pool":
        from engine.search.pool import ProcessPoolExecutor

        return ProcessPoolExecutor(workers)
    return InProcessExecutor(workers)
