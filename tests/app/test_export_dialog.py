"""The export dialog: refuses the store, asks before replacing, shows the whole path."""

from __future__ import annotations

from PySide6.QtCore import Qt

from engine.events import JobFinished
from tests.stored_run import add_stored_run


def test_export_dialog_refuses_the_store_and_asks_before_replacing(qtbot, studio, tmp_path):
    window, ui, store = studio
    run_id, _ckpt = add_stored_run(store)
    dialog = ui.export_dialog(run_id, show=False)
    qtbot.addWidget(dialog)
    before = store.path.read_bytes()
    dialog.path.setText(str(store.path))
    assert dialog.start_export() is None
    assert "experiment store" in dialog.status.text()
    assert store.path.read_bytes() == before

    target = tmp_path / "model.onnx"
    target.write_bytes(b"precious")
    asked = []
    dialog.confirm_replace = lambda path: asked.append(path) or False
    dialog.path.setText(str(target))
    assert dialog.start_export() is None
    assert asked == [target] and "already exists" in dialog.status.text()
    assert target.read_bytes() == b"precious"

    dialog.confirm_replace = lambda path: asked.append(path) or True
    with qtbot.waitSignal(dialog.export_finished, timeout=120000) as sig:
        qtbot.mouseClick(dialog.export_button, Qt.LeftButton)
    assert isinstance(sig.args[0], JobFinished), getattr(sig.args[0], "details", sig.args[0])
    assert len(asked) == 2 and target.read_bytes() != b"precious"
    art = store.artifacts(run_id)
    assert art[-1]["path"] == str(target)


def test_the_studio_browses_a_read_only_store(qtbot, tmp_path):
    from app.main import install_jobs
    from app.main_window import MainWindow
    from engine.store import Store
    from tests.stored_run import read_only_folder

    folder = tmp_path / "ro"
    folder.mkdir()
    db = folder / "experiments.db"
    with Store(db) as store:
        run_id, _ckpt = add_stored_run(store)
    with read_only_folder(folder):
        window = MainWindow(db=str(db))
        window.cost.measure_latency = False
        install_jobs(window)
        ui = window.job_ui
        qtbot.addWidget(window, before_close_func=lambda _w: ui.shutdown())
        try:
            assert ui.store.read_only
            assert [r["run"] for r in ui.browser.visible_records()] == [run_id]
            logged = [window.log.item(i).text() for i in range(window.log.count())]
            assert any("opened read-only" in line and str(db) in line for line in logged)
        finally:
            ui.shutdown()
            window.cost.shutdown()
            ui.store.close()


def test_export_dialog_shows_the_whole_path_opens_the_folder_and_clears_on_format_change(
        qtbot, studio, tmp_path):
    window, ui, store = studio
    run_id, _ckpt = add_stored_run(store)
    dialog = ui.export_dialog(run_id, show=False)
    qtbot.addWidget(dialog)
    deep = tmp_path / ("a-rather-long-folder-name-" * 4) / "nested" / "model.onnx"
    dialog.path.setText(str(deep))
    assert str(deep) in dialog.destination.text()
    assert not dialog.open_button.isEnabled()
    with qtbot.waitSignal(dialog.export_finished, timeout=120000) as sig:
        dialog.start_export()
    assert isinstance(sig.args[0], JobFinished), getattr(sig.args[0], "details", sig.args[0])
    assert str(deep) in dialog.status.text() and dialog.open_button.isEnabled()
    opened = []
    dialog.open_url = opened.append
    qtbot.mouseClick(dialog.open_button, Qt.LeftButton)
    assert [u.toLocalFile() for u in opened] == [str(deep.parent)]
    dialog.set_format("bundle")  # the ONNX result no longer applies
    assert dialog.result is None and not dialog.open_button.isEnabled()
    assert "Verified" not in dialog.status.text() and "bundle" in dialog.path.text()
    assert "folder" in dialog.destination.text()


def test_a_trial_without_weights_says_why_and_can_be_trained_and_exported(qtbot, studio,
                                                                        tmp_path):
    from engine.train import TrainConfig
    from tests.stored_run import tiny_cell_design

    window, ui, store = studio
    key = store.add_design(tiny_cell_design())
    exp = store.create_experiment("search", {}, environment={"python": "test"})
    config = {"train": TrainConfig(epochs=1, batch_size=64, subset=64, checkpoint=False,
                                   augment=False).to_dict(),
              "dataset": {"name": "digits", "seed": 0, "image_size": None}}
    trial_run = store.create_run(exp, key, config=config)
    store.update_run(trial_run, status="finished", test_accuracy=0.4)
    dialog = ui.export_dialog(trial_run, show=False)
    qtbot.addWidget(dialog)
    assert dialog.run.currentData() == trial_run
    index = dialog.run.currentIndex()
    assert "kept no weights" in dialog.run.itemData(index, Qt.ItemDataRole.ToolTipRole)
    assert not dialog.export_button.isEnabled()
    assert "kept no weights" in dialog.export_button.toolTip()
    assert "kept no weights" in dialog.status.text()
    assert dialog.start_export() is None
    assert dialog.train_button.isEnabled()
    target = tmp_path / "trial.onnx"
    dialog.path.setText(str(target))
    with qtbot.waitSignal(dialog.export_finished, timeout=300000) as sig:
        qtbot.mouseClick(dialog.train_button, Qt.LeftButton)
    assert isinstance(sig.args[0], JobFinished), getattr(sig.args[0], "details", sig.args[0])
    new_run = dialog.run.currentData()
    assert new_run != trial_run and store.get_run(new_run).checkpoint
    assert target.is_file() and store.artifacts(new_run)[-1]["path"] == str(target)
    assert store.get_run(new_run).config["train"]["seed"] == config["train"]["seed"]
