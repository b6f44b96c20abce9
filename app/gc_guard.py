"""Cyclic garbage collection on the GUI thread only.

CPython runs its cyclic collector in whichever thread happens to allocate past the
threshold.  In the studio that is usually a worker (the cost worker counting FLOPs, the
engine thread training, the store's writer): the collector then destroys unreachable Qt
wrappers (a closed window's widgets, menus, timers) on that thread.  Qt objects must be
destroyed on their own thread: the symptoms were the "QBasicTimer::start: Timers cannot be
started from another thread" warning and a deadlock (the worker, inside ``~QObject``, waits
for the GIL while the GUI thread, running shiboken's deferred deletions, waits for a Qt
mutex the worker holds).

``install()`` turns the automatic collector off and runs it from a timer on the GUI thread
instead, with CPython's own generation thresholds.  Every piece of the studio that starts a
thread running Python (CostWorker, JobRunner) installs it; it is idempotent.  Reference
counting still frees acyclic garbage at once on every thread; only cycles wait for the
next tick.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer

INTERVAL_MS = 200   # a tick: the youngest generation when it passed its threshold
IDLE_TICKS = 5      # and at least this often when anything was allocated at all


class MainThreadCollector(QObject):
    """Collects on a GUI-thread timer with the thresholds the automatic collector had."""

    def __init__(self, app: QCoreApplication, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(app)
        self.thresholds = gc.get_threshold()
        self.was_enabled = gc.isenabled()
        self.timer = QTimer(self, interval=interval_ms)
        self.timer.timeout.connect(self.collect)
        self._ticks = 0
        gc.disable()
        self.timer.start()
        app.aboutToQuit.connect(self.uninstall)

    def collect(self) -> None:
        """One tick: the youngest generation, older ones when their thresholds are met."""
        self._ticks += 1
        count0, count1, count2 = gc.get_count()
        t0, t1, t2 = self.thresholds
        if count1 >= t1:
            gc.collect(2 if count2 >= t2 else 1)
        elif count0 > t0 or (count0 > 0 and self._ticks % IDLE_TICKS == 0):
            gc.collect(0)

    def uninstall(self) -> None:
        """Back to the automatic collector (after a last collection on this thread)."""
        global _collector
        self.timer.stop()
        gc.collect()
        if self.was_enabled:
            gc.enable()
        if _collector is self:
            _collector = None


_collector: MainThreadCollector | None = None


def install() -> MainThreadCollector | None:
    """Collect cycles on the GUI thread only, from now until the application quits.

    Call from the GUI thread once a QCoreApplication exists; None (and nothing changed)
    without one or when called from another thread.
    """
    global _collector
    app = QCoreApplication.instance()
    if app is None or QThread.currentThread() is not app.thread():
        return None
    if _collector is None:
        _collector = MainThreadCollector(app)
    return _collector


def uninstall() -> None:
    """Restore the automatic collector (tests that leave the GUI behind call this)."""
    if _collector is not None:
        _collector.uninstall()


def installed() -> bool:
    return _collector is not None
