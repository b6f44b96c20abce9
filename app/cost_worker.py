"""Cost figures for the metrics bar.

Parameters and MACs are arithmetic (``engine.cost.analytic``, well under a millisecond for
the biggest presets): ``instant_cost`` runs on the GUI thread within the edit's frame.

Latency needs the real network built and timed, which takes seconds and is disturbed by
anything else using the CPU, so ``CostWorker`` measures it off the GUI thread, and only
when the studio is idle (``idle_ms`` after the last edit, with "measure latency" on in the
preferences) or when asked (``measure``), and never while a job runs: a measurement waits
for running jobs to end, and one in progress stops when a job starts (then retries).
torch is imported only inside the worker's runnable (never before the window shows).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

from app import gc_guard
from engine.arch.model import Design

LATENCY_REPEATS = 15
WAITING_FOR_JOB = "waiting for job"


def instant_cost(design: Design) -> dict:
    """Params, MACs, input and classes of ``design`` (analytic; raises ``DesignError`` with
    located problems when its shapes do not compose)."""
    from engine.cost import summarize

    return summarize(design, table=False)


def measure_design_latency(design: Design, device: str | None = None,
                           should_stop: Callable[[], bool] | None = None) -> dict:
    """Build ``design`` and time it (batch 1): median, quartiles, device (imports torch)."""
    from engine.builders import build_model, input_shape_of
    from engine.cost.latency import measure_latency

    model = build_model(design)
    return measure_latency(model, input_shape_of(design), batch=1,
                           device=None if device in (None, "auto") else device,
                           repeats=LATENCY_REPEATS, should_stop=should_stop)


class _Signals(QObject):
    finished = Signal(int, object)  # generation, latency dict
    failed = Signal(int, str)
    interrupted = Signal(int)
    done = Signal(object)  # the runnable, to release it


class _LatencyJob(QRunnable):
    def __init__(self, worker: CostWorker, generation: int, design: Design,
                 device: str | None) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the worker keeps it until it reports
        self.worker, self.generation, self.design, self.device = worker, generation, design, device
        self.signals = worker.signals

    def _stop(self) -> bool:
        return self.generation != self.worker.generation or self.worker.jobs_busy()

    def run(self) -> None:
        try:
            if not self._stop():
                self._measure()
            else:
                self.signals.interrupted.emit(self.generation)
        finally:
            self.signals.done.emit(self)

    def _measure(self) -> None:
        from engine.cost.latency import LatencyInterrupted

        try:
            result = measure_design_latency(self.design, self.device, self._stop)
        except LatencyInterrupted:
            self.signals.interrupted.emit(self.generation)
            return
        except Exception as exc:  # noqa: BLE001 - reported to the GUI, never raised in a thread
            msg = f"{type(exc).__name__}: {exc}"
            if isinstance(exc, ImportError):
                msg = f"latency not available ({exc})"
            else:
                traceback.print_exc()
            self.signals.failed.emit(self.generation, msg)
            return
        self.signals.finished.emit(self.generation, result)


class CostWorker(QObject):
    """Latency off the GUI thread, when idle or asked; signals arrive on the GUI thread.

    ``latency_ready(key, result)``: ``measure_latency``'s dict (``median_ms``, ``p25_ms``,
    ``p75_ms``...); ``latency_state(key, text)``: "measuring…", "waiting for job"
    or "" (idle); ``latency_failed(key, message)``.
    """

    latency_ready = Signal(object, object)
    latency_failed = Signal(object, str)
    latency_state = Signal(object, str)

    def __init__(self, idle_ms: int = 1500, measure_latency: bool = False,
                 parent: QObject | None = None, poll_ms: int = 1000) -> None:
        super().__init__(parent)
        gc_guard.install()  # the pool's thread must never collect the GUI's Qt objects
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self.signals = _Signals()
        self.signals.finished.connect(self._on_finished)
        self.signals.failed.connect(self._on_failed)
        self.signals.interrupted.connect(self._on_interrupted)
        self.signals.done.connect(self._release)
        self.generation = 0
        self.measure_latency = measure_latency  # measure automatically when idle
        self.enabled = True  # tests that never look at latency switch it off
        self.device: str | None = None
        self.jobs_busy: Callable[[], bool] = lambda: False  # set by the window (thread-safe)
        self._jobs: list[_LatencyJob] = []
        self._key: object = None
        self._design: Design | None = None
        self._idle = QTimer(self, singleShot=True, interval=idle_ms)
        self._idle.timeout.connect(self._try_submit)
        self._poll = QTimer(self, singleShot=True, interval=poll_ms)
        self._poll.timeout.connect(self._try_submit)

    def request(self, key: object, design: Design) -> None:
        """The design changed: forget older results; measure once idle (if enabled)."""
        self.generation += 1
        self._key, self._design = key, design.copy()
        self._poll.stop()
        if self.enabled and self.measure_latency:
            self._idle.start()
        else:
            self._idle.stop()
        self.latency_state.emit(key, "")

    def measure(self, key: object, design: Design) -> None:
        """Measure now (asked by the user); waits while a job runs."""
        self.generation += 1
        self._key, self._design = key, design.copy()
        self._idle.stop()
        self._try_submit()

    def _try_submit(self) -> None:
        if self._design is None or not self.enabled:
            return
        if self.jobs_busy():
            self.latency_state.emit(self._key, WAITING_FOR_JOB)
            self._poll.start()
            return
        job = _LatencyJob(self, self.generation, self._design, self.device)
        self._jobs.append(job)
        self.latency_state.emit(self._key, "measuring…")
        self.pool.start(job)

    def _release(self, job: object) -> None:
        if job in self._jobs:
            self._jobs.remove(job)

    def _on_finished(self, generation: int, result: dict) -> None:
        if generation == self.generation:
            self._design = None
            self.latency_state.emit(self._key, "")
            self.latency_ready.emit(self._key, result)

    def _on_failed(self, generation: int, message: str) -> None:
        if generation == self.generation:
            self._design = None
            self.latency_state.emit(self._key, "")
            self.latency_failed.emit(self._key, message)

    def _on_interrupted(self, generation: int) -> None:
        if generation == self.generation:  # a job started: try again once it is over
            self.latency_state.emit(self._key, WAITING_FOR_JOB)
            self._poll.start()

    def busy(self) -> bool:
        return self._idle.isActive() or self.pool.activeThreadCount() > 0

    def shutdown(self) -> None:
        self._idle.stop()
        self._poll.stop()
        self.generation += 1
        self._design = None
        self.pool.waitForDone(30000)
