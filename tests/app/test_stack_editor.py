"""Block stack editor: drops, reorder, delete, inspector edits, scaling control."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from app.canvas.interactions import op_mime
from app.canvas.stack_editor import StackEditor
from app.canvas.stack_scene import CARD_H, GAP, stage_title
from app.document.controller import DocumentController
from app.main_window import MainWindow
from app.panels.inspector import Inspector
from engine.arch.presets import get_preset
from engine.arch.serialize import design_to_dict


@pytest.fixture
def editor(qtbot):
    doc = DocumentController(get_preset("efficientnet-b0"))
    ed = StackEditor(doc)
    qtbot.addWidget(ed)
    ed.setMinimumSize(300, 200)  # explicit: offscreen Qt warns when a layout changes it
    ed.resize(1000, 900)
    ed.show()
    qtbot.waitExposed(ed)
    yield ed
    doc.close()


def slot_y(index: int) -> float:
    """Scene y of the boundary above stage ``index`` (the stem card is slot 0)."""
    return (index + 1) * (CARD_H + GAP) - GAP / 2


def test_cards_show_every_stage(editor):
    stages = editor.doc.design.stages
    assert [c.stage for c in editor.scene.cards] == stages
    assert editor.scene.cards[1].body_text().startswith("×2")
    assert stage_title(stages[2]) == "MBConv6  5×5"
    assert stage_title(stages[0]).startswith("MBConv1")


def test_drop_block_inserts_a_stage_at_the_slot(editor):
    doc = editor.doc
    before = design_to_dict(doc.design)
    assert editor.scene.handle_drop(op_mime("ir"), QPointF(100, slot_y(2)))
    stages = doc.design.stages
    assert len(stages) == 8 and stages[2].block == "ir" and stages[2].channels == 24
    assert len(editor.scene.cards) == 8
    assert not editor.scene.handle_drop(op_mime("sep_conv_3x3"), QPointF(100, slot_y(2)))
    doc.undo_stack.undo()
    assert design_to_dict(doc.design) == before


def test_dragging_a_card_reorders_stages_in_one_step(editor):
    doc, view = editor.doc, editor.view
    card = editor.scene.cards[0]
    moved = doc.design.stages[0]
    start = view.mapFromScene(card.scenePos() + QPointF(100, CARD_H / 2))
    end = view.mapFromScene(card.scenePos() + QPointF(100, CARD_H / 2 + 2.2 * (CARD_H + GAP)))
    QTest.mousePress(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     start)
    for i in range(1, 8):
        QTest.mouseMove(view.viewport(), start + (end - start) * i / 7)
    QTest.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier, end)
    assert doc.design.stages[2] is moved
    assert doc.undo_stack.count() == 1
    doc.undo_stack.undo()
    assert doc.design == get_preset("efficientnet-b0")


def test_delete_selected_stages(editor):
    doc = editor.doc
    editor.scene.cards[1].setSelected(True)
    editor.scene.cards[3].setSelected(True)
    assert editor.delete_selection()
    assert len(doc.design.stages) == 5 and doc.undo_stack.count() == 1
    doc.undo_stack.undo()
    assert doc.design == get_preset("efficientnet-b0")


def test_inspector_edits_a_stage_and_invalid_values_are_marked(editor, qtbot):
    doc = editor.doc
    inspector = Inspector()
    qtbot.addWidget(inspector)
    inspector.show_selection(doc, "stack", [("stage", 3)])
    kernel = inspector.fields["kernel"]
    kernel.setCurrentIndex(kernel.findData(7))
    kernel.activated.emit(kernel.currentIndex())
    assert doc.design.stages[3].kernel == 7
    inspector.fields["channels"].setValue(96)
    assert doc.design.stages[3].channels == 96
    assert doc.set_stage(3, kernel=4)  # not offered by the inspector; the validator catches it
    card = editor.scene.cards[3]
    assert card.problem and "odd" in card.problem and "odd" in card.toolTip()
    qtbot.waitUntil(lambda: "odd" in inspector._problems_label.text())
    doc.undo_stack.undo()
    assert not editor.scene.invalid_items()


def test_scaling_control_shows_the_nearest_variant(editor):
    scaling = editor.scaling
    assert scaling.nearest_text() == "= EfficientNet-B0"
    scaling.phi.setValue(3.0)
    d = editor.doc.design
    assert d.width_mult > 1.3 and d.depth_mult > 1.7 and d.resolution > 300
    assert scaling.nearest_text().startswith("≈ EfficientNet-B")
    assert scaling.nearest_text() != "≈ EfficientNet-B0"
    scaled_card = editor.scene.cards[1]
    assert "→" in scaled_card.body_text()
    scaling.variant.setCurrentIndex(scaling.variant.findData("b3"))
    scaling.variant.activated.emit(scaling.variant.currentIndex())
    assert (d.width_mult, d.depth_mult, d.resolution) == (1.2, 1.4, 300)
    assert scaling.nearest_text() == "= EfficientNet-B3"
    while editor.doc.undo_stack.canUndo():
        editor.doc.undo_stack.undo()
    assert d == get_preset("efficientnet-b0")


def test_scaling_control_names_efficientnet_coefficients_on_other_stacks(qtbot):
    ed = StackEditor(DocumentController(get_preset("mobilenet-v2")))
    qtbot.addWidget(ed)
    assert ed.scaling.nearest_text() == "EfficientNet-B0 scaling of a custom stack"


def test_scaling_control_changes_the_metrics(qtbot):
    window = MainWindow()
    window.cost.measure_latency = False
    window.ask_save_changes = lambda doc: "discard"
    qtbot.addWidget(window)
    window.show()
    doc = window.open_preset("efficientnet-b0")
    qtbot.waitUntil(lambda: doc.cost is not None, timeout=90000)
    b0 = dict(window.metrics.summary)
    assert b0["params"] == 5_288_548
    editor = window.current_editor()
    editor.scaling.variant.setCurrentIndex(editor.scaling.variant.findData("b1"))
    editor.scaling.variant.activated.emit(editor.scaling.variant.currentIndex())
    assert window.metrics.summary["params"] == 7_794_184  # at once: analytic, no worker
    assert window.metrics.summary["macs"] > b0["macs"]
    assert window.metrics.params.value.text() == "7.79 M"
    window.close()


def test_clicking_an_empty_spot_keeps_the_stack(editor):
    view = editor.view
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(5, 5))
    assert editor.doc.undo_stack.count() == 0


def _drag_card(editor, index: int, slots: float, during=None):
    view = editor.view
    card = editor.scene.cards[index]
    start = view.mapFromScene(card.scenePos() + QPointF(100, CARD_H / 2))
    end = view.mapFromScene(card.scenePos() + QPointF(100, CARD_H / 2 + slots * (CARD_H + GAP)))
    QTest.mousePress(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     start)
    for i in range(1, 8):
        QTest.mouseMove(view.viewport(), start + (end - start) * i / 7)
    if during is not None:
        during()
    QTest.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier, end)


def test_the_selection_and_inspector_follow_a_moved_stage(editor, qtbot):
    doc = editor.doc
    inspector = Inspector()
    qtbot.addWidget(inspector)
    editor.selection_changed.connect(lambda which, keys: inspector.show_selection(doc, which,
                                                                                 keys))
    moved = doc.design.stages[3]
    seen = {}

    def look():
        ind = editor.scene.indicator
        seen.update(visible=ind.isVisible(), slot=ind.slot)

    _drag_card(editor, 3, 2.2, during=look)
    assert seen == {"visible": True, "slot": 6}   # the line shows where #4 lands
    assert not editor.scene.indicator.isVisible()
    assert doc.design.stages[5] is moved
    assert editor.scene.selected_keys() == [("stage", 5)]
    qtbot.waitUntil(lambda: inspector.keys == [("stage", 5)])
    before = [s.channels for s in doc.design.stages]
    inspector.fields["channels"].setValue(moved.channels + 8)
    after = [s.channels for s in doc.design.stages]
    assert after[5] == before[5] + 8 and after[:5] + after[6:] == before[:5] + before[6:]
    doc.undo_stack.undo()
    doc.undo_stack.undo()   # the move back: the selection goes with the stage
    assert doc.design.stages[3] is moved
    assert editor.scene.selected_keys() == [("stage", 3)]


def test_a_palette_drag_shows_where_the_block_goes(editor):
    from PySide6.QtCore import QMimeData  # noqa: F401 - the drop path takes QMimeData

    scene = editor.scene
    scene.show_drop_slot(scene.index_at(slot_y(2)))
    assert scene.indicator.isVisible() and scene.indicator.pos().y() == slot_y(2)
    assert scene.handle_drop(op_mime("ir"), QPointF(100, slot_y(2)))
    assert not scene.indicator.isVisible()


def test_follow_stages_maps_indices_through_edits():
    from app.canvas.stack_scene import follow_stages
    from engine.arch.model import ChangeEvent

    move = ChangeEvent("move_stage", {"src": 3, "dst": 5})
    assert follow_stages([3, 4, 5, 6, 0], [move]) == [5, 3, 4, 6, 0]
    back = ChangeEvent("move_stage", {"src": 5, "dst": 3})
    assert follow_stages([5, 3, 4], [back]) == [3, 4, 5]
    assert follow_stages([1, 2], [ChangeEvent("remove_stage", {"index": 1})]) == [1]
    assert follow_stages([1, 2], [ChangeEvent("insert_stage", {"index": 2})]) == [1, 3]


def test_scaling_shows_phi_name_and_scaled_stem_and_head(editor):
    doc, scaling = editor.doc, editor.scaling
    scaling.variant.setCurrentIndex(scaling.variant.findData("b3"))
    scaling.variant.activated.emit(scaling.variant.currentIndex())
    d = doc.design
    assert scaling.nearest_text() == "= EfficientNet-B3"
    assert 1.8 <= scaling.phi.value() <= 2.1            # was left at 0.0
    assert d.name == "efficientnet-b3"                  # renamed in the same step
    assert doc.undo_stack.count() == 1
    stem, head = editor.scene.items_by_title("Stem"), editor.scene.items_by_title("Head")
    assert "32 ch → 40" in stem.body_text()
    assert "1280 ch → 1536" in head.body_text()         # torchvision's B3 head
    doc.undo_stack.undo()
    assert d.name == "efficientnet-b0" and scaling.phi.value() == 0.0


def test_scaling_never_claims_efficientnet_for_a_modified_or_empty_stack(editor):
    doc, scaling = editor.doc, editor.scaling
    doc.set_stage(2, kernel=3)
    assert scaling.nearest_text() == "EfficientNet-B0 scaling of a custom stack"
    scaling.variant.setCurrentIndex(scaling.variant.findData("b2"))
    scaling.variant.activated.emit(scaling.variant.currentIndex())
    assert doc.design.name == "efficientnet-b0"          # not B2's network: name kept
    doc.remove_stages(list(range(len(doc.design.stages))))
    assert scaling.nearest_text() == "no stages to scale"
