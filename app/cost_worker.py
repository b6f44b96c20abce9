"""Cost figures off the GUI thread: latest edit wins, with a short debounce.

torch is imported only inside the worker's runnable (never before the window shows).
"""

from __future__ import annotations

import traceback

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

from app import gc_guard
from engine.arch.model import Design


class _Signals(QObject):
    finished = Signal(int, object)  # generation, summary dict
    failed = Signal(int, str)
    done = Signal(object)  # the runnable, to release it


def compute_cost(design: Design, measure_latency: bool = False,
                 device: str | None = None) -> dict:
    """engine.cost.summarize(design); ``latency_ms`` is the measured median when asked."""
    from engine.cost import summarize

    summary = dict(summarize(design, table=False, memory=False, latency=measure_latency,
                             device=None if device in (None, "auto") else device, repeats=5))
    latency = summary.get("latency")
    if isinstance(latency, dict) and latency.get("median_ms") is not None:
        summary["latency_ms"] = float(latency["median_ms"])
    return summary


class _CostJob(QRunnable):
    def __init__(self, worker: CostWorker, generation: int, design: Design,
                 measure_latency: bool, device: str | None) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the worker keeps it until it reports
        self.worker, self.generation, self.design = worker, generation, design
        self.measure_latency, self.device = measure_latency, device
        self.signals = worker.signals

    def run(self) -> None:
        try:
            if self.generation == self.worker.generation:  # else a newer edit superseded us
                self._compute()
        finally:
            self.signals.done.emit(self)

    def _compute(self) -> None:
        try:
            summary = compute_cost(self.design, self.measure_latency, self.device)
        except Exception as exc:  # noqa: BLE001 - reported to the GUI, never raised in a thread
            msg = f"{type(exc).__name__}: {exc}"
            if isinstance(exc, ImportError):
                msg = f"cost model not available ({exc})"
            else:
                traceback.print_exc()
            self.signals.failed.emit(self.generation, msg)
            return
        self.signals.finished.emit(self.generation, summary)


class CostWorker(QObject):
    """Debounced cost computation; emits ``cost_ready(key, summary)`` on the GUI thread."""

    cost_ready = Signal(object, object)  # key (document), summary
    cost_failed = Signal(object, str)
    started = Signal(object)

    def __init__(self, debounce_ms: int = 250, measure_latency: bool = False,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        gc_guard.install()  # the pool's thread must never collect the GUI's Qt objects
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self.signals = _Signals()
        self.signals.finished.connect(self._on_finished)
        self.signals.failed.connect(self._on_failed)
        self.generation = 0
        self.measure_latency = measure_latency
        self.enabled = True  # tests that never look at cost switch it off
        self.device: str | None = None
        self._jobs: list[_CostJob] = []
        self.signals.done.connect(self._release)
        self._key: object = None
        self._design: Design | None = None
        self._timer = QTimer(self, singleShot=True, interval=debounce_ms)
        self._timer.timeout.connect(self._submit)

    def request(self, key: object, design: Design) -> None:
        """Ask for the cost of ``design`` (copied now); older requests are dropped."""
        if not self.enabled:
            return
        self.generation += 1
        self._key, self._design = key, design.copy()
        self.started.emit(key)
        self._timer.start()

    def _submit(self) -> None:
        if self._design is None:
            return
        job = _CostJob(self, self.generation, self._design, self.measure_latency, self.device)
        self._design = None
        self._jobs.append(job)
        self.pool.start(job)

    def _release(self, job: object) -> None:
        if job in self._jobs:
            self._jobs.remove(job)

    def _on_finished(self, generation: int, summary: dict) -> None:
        if generation == self.generation:
            self.cost_ready.emit(self._key, summary)

    def _on_failed(self, generation: int, message: str) -> None:
        if generation == self.generation:
            self.cost_failed.emit(self._key, message)

    def busy(self) -> bool:
        return self._timer.isActive() or self.pool.activeThreadCount() > 0

    def shutdown(self) -> None:
        self._timer.stop()
        self.generation += 1
        self.pool.waitForDone(30000)
