"""The Qt bridge to the engine: a queue of jobs run one after another on a QThread.

Engine jobs (``engine.jobs.Job``) emit frozen dataclass events from the worker
thread; :class:`JobRunner` re-emits each one as ``Signal(object)`` so that slots run
in the GUI thread (queued connections).  Widgets are only ever touched there.

Progress events are rate-limited per job (a training loop may report every batch);
every other event is relayed as is, in order.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from PySide6.QtCore import QObject, QThread, Signal

from app import gc_guard
from engine.events import Event, JobCancelled, JobFailed, JobFinished, Progress
from engine.jobs import Job

PROGRESS_INTERVAL_S = 0.05
END_EVENTS = (JobFinished, JobFailed, JobCancelled)


class _EngineThread(QThread):
    """Pulls jobs from the runner's queue and runs them; emits every event."""

    event_emitted = Signal(object)

    def __init__(self, runner: JobRunner) -> None:
        super().__init__()
        self._runner = runner
        self._last_progress: dict[str, float] = {}

    def _emit(self, event: Event) -> None:
        if isinstance(event, Progress):
            now = time.monotonic()
            last = self._last_progress.get(event.job_id, 0.0)
            done = event.total is not None and event.done >= event.total
            if now - last < PROGRESS_INTERVAL_S and not done:
                return
            self._last_progress[event.job_id] = now
        self.event_emitted.emit(event)

    def run(self) -> None:  # noqa: D102 - QThread entry point
        while True:
            job = self._runner._next_job()
            if job is None:
                return
            if job.token.cancelled:
                self.event_emitted.emit(JobCancelled(job.job_id, message="cancelled before start"))
                continue
            try:
                job.run(self._emit)
            except BaseException as exc:  # noqa: BLE001 - Job.run already reports errors
                self.event_emitted.emit(JobFailed(job.job_id, error=f"{type(exc).__name__}: {exc}"))
            finally:
                self._last_progress.pop(job.job_id, None)
                self._runner._job_left(job)


class JobRunner(QObject):
    """A FIFO of engine jobs executed on one background thread.

    Signals (all delivered in the GUI thread):

    - ``event_received(event)``: every engine event, in order.
    - ``job_submitted(job)``: a job entered the queue.
    - ``job_ended(event)``: the final event of a job (JobFinished/Failed/Cancelled).
    - ``idle()``: the queue ran empty.
    """

    event_received = Signal(object)
    job_submitted = Signal(object)
    job_ended = Signal(object)
    idle = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cond = threading.Condition()
        self._queue: deque[Job] = deque()
        self._current: Job | None = None
        self._stopping = False
        self._jobs: dict[str, Job] = {}
        gc_guard.install()  # the engine thread must never collect the GUI's Qt objects
        self._thread = _EngineThread(self)
        self._thread.event_emitted.connect(self._relay)
        self._thread.start()

    # -- called from the worker thread ----------------------------------------
    def _next_job(self) -> Job | None:
        with self._cond:
            while not self._queue and not self._stopping:
                self._cond.wait()
            if self._stopping:
                return None
            self._current = self._queue.popleft()
            return self._current

    def _job_left(self, job: Job) -> None:
        with self._cond:
            if self._current is job:
                self._current = None

    # -- GUI thread API ---------------------------------------------------------
    def submit(self, job: Job) -> str:
        """Queue ``job``; returns its id.  Jobs run one after another."""
        if self._stopping:
            raise RuntimeError("the job runner has been shut down")
        self._jobs[job.job_id] = job
        with self._cond:
            self._queue.append(job)
            self._cond.notify_all()
        self.job_submitted.emit(job)
        return job.job_id

    def job(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def cancel(self, job_id: str) -> None:
        """Ask a job to stop (running) or drop it (queued); its JobCancelled follows."""
        job = self._jobs.get(job_id)
        if job is not None:
            job.cancel()

    def cancel_all(self) -> None:
        for job in list(self._jobs.values()):
            job.cancel()

    def active_jobs(self) -> list[Job]:
        """Jobs queued or running, in order."""
        with self._cond:
            jobs = list(self._queue)
            if self._current is not None:
                jobs.insert(0, self._current)
        return jobs

    def is_busy(self) -> bool:
        """True while a submitted job has not delivered its final event to this thread."""
        return bool(self._jobs)

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """Cancel everything and join the thread; True if it stopped in time."""
        self.cancel_all()
        with self._cond:
            self._stopping = True
            self._queue.clear()
            self._cond.notify_all()
        self._jobs.clear()
        stopped = self._thread.wait(timeout_ms)
        if stopped:
            self._thread.event_emitted.disconnect(self._relay)
        return bool(stopped)

    def _relay(self, event: object) -> None:
        self.event_received.emit(event)
        if isinstance(event, END_EVENTS):
            self._jobs.pop(event.job_id, None)
            self.job_ended.emit(event)
            if not self._jobs:
                self.idle.emit()
