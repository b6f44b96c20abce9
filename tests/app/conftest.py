"""Shared GUI fixtures."""

from __future__ import annotations

import pytest


@pytest.fixture
def studio(qtbot, tmp_path):
    """A main window with the job UI on a private store: (window, job_ui, store)."""
    from app.main_window import MainWindow
    from app.studio_jobs import install_job_ui
    from engine.store import Store

    store = Store(tmp_path / "studio.db")
    window = MainWindow(db=str(tmp_path / "studio.db"))
    window.cost.measure_latency = False
    ui = install_job_ui(window, store)
    qtbot.addWidget(window, before_close_func=lambda _w: ui.shutdown())
    yield window, ui, store
    ui.shutdown()
    window.cost.shutdown()
    store.close()


@pytest.fixture(scope="package", autouse=True)
def _automatic_collector_restored():
    """The studio collects cycles on its GUI thread (app/gc_guard.py) from its first worker
    on; hand the automatic collector back to the tests that follow this package."""
    yield
    from app import gc_guard

    gc_guard.uninstall()


@pytest.fixture
def window(qtbot):
    """A shown 1280x800 main window without the job UI (cost figures off)."""
    from app.main_window import MainWindow

    w = MainWindow()
    w.cost.enabled = False
    w.ask_save_changes = lambda doc: "discard"   # never a modal box at teardown
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()
