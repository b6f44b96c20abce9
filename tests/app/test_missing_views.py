"""Views the reference tools have: the per-stage/per-cell cost table of the open design."""

from __future__ import annotations

from engine.cost import summarize


def test_the_cost_table_lists_each_stage_and_follows_edits(window):
    doc = window.open_preset("efficientnet-b0")
    window.docks["Cost table"].raise_()
    table = window.cost_table
    parts = table.column(0)
    assert parts[0] == "stem" and parts[1].startswith("stage 1") and parts[-1] == "total"
    expected = summarize(doc.design, table=True)
    assert len(parts) == len(expected["table"]) + 1
    params = [int(table.table.item(r, 2).toolTip().split()[0].replace(",", ""))
              for r in range(table.table.rowCount())]
    assert sum(params[:-1]) == params[-1] == 5_288_548
    assert table.column(1)[0] == "32×112×112"
    doc.set_stage(6, channels=400)
    assert table.column(0)[7].startswith("stage 7 (ir k3 s1 e6 c400")
    assert int(table.table.item(table.table.rowCount() - 1, 2).toolTip().split()[0]
               .replace(",", "")) == summarize(doc.design)["params"]


def test_the_cost_table_of_a_cell_and_of_an_invalid_design(window):
    doc = window.open_preset("darts-v2")
    window.docks["Cost table"].raise_()
    assert window.cost_table.column(0)[1] == "cell 0 (normal)"
    assert doc.connect_nodes("normal", 5, 2, "skip_connect")
    assert window.cost_table.table.rowCount() == 0
    assert "errors" in window.cost_table.note.text()


def test_a_searchs_trial_curves_are_live_and_a_pareto_point_shows_its_stored_curves(
        qtbot, studio):
    from app.jobs import factory
    from engine.events import EpochFinished, JobFinished

    window, ui, store = studio
    seen: list[EpochFinished] = []
    ui.runner.event_received.connect(
        lambda e: seen.append(e) if isinstance(e, EpochFinished) else None)
    job = factory.search_job({"space": "nas-bench-201", "strategy": "random", "budget": 2,
                              "epochs_per_trial": 1, "subset": 64, "seed": 3}, store)
    ended = []
    ui.runner.job_ended.connect(ended.append)
    ui.submit(job)
    qtbot.waitUntil(lambda: bool(ended), timeout=120_000)
    assert isinstance(ended[0], JobFinished), ended[0]
    runs = {e.run_id for e in seen}
    assert len(runs) == 2                                    # each trial's epochs, live
    assert ui.curves.run_id in runs and ui.curves.points("val_accuracy")
    assert "(live)" not in ui.curves.title.text()
    qtbot.waitUntil(lambda: len(ui.pareto.points) >= 2, timeout=10_000)
    i = next(k for k, p in enumerate(ui.pareto.points) if p.run_id is not None)
    ui.curves.clear(None, "")
    ui.pareto.select(i)
    run_id = ui.pareto.points[i].run_id
    assert ui.curves.run_id == run_id and "(stored)" in ui.curves.title.text()
    assert len(ui.curves.points("val_accuracy")) == len(store.epochs(run_id)) == 1
    # double-click opens the design the trial trained: digits' 1x8x8 input, not 3x32x32
    from engine.builders import input_shape_of

    opened = []
    ui.pareto.design_requested.connect(lambda design, info: opened.append(design))
    ui.pareto.request_design(i)
    assert tuple(input_shape_of(opened[0])) == (1, 8, 8)


def test_the_trials_table_sorts_and_counts_rejected_trials(qtbot, tmp_path):
    from PySide6.QtCore import Qt

    from app.panels.experiments import ExperimentsBrowser
    from engine.store import Store

    store = Store(tmp_path / "t.db")
    exp = store.create_experiment("search", {"strategy": "random",
                                             "evaluator": {"objective": "accuracy"},
                                             "objectives": ["accuracy", "params"]})
    rows = [(0, "finished", {"accuracy": 0.81, "params": 120_000.0}, None),
            (1, "rejected", {"params": 900_000.0}, "params 900,000 > max 500,000"),
            (2, "finished", {"accuracy": 0.93, "params": 300_000.0}, None),
            (3, "failed", {}, "RuntimeError: out of memory"),
            (4, "finished", {"accuracy": 0.9, "params": 45_000.0}, None)]
    for trial, status, metrics, error in rows:
        store.add_trial(exp, trial, status=status, metrics=metrics, error=error)
    browser = ExperimentsBrowser(store)
    qtbot.addWidget(browser)
    assert browser.select(exp, None)
    table = browser.trials
    assert table.counts.text() == ("5 trials: 3 finished, 1 rejected (broke a constraint), "
                                   "1 failed")
    assert table.column("trial") == ["0", "1", "2", "3", "4"]
    c = [table.model.horizontalHeaderItem(i).text()
         for i in range(table.model.columnCount())].index("accuracy")
    table.view.sortByColumn(c, Qt.SortOrder.DescendingOrder)
    assert table.column("accuracy")[:3] == ["0.9300", "0.9000", "0.8100"]
    assert table.column("trial")[-2:] in (["1", "3"], ["3", "1"])   # no accuracy: last
    assert "max 500,000" in " ".join(table.column("reason"))
    store.close()
