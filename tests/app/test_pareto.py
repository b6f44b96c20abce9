"""The Pareto explorer: front, hypervolume, bands, lineage, mouse, and a live search."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from app.panels.pareto import ParetoExplorer
from app.panels.pareto_data import TrialPoint, design_diff
from app.workers import JobRunner
from engine.arch.serialize import design_from_dict, design_to_dict
from engine.arch.space import NB201Space
from engine.events import TrialFinished
from engine.search.pareto import hypervolume_2d
from engine.store.records import TrialRecord

# (params, accuracy): the front is a, c, e (b and d are dominated)
DATA = [(100.0, 0.50), (300.0, 0.40), (200.0, 0.70), (400.0, 0.65), (800.0, 0.90)]
FRONT = [0, 2, 4]


def _arch(i: int) -> dict:
    return design_to_dict(NB201Space().decode([i % 5, 1, 2, 3, 4, (i + 1) % 5]))


def _trial(i: int, **row) -> TrialFinished:
    return TrialFinished("job", record=TrialRecord.from_row(
        {"experiment_id": 1, "trial": i, **row}, ("accuracy", "params")))


@pytest.fixture
def explorer(qtbot):
    w = ParetoExplorer(redraw_ms=20)
    qtbot.addWidget(w)
    w.resize(900, 600)
    for i, (p, a) in enumerate(DATA):
        w.add_trial(_trial(i, arch=_arch(i), metrics={"accuracy": a, "params": p,
                                                      "macs": p * 10}))
    w.redraw()
    return w


def test_front_is_a_staircase_and_hypervolume_grows(explorer):
    assert explorer.front_indices == FRONT
    x, y = explorer.front_line.getData()
    assert np.allclose(10 ** x, [100, 200, 200, 800, 800])   # log scale by default
    assert np.allclose(y, [0.5, 0.5, 0.7, 0.7, 0.9])
    hv = [v for _, v in explorer.hv_history]
    assert hv == sorted(hv) and hv[-1] > hv[0] > 0
    # the engine's one definition: reference (0 accuracy, the largest cost)
    expected = hypervolume_2d([(a, p) for p, a in DATA], (0.0, 800.0), [True, False])
    assert hv[-1] == pytest.approx(expected)
    assert "5 points" in explorer.summary.text() and "3 on the front" in explorer.summary.text()


def test_axis_log_scale_and_constraint_bands(explorer):
    explorer.set_log_x(False)
    x, _ = explorer.front_line.getData()
    assert np.allclose(x, [100, 200, 200, 800, 800])
    explorer.set_axis("macs")
    x, _ = explorer.front_line.getData()
    assert np.allclose(x, [1000, 2000, 2000, 8000, 8000])
    with pytest.raises(ValueError, match="unknown cost axis"):
        explorer.set_axis("flops")
    explorer.set_constraints(max_params=500, min_accuracy=0.45)
    assert not explorer.band.isVisible()          # the limit is on params, the axis is MACs
    assert explorer.acc_band.isVisible()
    explorer.set_axis("params")
    assert explorer.band.isVisible()
    assert explorer.band.getRegion()[0] == pytest.approx(500)
    explorer.set_constraints(max_params=None)
    assert not explorer.band.isVisible()


def test_trials_without_accuracy_are_not_plotted(explorer):
    ok = explorer.add_trial(_trial(9, status="rejected", metrics={"params": 5.0}))
    assert not ok and len(explorer.points) == len(DATA)


def test_lineage_arrows_from_parent_to_child(qtbot):
    w = ParetoExplorer(redraw_ms=20)
    qtbot.addWidget(w)
    w.add_point(TrialPoint("r1", "train runs", 0.9, {"params": 1000.0}, run_id=1))
    w.add_point(TrialPoint("r2", "compressed", 0.88, {"params": 400.0}, run_id=2,
                           parent_run_id=1))
    w.add_point(TrialPoint("r3", "compressed", 0.80, {"params": 150.0}, run_id=3,
                           parent_run_id=2))
    w.redraw()
    assert w._lineage_segments == [(0, 1), (1, 2)]
    x, y = w.lineage.getData()
    assert np.allclose(10 ** x, [1000, 400, 400, 150]) and np.allclose(y, [0.9, 0.88, 0.88, 0.8])
    assert sum(a.isVisible() for a in w._arrows) == 2
    assert "compressed from run 1" in w.describe(1)


def _view_pos(w: ParetoExplorer, i: int) -> QPoint:
    return w.plot.mapFromScene(w.scene_pos_of(i))


# the offscreen platform cannot apply a shown window's size constraints; harmless here
@pytest.mark.qt_log_ignore("propagateSizeHints")
def test_hover_click_compare_and_double_click_with_the_mouse(qtbot, explorer):
    explorer.show()
    qtbot.waitExposed(explorer)
    qtbot.wait(100)   # let the view settle its range before mapping points to pixels
    vp = explorer.plot.viewport()
    a, b = _view_pos(explorer, 0), _view_pos(explorer, 4)
    qtbot.mouseMove(vp, a)
    qtbot.waitUntil(explorer.hover_text.isVisible, timeout=5000)
    assert "accuracy 0.5000" in explorer.hover_text.toPlainText()
    qtbot.mouseClick(vp, Qt.LeftButton, Qt.NoModifier, a)
    qtbot.waitUntil(lambda: explorer.selected == [0], timeout=5000)
    qtbot.mouseClick(vp, Qt.LeftButton, Qt.ControlModifier, b)
    qtbot.waitUntil(lambda: explorer.selected == [0, 4], timeout=5000)
    pts, diff = explorer.comparison()
    assert [p.trial for p in pts] == [0, 4]
    assert diff == design_diff(_arch(0), _arch(4)) and diff
    assert "Design differences" in explorer.details.toHtml()
    with qtbot.waitSignal(explorer.design_requested, timeout=5000) as sig:
        # what a real double-click delivers: press, release, double-click, release
        qtbot.mouseClick(vp, Qt.LeftButton, Qt.NoModifier, b)
        qtbot.mouseDClick(vp, Qt.LeftButton, Qt.NoModifier, b)
        qtbot.mouseRelease(vp, Qt.LeftButton, Qt.NoModifier, b)
    design, info = sig.args
    assert design == design_from_dict(_arch(4))
    assert info["trial"] == 4 and info["accuracy"] == pytest.approx(0.9)


def test_design_diff_reads_like_a_change_list():
    a = {"normal": {"edges": [{"op": "skip"}, {"op": "conv"}]}, "name": "x", "positions": {}}
    b = {"normal": {"edges": [{"op": "skip"}, {"op": "pool"}]}, "name": "y", "positions": {1: 2}}
    assert design_diff(a, b) == ['normal.edges[1].op: "conv" → "pool"']
    longer = {"normal": {"edges": [{"op": "skip"}, {"op": "conv"}, {"op": "pool"}]}}
    assert design_diff(a, longer) == ['normal.edges[2]: added {"op": "pool"}']
    assert design_diff(a, a) == []


def test_live_tabular_search_fills_the_plot(qtbot, tmp_path):
    from engine.search.job import SearchConfig, SearchJob
    from engine.search.synthetic import write_synthetic_table
    from engine.store import Store

    table = write_synthetic_table(tmp_path / "table.csv")
    store = Store(tmp_path / "s.db")
    w = ParetoExplorer(redraw_ms=20)
    qtbot.addWidget(w)
    runner = JobRunner()
    runner.event_received.connect(w.on_event)
    try:
        config = SearchConfig(space={"space": "nas-bench-201"},
                              evaluator={"kind": "tabular", "path": str(table),
                                         "objective": "val_accuracy"},
                              strategy="evolution", budget=40,
                              objectives=["accuracy", "params"])
        runner.submit(SearchJob(config, store))
        with qtbot.waitSignal(runner.idle, timeout=60000):
            pass
        # the front is recomputed at the redraw timer's tick: wait until it has seen all 40
        qtbot.waitUntil(lambda: len(w.points) == 40 and not w._dirty
                        and len(w.front_indices) > 0, timeout=10000)
        assert w._groups and next(iter(w._groups)).endswith("evolution")
        x, _ = w.front_line.getData()
        assert len(x) == 2 * len(w.front_indices) - 1
        again = ParetoExplorer()
        qtbot.addWidget(again)
        assert again.load_from_store(store) == 40
        # the same front from the store as live (point order may differ: live points
        # arrive in event order, stored ones in trial order)
        def front(explorer):
            return sorted(explorer.points[i].key for i in explorer.front_indices)

        assert front(again) == front(w)
    finally:
        assert runner.shutdown(20000)
        store.close()
