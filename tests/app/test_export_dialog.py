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
