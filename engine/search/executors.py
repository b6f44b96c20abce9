"""Where trials run.  Strategies never see this: the search loop hands an executor
``TrialTask``s and reads ``TrialOutcome``s from futures, so a distributed engine only
has to implement ``Executor.submit``.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
from dataclasses import dataclass
from typing import Any

from engine.arch.model import Design
from engine.arch.space import Code
from engine.search.evaluators import Evaluator, TrialOutcome, run_trial


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

    def run(self, context: dict[str, Any] | None = None) -> TrialOutcome:
        if context is not None and self.parent_run is not None:
            context = {**context, "parent_id": self.parent_run}
        return run_trial(self.evaluator, self.design, self.code, trial=self.trial,
                         seed=self.seed, budget=self.budget, context=context)


def _run_task(task: TrialTask) -> TrialOutcome:
    return task.run(None)


class Executor:
    """Interface: ``submit(task) -> Future[TrialOutcome]``; ``shutdown()``."""

    workers = 1

    def submit(self, task: TrialTask) -> cf.Future[TrialOutcome]:
        raise NotImplementedError

    def shutdown(self) -> None:
        pass

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


class InProcessExecutor(Executor):
    """Runs each task at submit time in this process; ``context`` (the store, the
    experiment id) lets the evaluator record its training run."""

    def __init__(self, context: dict[str, Any] | None = None) -> None:
        self.context = context

    def submit(self, task: TrialTask) -> cf.Future[TrialOutcome]:
        future: cf.Future[TrialOutcome] = cf.Future()
        try:
            future.set_result(task.run(self.context))
        except BaseException as exc:  # noqa: BLE001 - cancellation travels through the future
            future.set_exception(exc)
        return future


class ProcessPoolExecutor(Executor):
    """A local pool of ``workers`` processes (spawn: safe with torch and threads)."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1 (got {workers})")
        self.workers = workers
        self._pool = cf.ProcessPoolExecutor(max_workers=workers,
                                            mp_context=multiprocessing.get_context("spawn"))

    def submit(self, task: TrialTask) -> cf.Future[TrialOutcome]:
        return self._pool.submit(_run_task, task)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def make_executor(workers: int, context: dict[str, Any] | None = None) -> Executor:
    return InProcessExecutor(context) if workers <= 1 else ProcessPoolExecutor(workers)
