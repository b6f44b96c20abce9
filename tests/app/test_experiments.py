"""The experiments browser over a real store: rows, sorting, filters, details, actions."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from app.panels.experiments import COLUMNS, ExperimentsBrowser
from engine.arch.serialize import design_hash
from engine.arch.space import NB201Space
from engine.store import Store

KEYS = [key for _header, key in COLUMNS]
ENV = {"python": "3.11", "torch": "test", "device": "cpu"}


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "exp.db")
    space = NB201Space()
    d1, d2 = space.decode([3, 3, 3, 3, 3, 3]), space.decode([1, 2, 1, 2, 1, 0])
    h1, h2 = s.add_design(d1), s.add_design(d2)
    e1 = s.create_experiment("train", {"dataset_name": "digits"}, seed=0, name="big cell",
                             environment=ENV)
    r1 = s.create_run(e1, h1, config={"dataset_name": "digits", "train": {"epochs": 3}})
    for ep, acc in enumerate([0.5, 0.8, 0.9], start=1):
        s.add_epoch(r1, ep, train_loss=1.0 / ep, train_accuracy=acc, val_loss=1.2 / ep,
                    val_accuracy=acc - 0.05, lr=0.05, seconds=1.0)
    checkpoint = tmp_path / "last.pt"   # exportable: the engine checks the file is there
    checkpoint.write_bytes(b"weights")
    s.update_run(r1, status="finished", params=250_000, macs=9e6, test_accuracy=0.91,
                 best_val_accuracy=0.85, checkpoint=str(checkpoint))
    s.add_artifact(r1, "onnx", "/tmp/run1.onnx", "abc", 1234, True, {"max_abs_diff": 1e-7})
    e2 = s.create_experiment("train", {"dataset_name": "mnist"}, name="small cell",
                             environment=ENV)
    r2 = s.create_run(e2, h2, config={"dataset_name": "mnist"})
    s.add_epoch(r2, 1, train_loss=2.0, train_accuracy=0.3, val_loss=2.1, val_accuracy=0.3)
    s.update_run(r2, status="interrupted", params=40_000, macs=1e6, best_val_accuracy=0.3)
    e3 = s.create_experiment("search", {"strategy": "evolution",
                                        "evaluator": {"kind": "train", "dataset": "digits",
                                                      "objective": "val_accuracy"}},
                             name="evo", environment=ENV)
    for t, acc in enumerate([0.6, 0.7]):
        s.add_trial(e3, t, status="finished", arch=d2,
                    metrics={"val_accuracy": acc, "test_accuracy": acc - 0.02})
    s.set_experiment_status(e3, "interrupted")
    s.ids = {"e1": e1, "e2": e2, "e3": e3, "r1": r1, "r2": r2}
    yield s
    s.close()


@pytest.fixture
def browser(qtbot, store):
    b = ExperimentsBrowser(store)
    qtbot.addWidget(b)
    return b


def _runs(b: ExperimentsBrowser) -> list:
    return [(r["experiment"], r["run"]) for r in b.visible_records()]


def test_rows_and_sorting(browser, store):
    ids = store.ids
    assert len(browser.visible_records()) == 3
    col = KEYS.index("test_acc")
    browser.table.sortByColumn(col, Qt.DescendingOrder)
    assert _runs(browser) == [(ids["e1"], ids["r1"]), (ids["e3"], None), (ids["e2"], ids["r2"])]
    browser.table.sortByColumn(KEYS.index("params"), Qt.AscendingOrder)
    assert _runs(browser)[1:] == [(ids["e2"], ids["r2"]), (ids["e1"], ids["r1"])]
    search = [r for r in browser.visible_records() if r["run"] is None][0]
    assert search["kind"] == "search · evolution" and search["val_acc"] == pytest.approx(0.7)
    assert search["test_acc"] == pytest.approx(0.68)


def test_filters(browser, store):
    ids = store.ids
    browser.status_box.setCurrentText("interrupted")
    assert {r["experiment"] for r in browser.visible_records()} == {ids["e2"], ids["e3"]}
    browser.kind_box.setCurrentText("search")
    assert _runs(browser) == [(ids["e3"], None)]
    browser.kind_box.setCurrentText("search · evolution")
    assert _runs(browser) == [(ids["e3"], None)]
    browser.kind_box.setCurrentText("search · random")
    assert _runs(browser) == []
    browser.status_box.setCurrentIndex(0)
    browser.kind_box.setCurrentIndex(0)
    browser.dataset_edit.setText("mni")
    assert _runs(browser) == [(ids["e2"], ids["r2"])]
    browser.dataset_edit.setText("")
    browser.min_acc.setValue(0.65)
    assert {r["experiment"] for r in browser.visible_records()} == {ids["e1"], ids["e3"]}
    browser.min_acc.setValue(0.0)
    browser.max_params.setText("100k")
    assert _runs(browser) == [(ids["e2"], ids["r2"])]
    browser.max_params.setText("lots")
    assert "color" in browser.max_params.styleSheet()      # marked, filter ignored
    assert len(browser.visible_records()) == 3
    assert browser.count.text() == "3 of 3 rows"


def test_detail_pane_shows_config_environment_curves_artifacts(browser, store):
    ids = store.ids
    assert browser.select(ids["e1"], ids["r1"])
    assert "0.91" in browser.summary.toPlainText()
    assert '"epochs": 3' in browser.config_view.toPlainText()
    assert '"device": "cpu"' in browser.env_view.toPlainText()
    browser.curves.flush()
    assert [p[1] for p in browser.curves.points("train_accuracy")] == [0.5, 0.8, 0.9]
    x, _ = browser.curves.curves["val_accuracy"].getData()
    assert list(x) == [1, 2, 3]
    assert browser.artifacts.topLevelItemCount() == 1
    assert browser.artifacts.topLevelItem(0).text(3) == "yes"
    assert browser.export_button.isEnabled() and not browser.resume_button.isEnabled()


def test_resume_requests(qtbot, browser, store):
    ids = store.ids
    browser.select(ids["e2"], ids["r2"])
    assert browser.resume_button.isEnabled()
    with qtbot.waitSignal(browser.resume_requested) as sig:
        qtbot.mouseClick(browser.resume_button, Qt.LeftButton)
    assert sig.args == ["run", ids["r2"]]
    browser.select(ids["e3"], None)
    with qtbot.waitSignal(browser.resume_requested) as sig:
        browser.resume_selected()
    assert sig.args == ["experiment", ids["e3"]]


def test_rename_and_delete_need_confirmation(browser, store, monkeypatch):
    ids = store.ids
    browser.select(ids["e1"], ids["r1"])
    monkeypatch.setattr(browser, "ask_name", lambda current: "renamed")
    monkeypatch.setattr(browser, "confirm", lambda title, text: False)
    browser.rename_selected()
    assert store.get_experiment(ids["e1"]).name == "big cell"
    monkeypatch.setattr(browser, "confirm", lambda title, text: True)
    browser.rename_selected()
    assert store.get_experiment(ids["e1"]).name == "renamed"
    assert browser.selected_record()["name"] == "renamed"      # selection kept
    asked = []
    monkeypatch.setattr(browser, "confirm", lambda title, text: asked.append(text) or False)
    browser.delete_selected()
    assert "1 run(s)" in asked[0] and len(store.runs()) == 2
    monkeypatch.setattr(browser, "confirm", lambda title, text: True)
    browser.delete_selected()
    assert [r.id for r in store.runs()] == [ids["r2"]]
    assert len(browser.visible_records()) == 2


def test_open_design_emits_the_runs_design(qtbot, browser, store):
    ids = store.ids
    browser.select(ids["e2"], ids["r2"])
    with qtbot.waitSignal(browser.design_requested) as sig:
        browser.open_design()
    design, info = sig.args
    assert design_hash(design) == design_hash(NB201Space().decode([1, 2, 1, 2, 1, 0]))
    assert info["run_id"] == ids["r2"]


def test_summary_rounds_fractions_and_escapes_text(browser, store):
    ids = store.ids
    store.update_run(ids["r2"], best_val_accuracy=0.7444444444444445,
                     error="RuntimeError: size <3x3> too small")
    browser.refresh()
    assert browser.select(ids["e2"], ids["r2"])
    text = browser.summary.toPlainText()
    assert "0.7444" in text and "0.74444" not in text
    assert "size <3x3> too small" in text
