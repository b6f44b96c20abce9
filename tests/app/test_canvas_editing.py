"""Cell canvas layout stability, edge routing and labels, the op of a drawn connection,
keyboard selection and the palette's "apply to selection"."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.canvas.cell_editor import CellEditor
from app.canvas.routing import _blocked, _obstacles, label_overlaps
from app.canvas.stack_editor import StackEditor
from app.document.controller import DocumentController
from engine.arch.presets import get_preset

CELL_PRESETS = ["darts-v1", "darts-v2", "nasnet-a", "amoebanet-a", "pnas", "enas",
                "nas-bench-201-best"]


def _show(qtbot, widget, size=(1000, 800)):
    qtbot.addWidget(widget)
    widget.setMinimumSize(300, 200)  # explicit: offscreen Qt warns when a layout changes it
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def editor(qtbot):
    doc = DocumentController(get_preset("darts-v2"))
    yield _show(qtbot, CellEditor(doc))
    doc.close()


def _in_view(view, rect) -> bool:
    return view.mapToScene(view.viewport().rect()).boundingRect().contains(rect)


def _positions(scene):
    return {n: (i.pos().x(), i.pos().y()) for n, i in scene.node_items.items()}


def test_closing_a_cycle_keeps_every_node_where_it_was(editor):
    doc, scene = editor.doc, editor.scenes["normal"]
    assert not doc.design.normal.positions          # the preset is auto-laid out
    before = _positions(scene)
    assert doc.connect_nodes("normal", 5, 2, "skip_connect")   # 2 -> 5 -> 2
    assert any("cycle" in p.message for p in doc.errors())
    assert _positions(scene) == before
    view = editor.panes["normal"].view
    assert _in_view(view, scene.itemsBoundingRect())


def test_the_view_refits_when_an_edit_puts_items_out_of_sight(editor):
    doc, scene = editor.doc, editor.scenes["normal"]
    view = editor.panes["normal"].view
    view.zoom_in()                                   # the user's own zoom: no auto-fit
    view.zoom_out()
    assert not view.auto_fit and _in_view(view, scene.itemsBoundingRect())
    doc.add_node("normal", "skip_connect", (4000.0, 900.0))
    assert _in_view(view, scene.itemsBoundingRect())


def test_undoing_a_move_returns_an_auto_placed_node(editor):
    doc, scene = editor.doc, editor.scenes["normal"]
    before = _positions(scene)[3]
    doc.move_nodes("normal", {3: (None, (before[0] + 200, before[1] + 90))})
    assert _positions(scene)[3] != before
    doc.undo_stack.undo()
    assert _positions(scene)[3] == before


@pytest.mark.parametrize("name", CELL_PRESETS)
def test_labels_do_not_collide_and_edges_go_around_nodes(qtbot, name):
    design = get_preset(name)
    doc = DocumentController(design)
    ed = _show(qtbot, CellEditor(doc))
    for scene in ed.scenes.values():
        nodes = list(scene.node_items.values())
        assert label_overlaps(scene.edge_items, nodes) == []
        obstacles = _obstacles(nodes)
        assert [e.index for e in scene.edge_items if _blocked(e, obstacles)] == []
    doc.close()


def test_nb201_skip_edges_are_drawn_as_separate_arcs(qtbot):
    doc = DocumentController(get_preset("nas-bench-201-best"))
    ed = _show(qtbot, CellEditor(doc))
    scene = ed.scenes["normal"]
    ys = {n: i.pos().y() for n, i in scene.node_items.items()}
    assert len(set(ys.values())) == 1                      # one straight row of nodes
    bends = {(e.source.node, e.target.node): e.bend for e in scene.edge_items}
    skips = [bends[(0, 2)], bends[(0, 3)], bends[(1, 3)]]
    assert all(skips) and len(set(skips)) == 3
    assert bends[(0, 1)] == bends[(1, 2)] == bends[(2, 3)] == 0
    doc.close()


def test_a_drawn_connection_shows_and_gets_the_palette_op(editor):
    doc, scene, view = editor.doc, editor.scenes["normal"], editor.panes["normal"].view
    scene.op_provider = lambda: "max_pool_3x3"
    src, dst = scene.node_items[2], scene.node_items[4]
    start, end = view.mapFromScene(src.port.scenePos()), view.mapFromScene(dst.scenePos())
    QTest.mousePress(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     start)
    QTest.mouseMove(view.viewport(), (start + end) / 2)
    tag = scene._edge_gesture.tag
    assert tag.scene() is scene and tag.isVisible() and tag.text == "+ max 3×3"
    QTest.mouseMove(view.viewport(), end)
    QTest.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier, end)
    assert tag.scene() is None
    e = doc.design.normal.edges[-1]
    assert (e.source, e.target, e.op) == (2, 4, "max_pool_3x3")
    assert scene.selected_keys() == [("edge", len(doc.design.normal.edges) - 1)]
    src = scene.node_items[2]
    src.port.hoverEnterEvent(None)
    assert "Max pool 3x3" in src.port.toolTip()


def _key(view, key, mods=Qt.KeyboardModifier.NoModifier):
    QTest.keyClick(view, key, mods)


class _Pick:
    """A menu runner that picks the entry for ``op`` and records the menu's title."""

    def __init__(self, op):
        self.op, self.titles = op, []

    def __call__(self, menu, pos):
        self.titles.append(menu.title())
        return next((a for a in menu.actions() if a.data() == self.op), None)


def test_keyboard_tab_arrows_enter_and_escape_on_the_cell(editor):
    doc, scene = editor.doc, editor.scenes["normal"]
    view = editor.panes["normal"].view
    view.setFocus()
    _key(view, Qt.Key.Key_Tab)
    assert scene.selected_keys() == [("node", 0)]
    _key(view, Qt.Key.Key_Tab)
    assert scene.selected_keys() == [("node", 1)]
    _key(view, Qt.Key.Key_Tab, Qt.KeyboardModifier.ShiftModifier)
    assert scene.selected_keys() == [("node", 0)]
    _key(view, Qt.Key.Key_Right)   # c_{k-2} -> an edge label or node to its right
    kind, ident = scene.selected_keys()[0]
    item = scene.node_items[0]
    right = next(i for i in scene.keyboard_items() if i.key() == (kind, ident))
    assert (right.label_rect() if kind == "edge" else right.sceneBoundingRect()).center().x() \
        > item.scenePos().x()
    # Enter on an edge opens the op chooser; the chosen op is set in one step
    edge = scene.edge_items[3]
    scene.select_item(edge)
    editor.menu_runner = pick = _Pick("avg_pool_3x3")
    _key(view, Qt.Key.Key_Return)
    assert doc.design.normal.edges[3].op == "avg_pool_3x3"
    assert pick.titles and "Op of edge" in pick.titles[0]
    # Enter on a node: a new input through the chosen op
    n_edges = len(doc.design.normal.edges)
    scene.select_item(scene.node_items[4])
    _key(view, Qt.Key.Key_Enter)
    assert len(doc.design.normal.edges) == n_edges + 1
    assert doc.design.normal.edges[-1].target == 4
    assert doc.design.normal.edges[-1].op == "avg_pool_3x3"
    _key(view, Qt.Key.Key_Escape)
    assert scene.selected_keys() == []


def test_tab_past_the_last_item_leaves_the_canvas(editor):
    scene = editor.scenes["normal"]
    view = editor.panes["normal"].view
    editor.activateWindow()
    view.setFocus()
    scene.select_item(scene.keyboard_items()[-1])
    assert QApplication.focusWidget() is view
    _key(view, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is not view   # the focus chain took the Tab
    assert scene.selected_keys() == [scene.keyboard_items()[-1].key()]


def test_palette_apply_to_selection_changes_every_selected_edge_in_one_step(qtbot):
    from app.main_window import MainWindow

    w = MainWindow()
    w.cost.enabled = False
    w.ask_save_changes = lambda doc: "discard"
    _show(qtbot, w, (1280, 800))
    doc = w.open_preset("darts-v2")
    scene = w.current_editor().scenes["normal"]
    scene.edge_items[0].setSelected(True)
    scene.edge_items[5].setSelected(True)
    w.palette.set_current_op("dil_conv_5x5")
    steps = doc.undo_stack.count()
    w.palette.apply_button.click()
    ops = [e.op for e in doc.design.normal.edges]
    assert ops[0] == ops[5] == "dil_conv_5x5"
    assert doc.undo_stack.count() == steps + 1
    w.palette.set_current_op("ir")            # a block is refused on a cell
    assert not w.apply_palette_op("ir")
    stack = w.open_preset("efficientnet-b0")
    assert w.palette.top_names()[0] == "Stack blocks" or \
        w.palette.tree.topLevelItem(0).child(0).data(0, Qt.ItemDataRole.UserRole + 1) \
        in ("ds", "ir")
    sscene = w.current_editor().scene
    sscene.cards[2].setSelected(True)
    w.palette.set_current_op("ds")
    w.act_apply_op.trigger()
    assert stack.design.stages[2].block == "ds"
    w.tabs.setCurrentIndex(0)
    assert w.palette.tree.topLevelItem(0).child(0).data(0, Qt.ItemDataRole.UserRole + 1) \
        not in ("ds", "ir")
    w.close()


def test_keyboard_on_the_stack_selects_moves_and_changes_blocks(qtbot):
    doc = DocumentController(get_preset("efficientnet-b0"))
    ed = _show(qtbot, StackEditor(doc), (1000, 900))
    view, scene = ed.view, ed.scene
    view.setFocus()
    _key(view, Qt.Key.Key_Tab)
    assert scene.selected_keys() == [("stage", 0)]
    _key(view, Qt.Key.Key_Down)
    _key(view, Qt.Key.Key_Down)
    assert scene.selected_keys() == [("stage", 2)]
    moved = doc.design.stages[2]
    _key(view, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    assert doc.design.stages[3] is moved and scene.selected_keys() == [("stage", 3)]
    ed.menu_runner = _Pick("ds")
    _key(view, Qt.Key.Key_Return)
    assert doc.design.stages[3].block == "ds"
    assert doc.undo_stack.count() == 2
    doc.close()


def test_focus_goes_to_the_canvas_when_a_design_opens(qtbot):
    from app.main_window import MainWindow

    w = MainWindow()
    w.cost.enabled = False
    w.ask_save_changes = lambda doc: "discard"
    _show(qtbot, w, (1280, 800))
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    w.open_preset("darts-v2")
    assert QApplication.focusWidget() in w.current_editor().views()
    w.close()


def test_enter_opens_the_op_chooser_on_an_edge_from_the_menu_too(editor):
    scene = editor.scenes["normal"]
    scene.select_item(scene.edge_items[1])
    editor.menu_runner = _Pick(None)      # dismissed: nothing changes
    assert not editor.choose_op()
    assert editor.doc.undo_stack.count() == 0
    point = scene.edge_items[1].label_rect().center()
    assert scene.edge_at(QPointF(point)) is scene.edge_items[1]


def test_new_edges_labels_stay_clear_of_nodes_and_other_labels(editor):
    doc, scene = editor.doc, editor.scenes["normal"]
    for src, dst in ((2, 4), (0, 5), (3, 5), (1, 5)):
        assert doc.connect_nodes("normal", src, dst, "sep_conv_5x5")
        nodes = list(scene.node_items.values())
        assert label_overlaps(scene.edge_items, nodes) == [], (src, dst)
