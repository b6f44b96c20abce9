"""Cell graph editor: drops, connections, deletion, moves, copy/paste, validation marks."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.canvas.cell_editor import CellEditor
from app.canvas.interactions import op_mime
from app.canvas.layout import auto_layout
from app.document.controller import DocumentController
from engine.arch.presets import get_preset
from engine.arch.serialize import design_to_dict

CELL_PRESETS = ["darts-v1", "darts-v2", "nasnet-a", "amoebanet-a", "pnas", "enas",
                "nas-bench-201-best"]


@pytest.fixture
def editor(qtbot):
    doc = DocumentController(get_preset("darts-v2"))
    ed = CellEditor(doc)
    qtbot.addWidget(ed)
    ed.setMinimumSize(300, 200)  # explicit: offscreen Qt warns when a layout changes it
    ed.resize(1000, 800)
    ed.show()
    qtbot.waitExposed(ed)
    yield ed
    doc.close()


def drop(view, mime, scene_pos: QPointF) -> bool:
    """Deliver a drag-enter / drag-move / drop sequence to the view, as a real drag does."""
    pos = QPointF(view.mapFromScene(scene_pos))
    actions = Qt.DropAction.CopyAction
    enter = QDragEnterEvent(pos.toPoint(), actions, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), enter)
    move = QDragMoveEvent(pos.toPoint(), actions, mime, Qt.MouseButton.LeftButton,
                          Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), move)
    if not move.isAccepted():
        return False
    event = QDropEvent(pos, actions, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), event)
    return event.isAccepted()


def vp(view, scene_pos: QPointF) -> QPoint:
    return view.mapFromScene(scene_pos)


@pytest.mark.parametrize("name", CELL_PRESETS)
def test_every_cell_preset_opens_with_an_item_per_node_and_edge(qtbot, name):
    doc = DocumentController(get_preset(name))
    ed = CellEditor(doc)
    qtbot.addWidget(ed)
    for which, cell in doc.design.cells().items():
        scene = ed.scenes[which]
        assert sorted(scene.node_items) == sorted(cell.all_ids())
        assert [e.index for e in scene.edge_items] == list(range(len(cell.edges)))
        assert [e.op for e in scene.edge_items] == [e.op for e in cell.edges]
        assert not scene.invalid_items(), [i.problem for i in scene.invalid_items()]
    assert set(ed.scenes) == ({"normal", "reduce"} if doc.design.reduce else {"normal"})


def test_drop_op_on_edge_changes_it_and_undo_restores(editor):
    doc, scene, view = editor.doc, editor.scenes["normal"], editor.panes["normal"].view
    before = design_to_dict(doc.design)
    target = scene.edge_items[0]
    assert target.op != "max_pool_3x3"
    assert drop(view, op_mime("max_pool_3x3"), target._label_rect.center())
    assert doc.design.normal.edges[0].op == "max_pool_3x3"
    assert scene.edge_items[0].op == "max_pool_3x3"
    doc.undo_stack.undo()
    assert design_to_dict(doc.design) == before


def test_drop_on_empty_canvas_adds_a_node_in_the_output(editor):
    doc, scene, view = editor.doc, editor.scenes["normal"], editor.panes["normal"].view
    n_before = len(doc.design.normal.nodes)
    empty = scene.itemsBoundingRect().bottomRight() + QPointF(-20, 40)
    assert scene.node_at(empty) is None and scene.edge_at(empty) is None
    assert drop(view, op_mime("dil_conv_5x5"), empty)
    cell = doc.design.normal
    new = cell.nodes[-1]
    assert len(cell.nodes) == n_before + 1 and new == 6
    assert [(e.source, e.op) for e in cell.inputs_of(new)] == [(5, "dil_conv_5x5")]
    assert new in cell.concat and cell.positions[new] == pytest.approx((empty.x(), empty.y()), abs=4.0)
    assert new in scene.node_items
    doc.undo_stack.undo()  # one step removes node, edge and output membership
    assert doc.design == get_preset("darts-v2")


def test_drop_on_node_adds_an_input_edge_from_the_previous_node(editor):
    doc, scene, view = editor.doc, editor.scenes["normal"], editor.panes["normal"].view
    target = scene.node_items[4]
    assert drop(view, op_mime("avg_pool_3x3"), target.scenePos())
    inputs = doc.design.normal.inputs_of(4)
    assert (inputs[-1].source, inputs[-1].op) == (3, "avg_pool_3x3")


def test_block_ops_are_refused_by_the_cell_canvas(editor):
    view = editor.panes["normal"].view
    assert not drop(view, op_mime("ir"), QPointF(0, 0))
    assert editor.doc.undo_stack.count() == 0


def test_dragging_from_a_port_connects_two_nodes(editor, qtbot):
    doc, scene, view = editor.doc, editor.scenes["normal"], editor.panes["normal"].view
    src, dst = scene.node_items[2], scene.node_items[4]
    n_edges = len(doc.design.normal.edges)
    start = vp(view, src.port.scenePos())
    end = vp(view, dst.scenePos())
    QTest.mousePress(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     start)
    QTest.mouseMove(view.viewport(), (start + end) / 2)
    QTest.mouseMove(view.viewport(), end)
    QTest.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier, end)
    edges = doc.design.normal.edges
    assert len(edges) == n_edges + 1
    assert (edges[-1].source, edges[-1].target, edges[-1].op) == (2, 4, "sep_conv_3x3")


def test_connect_uses_the_palette_op_and_refuses_edges_into_inputs(editor):
    doc, scene = editor.doc, editor.scenes["normal"]
    scene.op_provider = lambda: "skip_connect"
    assert scene.connect_op() == "skip_connect"
    assert not doc.connect_nodes("normal", 3, 0, scene.connect_op())
    assert not doc.connect_nodes("normal", 3, 3, scene.connect_op())
    assert doc.connect_nodes("normal", 3, 5, scene.connect_op())
    assert doc.design.normal.edges[-1].op == "skip_connect"


def test_delete_node_removes_its_edges_and_output_in_one_undo_step(editor):
    doc, scene = editor.doc, editor.scenes["normal"]
    before = design_to_dict(doc.design)
    scene.node_items[2].setSelected(True)
    assert editor.delete_selection()
    cell = doc.design.normal
    assert 2 not in cell.nodes and 2 not in cell.concat
    assert all(2 not in (e.source, e.target) for e in cell.edges)
    assert 2 not in scene.node_items
    assert doc.undo_stack.count() == 1
    doc.undo_stack.undo()
    assert design_to_dict(doc.design) == before and doc.design == get_preset("darts-v2")
    doc.undo_stack.redo()
    assert 2 not in doc.design.normal.nodes


def test_delete_selected_edges_and_nodes_together(editor):
    doc, scene = editor.doc, editor.scenes["normal"]
    scene.edge_items[0].setSelected(True)
    scene.node_items[5].setSelected(True)
    editor.delete_selection()
    doc.undo_stack.undo()
    assert doc.design == get_preset("darts-v2")


def test_rubber_band_selects_and_a_drag_moves_all_selected_in_one_step(editor):
    doc, scene, view = editor.doc, editor.scenes["normal"], editor.panes["normal"].view
    a, b = scene.node_items[2], scene.node_items[3]
    corner = vp(view, QPointF(min(a.x(), b.x()) - 66, min(a.y(), b.y()) - 30))
    far = vp(view, QPointF(max(a.x(), b.x()) + 62, max(a.y(), b.y()) + 26))
    assert scene.node_at(view.mapToScene(corner)) is None
    QTest.mousePress(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     corner)
    for i in range(1, 6):
        QTest.mouseMove(view.viewport(), corner + (far - corner) * i / 5)
    QTest.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier, far)
    selected = {k for k in scene.selected_keys() if k[0] == "node"}
    assert {("node", 2), ("node", 3)} <= selected
    old = {n: (scene.node_items[n].x(), scene.node_items[n].y()) for _k, n in selected}
    start = vp(view, a.scenePos())
    end = start + QPoint(60, 30)
    QTest.mousePress(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     start)
    for i in range(1, 6):
        QTest.mouseMove(view.viewport(), start + (end - start) * i / 5)
    QTest.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier, end)
    moved = {n for n, p in old.items() if doc.design.normal.positions.get(n) not in (None, p)}
    assert moved == {n for _k, n in selected}
    assert doc.undo_stack.count() == 1
    doc.undo_stack.undo()
    assert doc.design.normal.positions == {}
    assert (scene.node_items[2].x(), scene.node_items[2].y()) == old[2]


def test_copy_paste_duplicates_nodes_with_internal_edges(editor):
    doc, scene = editor.doc, editor.scenes["normal"]
    scene.node_items[2].setSelected(True)
    scene.node_items[5].setSelected(True)
    editor._active = "normal"
    assert editor.copy()
    new = editor.paste()
    assert new == [6, 7]
    cell = doc.design.normal
    assert [(e.source, e.op) for e in cell.inputs_of(6)] == [(0, "sep_conv_3x3"),
                                                            (1, "sep_conv_3x3")]
    assert (6, "dil_conv_3x3") in [(e.source, e.op) for e in cell.inputs_of(7)]
    assert {("node", 6), ("node", 7)} == set(scene.selected_keys())
    doc.undo_stack.undo()
    assert doc.design == get_preset("darts-v2")


def test_a_cycle_is_marked_invalid_with_the_validator_message(editor):
    doc, scene = editor.doc, editor.scenes["normal"]
    assert doc.connect_nodes("normal", 5, 2, "sep_conv_3x3")
    marked = {i.node for i in scene.invalid_items() if hasattr(i, "node")}
    assert {2, 5} <= marked
    assert "cycle" in scene.node_items[2].toolTip()
    assert any("cycle" in p.message for p in doc.errors())
    doc.undo_stack.undo()
    assert not scene.invalid_items() and not doc.errors()


def test_removing_the_output_marks_the_output_node(editor):
    doc, scene = editor.doc, editor.scenes["normal"]
    for n in list(doc.design.normal.concat):
        doc.set_in_output("normal", n, False)
    assert scene.output_item.problem and "concat" in scene.output_item.problem
    assert scene.node_items[5].problem  # its output is now never used


def test_auto_layout_stores_positions_as_one_step(editor):
    doc = editor.doc
    assert editor.auto_layout()
    for _which, cell in doc.design.cells().items():
        assert cell.positions == auto_layout(cell)
        xs = {cell.positions[n][0] for n in range(cell.n_inputs)}
        assert len(xs) == 1  # inputs share the first column
    assert doc.undo_stack.count() == 1
    doc.undo_stack.undo()
    assert doc.design == get_preset("darts-v2")


def test_inspector_like_edit_of_an_edge_op_and_read_only_documents(qtbot):
    doc = DocumentController(get_preset("darts-v2"), read_only=True)
    ed = CellEditor(doc)
    qtbot.addWidget(ed)
    assert not doc.set_edge_op("normal", 0, "none")
    assert not ed.scenes["normal"].handle_drop(op_mime("none"), QPointF(0, 0))
    assert doc.design == get_preset("darts-v2")


def test_big_cells_switch_to_an_overview_when_zoomed_far_out(qtbot):
    from engine.arch.model import Cell, CellDesign, Edge

    nodes = list(range(2, 122))
    edges = [Edge(n - k, n, "sep_conv_3x3") for n in nodes for k in (1, 2)]
    design = CellDesign(name="long", normal=Cell(2, nodes, edges, [nodes[-1]]), reduce=None)
    doc = DocumentController(design)
    ed = CellEditor(doc)
    qtbot.addWidget(ed)
    ed.setMinimumSize(300, 200)
    ed.resize(900, 600)
    ed.show()
    qtbot.waitExposed(ed)
    scene, view = ed.scenes["normal"], ed.panes["normal"].view
    view.fit()
    assert view.zoom() < 0.15
    assert scene.overview.isVisible() and not scene.node_items[50].isVisible()
    view.reset_zoom()
    assert not scene.overview.isVisible() and scene.node_items[50].isVisible()
    assert scene.edge_items[10].isVisible()
    doc.close()
