"""The window's one action table: no shortcut bound twice, every menu entry has a mnemonic."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from app.actions import ACTIONS, add_mnemonic, key_sequences, mnemonic, plain, shortcut_clashes


def test_the_table_binds_each_shortcut_once(qapp):  # key bindings need the platform
    owners: dict[str, str] = {}
    for name, spec in ACTIONS.items():
        for seq in key_sequences(spec.key):
            key = seq.toString()
            assert key not in owners, f"{key} is bound to {owners[key]} and {name}"
            owners[key] = name


def test_no_two_actions_of_the_window_share_a_shortcut(studio):
    window, _ui, _store = studio
    assert shortcut_clashes(window.findChildren(QAction)) == {}
    # the two exports are both there, on different keys
    texts = {plain(a.text()): a.shortcut().toString() for a in window.findChildren(QAction)}
    assert texts["Export run…"] == "Ctrl+E"
    assert texts["Export design…"] == "Ctrl+Shift+E"


@pytest.mark.qt_log_ignore("propagateSizeHints")   # offscreen: a dialog's size hints
def test_ctrl_e_opens_the_run_export_dialog_without_ambiguity(studio, qtbot, monkeypatch):
    from app.jobs.export_dialog import ExportDialog

    window, ui, _store = studio
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    asked = []
    monkeypatch.setattr("app.file_actions.QFileDialog.getSaveFileName",
                        lambda *a, **k: asked.append(a) or ("", ""))
    window.open_preset("darts-v2")
    # Qt logs "Ambiguous shortcut overload" (a warning, which fails the test) on a clash
    qtbot.keyClick(window.tabs.currentWidget(), Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert isinstance(ui.dialog, ExportDialog)
    ui.dialog.close()
    qtbot.keyClick(window.tabs.currentWidget(), Qt.Key.Key_E,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert asked and asked[0][1] == "Export design"


def _menus(window):
    todo = [a.menu() for a in window.menuBar().actions() if a.menu()]
    while todo:
        menu = todo.pop()
        yield menu
        todo += [a.menu() for a in menu.actions() if isinstance(a.menu(), QMenu)]


def test_every_menu_entry_has_its_own_mnemonic(studio):
    window, _ui, _store = studio
    window._fill_recent()
    top = [mnemonic(a.text()) for a in window.menuBar().actions()]
    assert all(top) and len(set(top)) == len(top), top
    menus = list(_menus(window))
    assert {m.title() for m in menus} >= {"&File", "&Edit", "&View", "&Run"}
    for menu in menus:
        entries = [a for a in menu.actions() if not a.isSeparator() and a.isEnabled()]
        letters = [mnemonic(a.text()) for a in entries]
        assert all(letters), (menu.title(), [a.text() for a in entries])
        assert len(set(letters)) == len(letters), (menu.title(), [a.text() for a in entries])


def test_add_mnemonic_prefers_free_word_starts():
    used = {"p", "i"}
    assert add_mnemonic("Pareto", used) == "P&areto"
    assert add_mnemonic("Jobs", used) == "&Jobs"
    assert add_mnemonic("&Save", used) == "&Save"
    assert used == {"p", "i", "a", "j", "s"}
