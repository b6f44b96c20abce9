"""Pareto plot: ticks on a short log axis, an axis without data, hover box, legend."""

from __future__ import annotations

import math

import pytest

from app.panels.pareto import ParetoExplorer
from app.panels.plot_style import log_ticks, short_number
from engine.events import TrialFinished
from engine.store.records import TrialRecord

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")   # offscreen top-level


def _trial(i: int, exp: int, **metrics) -> TrialFinished:
    return TrialFinished("job", record=TrialRecord.from_row(
        {"experiment_id": exp, "trial": i, "metrics": metrics}, ("accuracy", "params")))


@pytest.fixture
def explorer(qtbot):
    w = ParetoExplorer(redraw_ms=20)
    qtbot.addWidget(w)
    w.resize(900, 600)
    w.show()
    qtbot.waitExposed(w)
    # 18k..60k params: less than one decade on the log axis
    for i, (p, a) in enumerate([(18e3, 0.2), (25e3, 0.6), (40e3, 0.8), (60e3, 0.95)]):
        w.add_trial(_trial(i, 1 + i % 2, accuracy=a, params=p))
    w.redraw()
    qtbot.wait(50)
    return w


def test_a_log_axis_under_a_decade_has_several_labelled_ticks(explorer):
    lo, hi = math.log10(18e3), math.log10(60e3)
    ticks = explorer.cost_axis.tickValues(lo, hi, 600)
    values = ticks[0][1]
    assert len(values) >= 3
    labels = explorer.cost_axis.tickStrings(values, 1.0, 1.0)
    assert "20k" in labels and "50k" in labels
    assert [short_number(v) for v in (5e4, 1.5e6, 0.25)] == ["50k", "1.5M", "0.25"]
    assert log_ticks(2.0, 6.0, 5) == [2.0, 3.0, 4.0, 5.0, 6.0]      # decades when wide
    assert len(log_ticks(4.30, 4.31, 8)) == 3                        # a sliver: 3 plain


def test_an_axis_without_data_shows_no_stale_ticks(explorer):
    assert explorer.cost_axis.style["showValues"]
    explorer.set_axis("latency_ms")
    assert not explorer.cost_axis.style["showValues"]
    assert explorer.empty_text.isVisible() and "latency" in explorer.empty_text.toPlainText()
    explorer.set_axis("params")
    assert explorer.cost_axis.style["showValues"] and not explorer.empty_text.isVisible()


def test_the_hover_box_opens_toward_the_free_side(explorer):
    top = max(range(4), key=lambda i: explorer.points[i].accuracy)     # 60k, 0.95
    bottom = min(range(4), key=lambda i: explorer.points[i].accuracy)  # 18k, 0.2
    assert explorer.hover_anchor(top) == (1.0, 0.0)       # below and to the left
    assert explorer.hover_anchor(bottom) == (0.0, 1.0)    # above and to the right


def test_the_legend_is_beside_the_plot_not_over_the_points(explorer):
    assert explorer.plot.getPlotItem().legend is None
    text = explorer.legend_row.text()
    assert "experiment 1" in text and "experiment 2" in text and "Pareto front" in text
    assert not explorer.legend_row.isHidden()
