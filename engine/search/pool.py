"""The local process pool executor, and what it does when a worker process dies.

A worker that dies (killed, out of memory) breaks a ``concurrent.futures`` pool: every
task in flight fails with ``BrokenProcessPool`` and the pool takes no more work.  A
supervisor thread then waits for the broken pool to wind down, starts a new one and
submits those tasks again.  Only the task whose own process died is charged: a task
whose process died twice becomes a failed trial, and the search goes on.
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import multiprocessing
import os
import queue
import shutil
import signal
import tempfile
import threading
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from engine.search.evaluators import TrialOutcome
from engine.search.executors import Executor, TrialResult, TrialTask

TRIES = 2                  # a task whose worker dies runs at most twice
RESUBMITS = 3 * TRIES      # in all, counting pools that broke under it through no fault of its


def _run_in_pool(task: TrialTask, tag: str) -> TrialResult:
    from engine.search.remote import run_task

    Path(tag).write_text(str(os.getpid()))   # who runs it, should the pool break
    return run_task(task)


def _died(tag: Path, processes: dict[int, Any] | None) -> bool:
    """Whether the process that ran the task behind ``tag`` died, rather than being
    stopped by its broken pool (which terminates the survivors: SIGTERM).

    ``processes`` is the wound-down pool's pid -> ``multiprocessing.Process`` map (its
    exit codes); without it every task that had started counts as having died.
    """
    try:
        pid = int(tag.read_text())
    except (OSError, ValueError):
        return False                     # it never started
    proc = (processes or {}).get(pid)
    code = getattr(proc, "exitcode", None)
    if code is None:
        return True
    return code not in (0, -signal.SIGTERM)


class _Attempt:
    def __init__(self, task: TrialTask, outer: cf.Future[TrialResult]) -> None:
        self.task, self.outer = task, outer
        self.deaths = 0
        self.submits = 0
        self.tag: Path | None = None    # the last submission's "who runs it" file
        self.processes: dict[int, Any] | None = None   # its pool's pid -> Process


class ProcessPoolExecutor(Executor):
    """A local pool of ``workers`` processes (spawn: safe with torch and threads)."""

    name = "pool"

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1 (got {workers})")
        self.workers = workers
        self._lock = threading.Lock()
        self._closed = False
        self._tags = Path(tempfile.mkdtemp(prefix="nas-pool-"))
        self._count = itertools.count()
        self._pool = self._new_pool()
        self._retry: queue.Queue[tuple[cf.ProcessPoolExecutor, _Attempt] | None] = \
            queue.Queue()
        self._supervisor = threading.Thread(target=self._supervise, daemon=True,
                                            name="nas-pool-supervisor")
        self._supervisor.start()

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(max_workers=self.workers,
                                      mp_context=multiprocessing.get_context("spawn"))

    def submit(self, task: TrialTask, context: dict[str, Any] | None = None
               ) -> cf.Future[TrialResult]:
        attempt = _Attempt(task, cf.Future())
        self._start(attempt)
        return attempt.outer

    def _start(self, attempt: _Attempt) -> None:
        with self._lock:
            if self._closed:
                attempt.outer.cancel()
                return
            pool = self._pool
            tag = attempt.tag = self._tags / str(next(self._count))
        # the pool's own map, filled as it starts processes (kept after its shutdown)
        attempt.processes = getattr(pool, "_processes", None)
        attempt.submits += 1
        try:
            inner = pool.submit(_run_in_pool, attempt.task, str(tag))
        except BrokenProcessPool:        # broke meanwhile: the supervisor replaces it
            self._retry.put((pool, attempt))
            return

        def done(f: cf.Future[TrialResult]) -> None:
            if f.cancelled():
                attempt.outer.cancel()
            elif (exc := f.exception()) is None:
                attempt.outer.set_result(f.result())
            elif isinstance(exc, BrokenProcessPool) and not self._closed:
                self._retry.put((pool, attempt))   # never resubmit from the pool's thread
            else:
                attempt.outer.set_exception(exc)

        inner.add_done_callback(done)

    def _supervise(self) -> None:
        while (item := self._retry.get()) is not None:
            broken, attempt = item
            broken.shutdown(wait=True, cancel_futures=True)   # wound down before the next
            if attempt.tag is not None:
                attempt.deaths += _died(attempt.tag, attempt.processes)
            with self._lock:
                if self._pool is broken and not self._closed:
                    self._pool = self._new_pool()
            if attempt.deaths >= TRIES or attempt.submits >= RESUBMITS:
                why = (f"retried {TRIES - 1} time" if attempt.deaths >= TRIES else
                       f"the process pool broke {attempt.submits} times under it")
                attempt.outer.set_result(TrialResult(TrialOutcome(
                    "failed", {}, f"worker died while running the trial ({why})")))
            else:
                self._start(attempt)

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            pool = self._pool
        self._retry.put(None)
        self._supervisor.join()
        while True:                       # retries that will not run now
            try:
                item = self._retry.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[1].outer.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self._tags, ignore_errors=True)
