"""The metrics bar: params/MACs in the edit's own frame; latency off the GUI thread, only
when idle or asked, never while a job runs, shown as a median with its spread."""

from __future__ import annotations

import pytest

from app.cost_worker import WAITING_FOR_JOB, CostWorker
from app.main_window import MainWindow
from app.panels.metrics import human, latency_text
from engine.arch.model import Stage
from engine.arch.nb201 import parse_nb201
from engine.arch.presets import NB201_BEST
from engine.cost.analytic import design_cost


@pytest.fixture
def window(qtbot):
    w = MainWindow()
    w.cost.measure_latency = False
    w.ask_save_changes = lambda doc: "discard"
    qtbot.addWidget(w)
    yield w
    w.cost.shutdown()
    w.close()


def tiny():
    return parse_nb201(NB201_BEST, channels=4, layers=1, input_shape=(1, 8, 8), classes=3)


@pytest.mark.parametrize("preset", ["darts-v2", "efficientnet-b7"])
def test_an_edit_shows_its_params_and_macs_before_the_next_event(window, preset):
    doc = window.open_preset(preset)
    assert doc.cost is not None  # no worker round trip, no debounce
    before = dict(window.metrics.summary)
    if doc.is_cell():
        doc.set_edge_op("normal", 0, "sep_conv_5x5")
    else:
        doc.set_stage(6, kernel=5)
    # no event processed since the edit: the figures are already the new design's
    cost = design_cost(doc.design)
    assert window.metrics.summary["params"] == cost.params != before["params"]
    assert window.metrics.summary["macs"] == cost.macs
    assert window.metrics.params.value.text() == human(cost.params)


def test_a_design_whose_shapes_do_not_compose_is_located_in_the_bar(window):
    doc = window.open_preset("darts-v2")
    doc.set_macro(auxiliary=True, input_shape=(3, 32, 64))
    assert doc.cost is None and window.metrics.summary is None
    assert window.metrics.status.text().startswith("cost unavailable: macro.auxiliary: "
                                                   "auxiliary head: its classifier expects 768")


def test_latency_waits_while_a_job_runs_then_is_measured(qtbot):
    worker = CostWorker(idle_ms=10, measure_latency=True, poll_ms=20)
    busy = [True]
    worker.jobs_busy = lambda: busy[0]
    states, results = [], []
    worker.latency_state.connect(lambda _k, s: states.append(s))
    worker.latency_ready.connect(lambda _k, r: results.append(r))
    worker.request("doc", tiny())
    qtbot.waitUntil(lambda: WAITING_FOR_JOB in states, timeout=5000)
    qtbot.wait(100)
    assert not results and worker.pool.activeThreadCount() == 0  # nothing competes
    busy[0] = False
    qtbot.waitUntil(lambda: bool(results), timeout=60000)
    r = results[0]
    assert r["p25_ms"] <= r["median_ms"] <= r["p75_ms"] and r["batch"] == 1
    assert "measuring…" in states and states[-1] == ""
    worker.shutdown()


def test_a_job_starting_stops_the_measurement_which_retries_after(qtbot):
    worker = CostWorker(idle_ms=10, measure_latency=False, poll_ms=20)
    calls = [0]
    release = [False]

    def busy():  # free for the launch checks, then a job starts during the timed runs
        calls[0] += 1
        return 3 < calls[0] and not release[0]

    worker.jobs_busy = busy
    states, results = [], []
    worker.latency_state.connect(lambda _k, s: states.append(s))
    worker.latency_ready.connect(lambda _k, r: results.append(r))
    worker.request("doc", tiny())
    qtbot.wait(100)
    assert not states[1:] and not results  # measure_latency off: not measured when idle
    worker.measure("doc", tiny())
    qtbot.waitUntil(lambda: states.count(WAITING_FOR_JOB) >= 1, timeout=60000)
    assert not results
    release[0] = True
    qtbot.waitUntil(lambda: bool(results), timeout=60000)
    worker.shutdown()


def test_the_measure_button_shows_the_median_and_spread(window, qtbot):
    doc = window.open_design(tiny())
    assert window.metrics.latency.value.text() == "—"
    window.metrics.measure.click()
    qtbot.waitUntil(lambda: doc.cost.get("latency") is not None, timeout=60000)
    text = window.metrics.latency.value.text()
    assert text == latency_text(doc.cost["latency"])[0] and " ms ±" in text and "middle half" in window.metrics.latency.value.toolTip()
    doc.set_edge_op("normal", 0, "nor_conv_1x1")
    assert window.metrics.latency.value.text() == "—"  # the figure was the old design's


def test_latency_text():
    text, tip = latency_text({"median_ms": 12.34, "p25_ms": 12.0, "p75_ms": 12.8, "min_ms": 11.0,
                              "max_ms": 30.0, "repeats": 15, "device": "cpu", "batch": 1})
    assert text == "12.3 ms ±0.4"
    assert "12.0–12.8 ms" in tip and "15 runs on cpu" in tip


def test_stage_fields_still_cost_after_an_edit(window):
    doc = window.open_preset("efficientnet-b0")
    doc.insert_stage(1, Stage("ir", 1, 3, 1, 4, 24, 0.25, "silu"))
    assert window.metrics.summary["params"] == design_cost(doc.design).params
