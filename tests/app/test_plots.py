"""Training curves: the title says when the run ended; the epoch axis is sane."""

from __future__ import annotations

import pytest

from app.panels.plots import TrainingCurves, epoch_step
from engine.events import EpochFinished, JobFailed, JobFinished

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")   # offscreen top-level


@pytest.fixture
def curves(qtbot):
    c = TrainingCurves(redraw_ms=20)
    qtbot.addWidget(c)
    c.resize(320, 520)
    c.show()
    qtbot.waitExposed(c)
    return c


def _epoch(run_id, epoch, epochs, job="job-1"):
    return EpochFinished(job, run_id=run_id, epoch=epoch, epochs=epochs, train_loss=1.0 / epoch,
                         val_loss=1.1 / epoch, train_accuracy=0.5, val_accuracy=0.5)


def test_title_says_the_run_ended(curves):
    curves.on_event(_epoch(4, 1, 3))
    assert curves.title.text() == "Run 4 (live)"
    curves.on_event(JobFinished("other-job"))
    assert curves.title.text() == "Run 4 (live)"
    curves.on_event(JobFinished("job-1"))
    assert curves.title.text() == "Run 4 (finished)"
    curves.on_event(_epoch(5, 1, 2, job="job-2"))
    curves.on_event(JobFailed("job-2", error="boom"))
    assert curves.title.text() == "Run 5 (failed)"


def test_one_epoch_spans_the_planned_epochs_not_minus_six_to_eight(curves, qtbot):
    curves.on_event(_epoch(1, 1, 3))
    curves.flush()
    (lo, hi), _ = curves.loss_plot.getPlotItem().vb.viewRange()
    assert (lo, hi) == (0.5, 5.5)      # at least five epochs: 1..5
    for e in range(2, 13):
        curves.on_event(_epoch(1, e, 12))
    curves.flush()
    (lo, hi), _ = curves.acc_plot.getPlotItem().vb.viewRange()
    assert (lo, hi) == (0.5, 12.5)


def test_epoch_ticks_keep_apart_on_a_narrow_plot(curves):
    for e in range(1, 41):
        curves.add_epoch(e, train_loss=1.0 / e)
    curves.flush()
    axis = curves.loss_plot.getAxis("bottom")
    step = axis._tickSpacing[0][0]
    pixels_per_tick = step * (curves.loss_plot.width() - 60) / 41
    assert step > 1 and pixels_per_tick >= 36
    assert [epoch_step(10, 600), epoch_step(10, 100), epoch_step(200, 300)] == [1, 5, 50]
