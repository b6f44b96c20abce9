"""Main window: presets, files, prompts, import/export, metrics, fast start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from app.canvas.cell_editor import CellEditor
from app.canvas.stack_editor import StackEditor
from app.main import EXAMPLE_PRESETS, open_initial
from app.main_window import MainWindow
from app.panels.dialogs import DesignImportError
from engine.arch.presets import NB201_BEST, get_preset, preset_names
from engine.arch.serialize import design_to_dict, load_design

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def window(qtbot, request):
    w = MainWindow()
    w.cost.measure_latency = False
    w.cost.enabled = "cost" in request.node.name
    w.ask_save_changes = lambda doc: "discard"  # never a modal box at teardown
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()


def test_starts_with_the_example_designs(window):
    open_initial(window, [])
    assert window.tabs.count() == len(EXAMPLE_PRESETS)
    assert isinstance(window.tabs.widget(0), CellEditor)
    assert isinstance(window.tabs.widget(1), StackEditor)
    assert [d.design.name for d in window.documents] == list(EXAMPLE_PRESETS)
    assert window.windowTitle() == "darts-v2 — NAS Studio"


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_opens_valid(window, name):
    doc = window.open_preset(name)
    assert window.current_doc() is doc
    assert not doc.errors(), [p.message for p in doc.errors()]
    assert window.metrics.validity.value.text().startswith("✔")


def test_window_is_shown_before_torch_is_imported(tmp_path):
    code = ("import sys, time\n"
            "from app.main import create_app\n"
            "from app.main_window import MainWindow\n"
            "app = create_app()\n"
            "w = MainWindow(); w.show(); app.processEvents()\n"
            "print('torch' in sys.modules, w.isVisible())\n")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", NAS_STUDIO_DATA_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-2:] == ["False", "True"]


def test_save_and_load_round_trip_keeps_positions(window, tmp_path):
    doc = window.open_preset("darts-v2")
    window.current_editor().auto_layout()
    doc.set_edge_op("normal", 1, "dil_conv_5x5")
    path = str(tmp_path / "cell.json")
    assert window.save_as(doc, path)
    assert not doc.is_modified() and doc.path == path
    assert window.tabs.tabText(window.tabs.currentIndex()) == "cell.json"
    loaded = load_design(path)
    assert loaded == doc.design
    assert loaded.normal.positions == doc.design.normal.positions != {}
    window.close_tab(window.tabs.currentIndex())
    again = window.open_file(path)
    assert again is not None and design_to_dict(again.design) == design_to_dict(loaded)
    assert window.settings.recent_files()[0] == str(Path(path).resolve())


def test_saving_an_invalid_design_asks_and_never_saves_silently(window, tmp_path):
    doc = window.open_preset("darts-v2")
    doc.connect_nodes("normal", 5, 2, "sep_conv_3x3")  # a cycle 2 -> 5 -> 2
    assert any("cycle" in p.message for p in doc.errors())
    asked = []
    window.ask_save_invalid = lambda d: asked.append(d) or False
    path = tmp_path / "bad.json"
    assert not window.save_as(doc, str(path))
    assert asked == [doc] and not path.exists()
    assert any("cycle" in m for m in window.log.messages())
    assert window.metrics.validity.value.text().startswith("✖")
    window.ask_save_invalid = lambda d: True
    assert window.save_as(doc, str(path)) and path.exists()
    reopened = window.open_file(str(path))  # opens with the problems marked
    assert reopened is not None and any("cycle" in p.message for p in reopened.errors())


def test_unsaved_changes_prompt_on_close(window):
    doc = window.open_preset("efficientnet-b0")
    doc.set_stage(0, kernel=5)
    assert doc.is_modified() and window.tabs.tabText(window.tabs.currentIndex()).endswith("*")
    answers = iter(["cancel", "discard"])
    window.ask_save_changes = lambda d: next(answers)
    index = window.tabs.currentIndex()
    assert not window.close_tab(index) and doc in window.documents
    assert window.close_tab(index) and doc not in window.documents


def test_undo_redo_actions_follow_the_active_tab(window):
    cell = window.open_preset("darts-v2")
    cell.set_edge_op("normal", 0, "none")
    stack = window.open_preset("mobilenet-v2")
    assert window.undo_group.activeStack() is stack.undo_stack
    assert not window.act_undo.isEnabled()
    window.tabs.setCurrentIndex(window.tab_index(cell))
    assert window.act_undo.isEnabled()
    window.act_undo.trigger()
    assert cell.design == get_preset("darts-v2")
    window.act_redo.trigger()
    assert cell.design.normal.edges[0].op == "none"


def test_shortcuts_follow_platform_conventions(window):
    from PySide6.QtGui import QKeySequence

    assert window.act_undo.shortcut() == QKeySequence(QKeySequence.StandardKey.Undo)
    assert window.act_save.shortcut() == QKeySequence(QKeySequence.StandardKey.Save)
    assert window.act_delete.shortcut() == QKeySequence(QKeySequence.StandardKey.Delete)
    assert window.act_fit.shortcut() == QKeySequence("Ctrl+0")


def test_import_genotype_nb201_and_bad_text(window):
    from engine.arch.genotype import format_genotype

    text = format_genotype(get_preset("darts-v2"))
    doc = window.import_text(text)
    assert doc.design.normal == get_preset("darts-v2").normal
    nb = window.import_text(NB201_BEST, kind="nb201")
    assert nb.design.macro.style == "nb201" and isinstance(window.current_editor(), CellEditor)
    with pytest.raises(DesignImportError) as err:
        window.import_text("Genotype(normal=[('sep_conv_3x3', 0)")
    assert str(err.value)


def test_export_design_text_and_json(window, tmp_path):
    window.open_preset("darts-v2")
    assert window.export_design(str(tmp_path / "g.txt"))
    assert (tmp_path / "g.txt").read_text().startswith("Genotype(")
    assert window.export_design(str(tmp_path / "d.json"))
    assert json.loads((tmp_path / "d.json").read_text())["kind"] == "cell"


def test_add_dock_and_window_state_are_remembered(window, qtbot):
    extra = QLabel("later panel")
    dock = window.add_dock(extra, "Experiments", Qt.DockWidgetArea.BottomDockWidgetArea)
    assert dock.widget() is extra and dock.toggleViewAction() in window.view_menu.actions()
    window.docks["Log"].hide()
    window.close()
    second = MainWindow()
    qtbot.addWidget(second)
    second.add_dock(QLabel("later panel"), "Experiments",
                    Qt.DockWidgetArea.BottomDockWidgetArea)
    second.restoreState(second.settings.window_state())
    assert second.docks["Log"].isHidden()
    second.cost.shutdown()


def test_metrics_show_the_cost_computed_off_the_gui_thread(window, qtbot):
    doc = window.open_preset("nas-bench-201-best")
    qtbot.waitUntil(lambda: doc.cost is not None, timeout=60000)
    assert window.metrics.summary["params"] == doc.cost["params"] > 0
    assert window.metrics.params.value.text().endswith("k") or "M" in \
        window.metrics.params.value.text()
    assert "torchvision" in window.metrics.macs.toolTip()


def test_palette_drag_payload_drops_onto_the_canvas(window):
    doc = window.open_preset("darts-v2")
    palette = window.palette
    mime = palette.tree.mimeData([palette.items["avg_pool_3x3"]])
    scene = window.current_editor().scenes["normal"]
    assert scene.handle_drop(mime, scene.edge_items[2]._label_rect.center())
    assert doc.design.normal.edges[2].op == "avg_pool_3x3"
    block = palette.tree.mimeData([palette.items["ir"]])
    assert not scene.handle_drop(block, scene.edge_items[2]._label_rect.center())
    palette.set_current_op("dil_conv_5x5")
    assert scene.connect_op() == "dil_conv_5x5"


def test_inspector_follows_the_selection_and_edits_through_undo(window, qtbot):
    doc = window.open_preset("darts-v2")
    scene = window.current_editor().scenes["reduce"]
    scene.edge_items[0].setSelected(True)
    combo = window.inspector.fields["op"]
    assert combo.currentData() == doc.design.reduce.edges[0].op == "max_pool_3x3"
    combo.setCurrentIndex(combo.findData("sep_conv_7x7"))
    combo.activated.emit(combo.currentIndex())
    assert doc.design.reduce.edges[0].op == "sep_conv_7x7"
    qtbot.waitUntil(lambda: window.inspector.fields.get("op") is not None
                    and window.inspector.fields["op"].currentData() == "sep_conv_7x7")
    scene.clearSelection()
    scene.node_items[3].setSelected(True)
    window.inspector.fields["in_output"].setChecked(False)
    assert 3 not in doc.design.reduce.concat
    window.act_undo.trigger()
    window.act_undo.trigger()
    assert doc.design == get_preset("darts-v2")


def test_delete_action_and_new_designs(window):
    doc = window.new_design("cell")
    editor = window.current_editor()
    editor.scenes["normal"].node_items[2].setSelected(True)
    window.act_delete.trigger()
    assert doc.design.normal.nodes == [] and doc.errors()  # an empty cell is marked invalid
    stack = window.new_design("stack")
    assert isinstance(window.current_editor(), StackEditor) and len(stack.design.stages) == 2
    assert window.tabs.count() == 2


def _run_app_window(qtbot, qapp, monkeypatch, db):
    """run_app without its event loop; returns the one MainWindow it showed."""
    from PySide6.QtWidgets import QApplication

    from app import main as app_main

    before = list(QApplication.topLevelWidgets())
    monkeypatch.setattr(qapp, "exec", lambda: 0)  # the event loop is qtbot's here
    assert app_main.run_app([], db=db) == 0
    windows = [w for w in QApplication.topLevelWidgets()
               if isinstance(w, MainWindow) and w.isVisible() and not any(w is b for b in before)]
    assert len(windows) == 1
    window = windows[0]
    window.ask_save_changes = lambda doc: "discard"
    ui = getattr(window, "job_ui", None)
    qtbot.addWidget(window, before_close_func=lambda _w: ui and ui.shutdown())
    window.cost.enabled = False
    return window


def test_run_app_shows_the_window_then_opens_the_examples(qtbot, qapp, monkeypatch, tmp_path):
    window = _run_app_window(qtbot, qapp, monkeypatch, str(tmp_path / "studio.db"))
    assert window.isVisible() and window.documents == []  # shown first, designs next
    assert window.job_ui is not None and "Run" in [a.text().replace("&", "")
                                                   for a in window.menuBar().actions()]
    assert {"Jobs", "Experiments", "Pareto", "Training"} <= set(window.docks)
    qtbot.waitUntil(lambda: len(window.documents) == len(EXAMPLE_PRESETS))
    assert [d.design.name for d in window.documents] == list(EXAMPLE_PRESETS)


def test_run_app_with_a_database_that_is_not_sqlite(qtbot, qapp, monkeypatch, tmp_path):
    from app.main_window import MainWindow as Window

    bad = tmp_path / "notes.db"
    bad.write_text("not a database\n")
    shown = []
    monkeypatch.setattr(Window, "show_error", lambda self, title, text: shown.append(text))
    window = _run_app_window(qtbot, qapp, monkeypatch, str(bad))
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    assert "not a NAS Studio database" in shown[0]
    assert any("Experiment store unavailable" in m for m in window.log.messages())
    assert bad.read_text() == "not a database\n"  # untouched
    qtbot.waitUntil(lambda: len(window.documents) == len(EXAMPLE_PRESETS))  # editors still work


def test_import_and_export_timm_block_strings(window, tmp_path):
    from engine.arch.presets import B0_BLOCKS

    doc = window.import_text("\n".join(B0_BLOCKS))
    assert isinstance(window.current_editor(), StackEditor)
    assert doc.design.stages == get_preset("efficientnet-b0").stages
    assert window.export_design(str(tmp_path / "blocks.txt"))
    assert (tmp_path / "blocks.txt").read_text().split() == list(B0_BLOCKS)
