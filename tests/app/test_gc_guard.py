"""Cyclic garbage is collected on the GUI thread, never on a worker's (app/gc_guard.py).

A worker thread that allocates (the cost worker counting FLOPs, the engine thread
training) used to run CPython's collector itself and destroy the GUI's unreachable Qt
objects there: cross-thread timer warnings and a deadlock in the full GUI suite.
"""

from __future__ import annotations

import gc
import threading

from app import gc_guard
from app.cost_worker import CostWorker
from app.workers import JobRunner


class _Cycle:
    def __init__(self, seen: list) -> None:
        self.me, self.seen = self, seen

    def __del__(self) -> None:
        self.seen.append(threading.current_thread())


def _churn() -> None:
    keep = [[] for _ in range(20 * gc.get_threshold()[0])]  # far past the youngest threshold
    del keep


def test_a_worker_thread_never_collects_the_gui_threads_cycles(qtbot):
    worker = CostWorker()  # what the studio creates before any worker thread runs Python
    assert gc_guard.installed() and not gc.isenabled()
    gc.collect()
    seen: list = []
    _Cycle(seen)
    thread = threading.Thread(target=_churn)
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    assert seen == [threading.main_thread()]
    worker.shutdown()


def test_the_job_runner_installs_it_and_uninstall_restores_the_collector(qtbot):
    gc_guard.uninstall()
    assert not gc_guard.installed() and gc.isenabled()
    runner = JobRunner()
    try:
        assert gc_guard.installed() and not gc.isenabled()
        assert gc_guard.install() is gc_guard.install()  # idempotent
    finally:
        assert runner.shutdown(5000)
    gc_guard.uninstall()
    assert gc.isenabled()
    gc_guard.install()  # as the rest of the GUI suite expects


def test_install_refuses_other_threads(qtbot):
    out = []
    thread = threading.Thread(target=lambda: out.append(gc_guard.install()))
    gc_guard.uninstall()
    thread.start()
    thread.join()
    assert out == [None] and not gc_guard.installed() and gc.isenabled()
