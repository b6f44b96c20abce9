"""What a new user meets first: dialog defaults that work on digits, empty states explained.

Uses the ``studio`` fixture from tests/app/conftest.py."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialogButtonBox


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
    assert len(trials) == 1 and trials[0].status == "finished"
    assert trials[0].metrics["val_accuracy"] > 0.5


def test_compress_dialog_without_runs_says_why_and_cannot_start(qtbot, studio):
    window, ui, store = studio
    d = ui.compress_dialog(show=False)
    qtbot.addWidget(d)
    assert d.run.count() == 0
    assert "train a design first" in d.error.text()
    assert not d.buttons.button(QDialogButtonBox.Ok).isEnabled()


@pytest.mark.parametrize("title", ["Pareto", "Experiments"])
@pytest.mark.qt_log_ignore("raise()", "propagateSizeHints")   # offscreen: a dock window
def test_showing_the_pareto_or_experiments_tab_gives_it_room(qtbot, studio, title):
    from app.main_window import CANVAS_MIN_H

    window, ui, store = studio
    window.resize(1200, 800)
    window.show()
    qtbot.waitExposed(window)
    jobs = window.docks["Jobs"]
    qtbot.waitUntil(lambda: jobs.height() < 300, timeout=5000)   # the modest start height
    window.docks[title].raise_()
    dock = window.docks[title]
    # room for the plot or table: grown where the canvas can spare it, else its own window
    qtbot.waitUntil(lambda: dock.isFloating() or dock.height() >= 300, timeout=5000)
    assert window.centralWidget().height() >= CANVAS_MIN_H   # the canvas stays readable


@pytest.mark.qt_log_ignore("propagateSizeHints")   # offscreen: top-level size hints
def test_accuracy_and_loss_axes_show_plain_fractions(qtbot):
    """pyqtgraph's SI prefix drew accuracy 0.8 as 800 with "(x0.001)" on the label."""
    from app.panels.pareto import ParetoExplorer
    from app.panels.plots import TrainingCurves
    from engine.arch.serialize import design_to_dict
    from engine.arch.space import NB201Space
    from engine.events import EpochFinished, TrialFinished
    from engine.store.records import TrialRecord

    pareto = ParetoExplorer(redraw_ms=20)
    qtbot.addWidget(pareto)
    pareto.resize(900, 500)
    pareto.show()
    for i, (params, acc) in enumerate([(5e3, 0.74), (1.3e4, 0.1), (1.8e4, 0.2)]):
        arch = design_to_dict(NB201Space().decode([i % 5, 1, 2, 3, 4, 0]))
        pareto.add_trial(TrialFinished("job", record=TrialRecord.from_row(
            {"experiment_id": 1, "trial": i, "arch": arch,
             "metrics": {"accuracy": acc, "params": params}}, ("accuracy", "params"))))
    pareto.redraw()
    qtbot.wait(50)
    left = pareto.plot.getPlotItem().getAxis("left")
    assert "x0.001" not in left.labelString() and left.autoSIPrefixScale == 1.0

    curves = TrainingCurves()
    qtbot.addWidget(curves)
    curves.show()
    for epoch, loss in ((1, 0.4), (2, 0.2)):
        curves.on_event(EpochFinished("job", run_id=1, epoch=epoch, epochs=2,
                                      train_loss=loss, val_loss=loss, val_accuracy=0.9))
    qtbot.wait(300)
    loss_axis = curves.loss_plot.getAxis("left")
    assert loss_axis.autoSIPrefixScale == 1.0 and "x0.001" not in loss_axis.labelString()


def test_train_dialog_says_it_overrides_the_cell_network_size(qtbot, studio):
    from engine.arch.presets import get_preset

    window, ui, store = studio
    window.open_design(get_preset("darts-v2"))
    d = ui.train_dialog()
    qtbot.addWidget(d)
    assert "36 channels × 20 cells" in d.size_note.text()
    assert (d.channels.value(), d.layers.value()) == (16, 5)
    d.accept()
    assert d.job is not None, d.error.text()
    assert d.job.design.macro.channels == 16 and d.job.design.macro.layers == 5
    window.open_design(get_preset("efficientnet-b0"))
    d2 = ui.train_dialog()
    qtbot.addWidget(d2)
    assert not d2.channels.isEnabled() and "cell networks only" in d2.size_note.text()


def test_a_finished_search_row_names_the_best_trial():
    from app.jobs.panel import _summary

    text = _summary({"experiment_id": 5, "trials": 8, "objective": "val_accuracy",
                     "best": {"trial": 3, "objective": 0.9041}, "pareto": [{}, {}]})
    assert text == ("finished: experiment id 5, 8 trials, best val_accuracy 0.9041 (trial 3), "
                    "2 on the Pareto front")
    assert _summary({"run_id": 1, "test_accuracy": 0.5}) == \
        "finished: run id 1, test accuracy 0.5000"


@pytest.mark.qt_log_ignore("propagateSizeHints")   # offscreen: top-level size hints
def test_training_legends_do_not_cover_the_latest_epoch(qtbot):
    from PySide6.QtCore import QPointF

    from app.panels.plots import TrainingCurves

    curves = TrainingCurves(redraw_ms=20)
    qtbot.addWidget(curves)
    curves.resize(300, 520)
    curves.show()
    qtbot.waitExposed(curves)
    accs, losses = [0.3, 0.6, 0.8, 0.9, 0.95], [2.3, 1.2, 0.7, 0.4, 0.3]
    for epoch, (acc, loss) in enumerate(zip(accs, losses, strict=True), start=1):
        curves.add_epoch(epoch, train_loss=loss, val_loss=loss, train_accuracy=acc,
                         val_accuracy=acc)
    curves.flush()
    qtbot.wait(100)
    for plot, last in ((curves.acc_plot, 0.95), (curves.loss_plot, 0.3)):
        item = plot.getPlotItem()
        point = item.vb.mapViewToScene(QPointF(5, last))
        assert not item.legend.sceneBoundingRect().contains(point)


def test_tabular_search_without_a_table_asks_for_one(qtbot, studio):
    window, ui, store = studio
    d = ui.search_dialog()
    qtbot.addWidget(d)
    d.evaluator.setCurrentText("tabular")
    d.accept()
    assert d.job is None and "choose a benchmark table" in d.error.text()


@pytest.mark.parametrize("space", ["nas-bench-201", "mbconv"])
def test_darts_strategy_on_another_space_is_refused_in_the_dialog(qtbot, studio, space):
    """The job used to start and fail: 'darts one-shot search needs the darts cell space'."""
    window, ui, store = studio
    d = ui.search_dialog()
    qtbot.addWidget(d)
    d.space.setCurrentText(space)
    d.strategy.setCurrentText("darts")
    d.accept()
    assert d.job is None and "searches the darts space only" in d.error.text()
    d.space.setCurrentText("darts")
    d.accept()
    assert d.job is not None, d.error.text()
