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
