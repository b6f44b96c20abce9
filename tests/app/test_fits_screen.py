"""Fits the screen: 1280x800, the Pareto dock, the issues strip, the first-start hint,
the palette's names and where Save dialogs open."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint

from app.canvas.items import LOD_DETAIL
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
import json, sys, tempfile
from PySide6.QtCore import QByteArray
from app.main import create_app
app = create_app()
from app.main_window import MainWindow
from app.settings import Settings
from app.studio_jobs import install_job_ui
from engine.arch.presets import get_preset
from engine.store import Store

def settle():
    import time
    t = time.time()
    while time.time() - t < 0.6:
        app.processEvents()

big = MainWindow(); big.resize(1900, 1060); big.move(0, 0)     # saved on a big screen
Settings().save_window(big.saveGeometry(), big.saveState())
w = MainWindow()
w.cost.enabled = False
ui = install_job_ui(w, Store(tempfile.mkdtemp() + "/s.db"))
w.show(); settle()
free = w.screen().availableGeometry()
w.open_design(get_preset("darts-v2")); settle()
out = {"free": [free.width(), free.height()],
       "frame": [w.frameGeometry().x(), w.frameGeometry().y(),
                 w.frameGeometry().width(), w.frameGeometry().height()]}
ui._show_dock("Pareto"); settle()
dock = w.docks["Pareto"]
out.update(central=w.centralWidget().height(), zoom=min(v.zoom() for v in w.current_editor().views()),
           floating=dock.isFloating(), dock_h=dock.height())
ui.shutdown()
print(json.dumps(out))
"""


def _probe(tmp_path, width: int, height: int) -> dict:
    screen = tmp_path / "screen.json"
    screen.write_text(json.dumps({"screens": [{"name": "s", "x": 0, "y": 0, "width": width,
                                               "height": height, "logicalDpi": 96}]}))
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={screen}",
               NAS_STUDIO_DATA_DIR=str(tmp_path), PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=240)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_the_window_fits_the_screen_and_the_pareto_dock_keeps_the_canvas_readable(tmp_path,
                                                                                   size):
    got = _probe(tmp_path, *size)
    x, y, w, h = got["frame"]
    assert x >= 0 and y >= 0 and x + w <= size[0] and y + h <= size[1], got
    assert got["central"] >= 400 and got["zoom"] >= LOD_DETAIL, got   # labels still drawn
    assert got["floating"] or got["dock_h"] >= 300, got                # the plot has room
    if size == (1920, 1080):
        assert not got["floating"], got                                # room to dock it


def test_the_issues_strip_shows_the_problem_and_selects_it(window):
    doc = window.open_preset("darts-v2")
    assert window.issues.isHidden()
    assert doc.connect_nodes("normal", 5, 2, "skip_connect")
    assert not window.issues.isHidden()
    assert "cycle" in window.issues.label.text()
    window.issues.click(0)
    scene = window.current_editor().scenes["normal"]
    assert {("node", 2), ("node", 5)} <= set(scene.selected_keys())
    doc.undo_stack.undo()
    assert window.issues.isHidden()


def test_a_stack_problem_selects_its_stage(window):
    doc = window.open_preset("efficientnet-b0")
    doc.set_stage(3, kernel=4)
    window.issues.click(0)
    assert window.current_editor().scene.selected_keys() == [("stage", 3)]


def test_the_first_start_hint_goes_after_the_first_edit(window, qtbot):
    doc = window.open_preset("darts-v2")
    hint = window.current_editor().hint
    assert "drag an op from the palette" in hint.text() and hint.isVisible()
    editor = window.current_editor()
    view = editor.views()[0]
    top_of_view = view.mapTo(editor, QPoint(0, 0)).y()
    assert hint.mapTo(editor, QPoint(0, hint.height())).y() <= top_of_view   # not on it
    doc.set_edge_op("normal", 0, "skip_connect")
    assert hint.isHidden() and window.settings.hint_done("canvas")
    window.open_preset("efficientnet-b0")
    assert window.current_editor().hint.isHidden()


def test_palette_names_are_not_cut_off(window):
    window.open_preset("efficientnet-b0")
    tree = window.palette.tree
    fm = tree.fontMetrics()
    for op, item in window.palette.items.items():
        rect = tree.visualItemRect(item)
        text_right = rect.left() + tree.iconSize().width() + 8 + fm.horizontalAdvance(
            item.text(0))
        assert text_right <= tree.viewport().width(), (op, text_right,
                                                       tree.viewport().width())
    assert window.palette.top_names()[0] == "Stack blocks"


def test_save_dialogs_open_in_documents_or_the_last_folder(window, tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr("app.file_actions.QFileDialog.getSaveFileName",
                        lambda parent, title, start, filt: seen.append(start) or
                        (str(tmp_path / "mine.json"), ""))
    doc = window.open_preset("darts-v2")
    first = Path(window.ask_save_path(doc) and seen[0])
    assert first.is_absolute() and first.name == "darts-v2.json"
    assert first.parent != Path.cwd() or Path.cwd() == Path.home()
    assert window.save_as(doc)
    window.ask_save_path(doc)
    assert Path(seen[-1]).parent == tmp_path                 # the last folder used
    assert Settings().last_folder() == str(tmp_path)
