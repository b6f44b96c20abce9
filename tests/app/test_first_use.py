"""What a new user meets first: dialog defaults that work on digits, empty states explained."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialogButtonBox


@pytest.fixture
def studio(qtbot, tmp_path):
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


def test_search_dialog_defaults_train_trials_that_learn_the_digits(qtbot, studio):
    """One trial with the dialog's defaults beats chance (0.10) by far."""
    from engine.jobs import CancelToken

    window, ui, store = studio
    d = ui.search_dialog()
    qtbot.addWidget(d)
    assert d.dataset.currentText() == "digits"
    d.budget.setValue(1)
    d.accept()
    assert d.job is not None, d.error.text()
    result = d.job.execute(lambda _e: None, CancelToken())
    trials = store.trials(result["experiment_id"])
    assert len(trials) == 1 and trials[0]["status"] == "finished"
    assert trials[0]["metrics"]["val_accuracy"] > 0.5


def test_compress_dialog_without_runs_says_why_and_cannot_start(qtbot, studio):
    window, ui, store = studio
    d = ui.compress_dialog(show=False)
    qtbot.addWidget(d)
    assert d.run.count() == 0
    assert "train a design first" in d.error.text()
    assert not d.buttons.button(QDialogButtonBox.Ok).isEnabled()


@pytest.mark.parametrize("title", ["Pareto", "Experiments"])
def test_showing_the_pareto_or_experiments_tab_gives_it_room(qtbot, studio, title):
    window, ui, store = studio
    window.resize(1200, 800)
    window.show()
    qtbot.waitExposed(window)
    jobs = window.docks["Jobs"]
    qtbot.waitUntil(lambda: jobs.height() < 300, timeout=5000)   # the modest start height
    window.docks[title].raise_()
    dock = window.docks[title]
    qtbot.waitUntil(lambda: dock.height() >= 0.4 * window.height(), timeout=5000)
    editor = window.current_editor()
    assert editor is None or editor.height() > 150      # the canvas keeps a usable share
