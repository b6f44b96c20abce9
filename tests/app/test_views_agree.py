"""Every view reads the engine's one vocabulary: the experiment's own objectives, one
front/best/hypervolume, the design a trial evaluated."""

from __future__ import annotations

import pytest

from app.panels.experiments import row_records
from app.panels.pareto import ParetoExplorer
from engine.arch.space import NB201Space
from engine.search.job import SearchConfig, SearchJob
from engine.search.synthetic import write_synthetic_table
from engine.store import Store


def _table(path, objective="val_accuracy", report="test_accuracy"):
    path = write_synthetic_table(path)
    lines = path.read_text().splitlines()
    lines[0] = lines[0].replace("val_accuracy", objective).replace("test_accuracy", report)
    path.write_text("\n".join(lines) + "\n")
    return path


def _search(tmp_path, store, objective="val_accuracy", report="test_accuracy", **kw):
    table = _table(tmp_path / "t.csv", objective, report)
    cfg = SearchConfig(space=NB201Space().spec(),
                       evaluator={"kind": "tabular", "path": str(table),
                                  "objective": objective, "report": report}, **kw)
    events = []
    result = SearchJob(cfg, store).run(events.append)
    assert result is not None
    return result, events


def test_a_tabular_objective_column_of_any_name_is_plotted(qtbot, tmp_path):
    store = Store(tmp_path / "s.db")
    try:
        result, events = _search(tmp_path, store, "valid_acc", "test_acc", strategy="random",
                                 budget=10, objectives=["accuracy", "params"])
        assert result["best"] is not None and result["counts"] == {"finished": 10}
        stored = ParetoExplorer()
        qtbot.addWidget(stored)
        assert stored.load_from_store(store) == 10        # today: 0 points
        live = ParetoExplorer()
        qtbot.addWidget(live)
        for ev in events:
            live.on_event(ev)
        assert len(live.points) == 10
        values = sorted(t.objectives["valid_acc"] for t in store.trials(result["experiment_id"]))
        assert sorted(p.accuracy for p in stored.points) == values
        assert "valid_acc" in stored.describe(0)
    finally:
        store.close()


def test_plot_browser_and_search_share_front_best_and_hypervolume(qtbot, tmp_path):
    store = Store(tmp_path / "s.db")
    try:
        result, events = _search(tmp_path, store, strategy="random", budget=30, seed=0,
                                 objectives=["accuracy", "params"],
                                 constraints={"max_params": 0.3})
        trials = store.trials(result["experiment_id"])
        finished = [t for t in trials if t.status == "finished"]
        # the reward's best is not simply the most accurate trial here
        assert max(finished, key=lambda t: t.objective).trial != result["best"]["trial"]
        w = ParetoExplorer(redraw_ms=20)
        qtbot.addWidget(w)
        w.set_constraints(max_params=0.3)
        w.load_from_store(store)
        w.redraw()
        plotted = sorted(w.points[i].trial for i in w.front_indices)
        assert plotted == sorted(p["trial"] for p in result["pareto"])
        assert w.hv_history[-1][1] == pytest.approx(result["hypervolume"]["value"])
        (row,) = [r for r in row_records(store) if r["run"] is None]
        assert row["val_acc"] == result["best"]["objective"]       # one "best"
        assert row["test_acc"] == result["best"]["report"]
    finally:
        store.close()


def test_a_pareto_point_opens_the_design_its_trial_evaluated(qtbot, tmp_path):
    """The trial records the design adapted to the dataset (1x8x8 digits, 10 classes),
    so the opened design costs what the point says."""
    from engine.arch.serialize import design_from_dict, design_hash
    from engine.arch.space import DartsSpace
    from engine.cost import summarize
    from engine.events import TrialFinished
    from engine.search.evaluators import TrainEvaluator

    store = Store(tmp_path / "s.db")
    try:
        evaluator = TrainEvaluator("digits", epochs=1, subset=64, batch_size=64)
        cfg = SearchConfig(space=DartsSpace(channels=4, layers=2).spec(),
                           evaluator=evaluator.spec(), strategy="random", budget=1,
                           objectives=["accuracy", "params"])
        events = []
        result = SearchJob(cfg, store, evaluator=evaluator).run(events.append)
        assert result is not None
        (trial,) = store.trials(result["experiment_id"])
        run = store.get_run(trial.run_id)
        assert trial.design_hash == run.design_hash
        (live,) = [e.record for e in events if isinstance(e, TrialFinished)]
        assert design_hash(design_from_dict(live.arch)) == run.design_hash
        assert live.arch["macro"]["input_shape"] == [1, 8, 8]
        for feed in ("store", "live"):
            w = ParetoExplorer()
            qtbot.addWidget(w)
            if feed == "store":
                w.load_from_store(store)
            else:
                w.add_trial(live)
            design = w.design_of(0)
            summary = summarize(design, table=False, memory=False)
            assert summary["params"] == w.points[0].costs["params"] == trial.value("params")
            assert summary["macs"] == run.macs
    finally:
        store.close()


def _runs_for_pickers(store, tmp_path):
    """A finished trained run and its int8 ONNX child (whose model is an ONNX file)."""
    from engine.arch.presets import get_preset

    h = store.add_design(get_preset("nas-bench-201-best"))
    exp = store.create_experiment("train", {}, environment={"python": "test"})
    weights, onnx = tmp_path / "best.pt", tmp_path / "int8.onnx"
    weights.write_bytes(b"weights")
    onnx.write_bytes(b"onnx")
    trained = store.create_run(exp, h, config={"dataset": {"name": "digits"}})
    store.update_run(trained, status="finished", checkpoint=str(weights), test_accuracy=0.9)
    int8 = store.create_run(exp, h, kind="compress", parent_id=trained,
                            recipe={"format": "onnx-int8", "method": "quantize-int8"})
    store.update_run(int8, status="finished", checkpoint=str(onnx), test_accuracy=0.89)
    return trained, int8


def test_run_pickers_offer_only_what_the_engine_accepts(qtbot, tmp_path):
    from app.jobs.dialogs import CompressDialog
    from app.jobs.export_dialog import ExportDialog
    from app.workers import JobRunner
    from engine.compress.runs import can_compress
    from engine.export.formats import can_export

    store = Store(tmp_path / "s.db")
    runner = JobRunner()
    try:
        trained, int8 = _runs_for_pickers(store, tmp_path)
        assert not can_compress(store.get_run(int8))
        assert "int8 ONNX" in can_export(store.get_run(int8), "onnx").reason
        assert can_compress(store.get_run(trained)) and can_export(store.get_run(trained), "onnx")
        for dialog in (CompressDialog(store), ExportDialog(store, runner)):
            qtbot.addWidget(dialog)
            offered = [dialog.run.itemData(i) for i in range(dialog.run.count())]
            assert offered == [trained]          # today the int8 run is offered too
    finally:
        assert runner.shutdown(5000)
        store.close()
