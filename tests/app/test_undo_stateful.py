"""Random edit / undo / redo sequences through the document's commands (hypothesis)."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from app.canvas.cell_scene import CellScene
from app.canvas.stack_scene import StackScene
from app.document.controller import DocumentController
from engine.arch.model import Stage
from engine.arch.presets import get_preset
from engine.arch.serialize import design_to_dict
from engine.ops.registry import DARTS_OPS

SETTINGS = settings(max_examples=12, stateful_step_count=20, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
WHICH = st.sampled_from(["normal", "reduce"])


class CellEditing(RuleBasedStateMachine):
    """Edits of a DARTS design, with live scenes attached (they must never crash)."""

    def __init__(self) -> None:
        super().__init__()
        self.doc = DocumentController(get_preset("darts-v2"))
        self.saved = design_to_dict(self.doc.design)
        self.scenes = [CellScene(self.doc, w) for w in ("normal", "reduce")]

    def teardown(self) -> None:
        while self.doc.undo_stack.canUndo():
            self.doc.undo_stack.undo()
        assert design_to_dict(self.doc.design) == self.saved
        assert self.doc.design == get_preset("darts-v2")
        for scene in self.scenes:
            assert sorted(scene.node_items) == sorted(scene.cell.all_ids())
        self.doc.close()

    @rule(which=WHICH, op=st.sampled_from(DARTS_OPS), data=st.data())
    def add_node(self, which, op, data):
        cell = self.doc.design.cell(which)
        source = data.draw(st.sampled_from(cell.all_ids()))
        self.doc.add_node(which, op, (data.draw(st.floats(-500, 500)), 0.0), source=source)

    @rule(which=WHICH, op=st.sampled_from(DARTS_OPS), data=st.data())
    def connect(self, which, op, data):
        ids = self.doc.design.cell(which).all_ids()
        self.doc.connect_nodes(which, data.draw(st.sampled_from(ids)),
                               data.draw(st.sampled_from(ids)), op)

    @rule(which=WHICH, op=st.sampled_from(DARTS_OPS), data=st.data())
    def drop_on_node(self, which, op, data):
        ids = self.doc.design.cell(which).all_ids()
        self.doc.add_input_edge(which, data.draw(st.sampled_from(ids)), op)

    @rule(which=WHICH, op=st.sampled_from(DARTS_OPS), data=st.data())
    def set_op(self, which, op, data):
        edges = self.doc.design.cell(which).edges
        if edges:
            self.doc.set_edge_op(which, data.draw(st.integers(0, len(edges) - 1)), op)

    @rule(which=WHICH, data=st.data())
    def delete(self, which, data):
        cell = self.doc.design.cell(which)
        nodes = data.draw(st.lists(st.sampled_from(cell.nodes), max_size=2)) if cell.nodes else []
        edges = (data.draw(st.lists(st.integers(0, len(cell.edges) - 1), max_size=2))
                 if cell.edges else [])
        self.doc.delete(which, nodes, edges)

    @rule(which=WHICH, data=st.data())
    def toggle_output(self, which, data):
        cell = self.doc.design.cell(which)
        if cell.nodes:
            node = data.draw(st.sampled_from(cell.nodes))
            self.doc.set_in_output(which, node, node not in cell.concat)

    @rule(which=WHICH, dx=st.floats(-100, 100), data=st.data())
    def move(self, which, dx, data):
        cell = self.doc.design.cell(which)
        nodes = data.draw(st.lists(st.sampled_from(cell.all_ids()), max_size=3, unique=True))
        self.doc.move_nodes(which, {n: (cell.positions.get(n), (dx, float(n))) for n in nodes})

    @rule()
    def auto_layout(self):
        self.doc.auto_layout()

    @rule(which=WHICH, data=st.data())
    def copy_paste(self, which, data):
        scene = self.scenes[0 if which == "normal" else 1]
        cell = scene.cell
        if cell.nodes:
            pick = data.draw(st.lists(st.sampled_from(cell.nodes), min_size=1, max_size=2))
            scene.select_keys([("node", n) for n in pick])
            scene.paste(scene.copy_selection())

    @precondition(lambda self: self.doc.undo_stack.canUndo())
    @rule()
    def undo(self):
        self.doc.undo_stack.undo()

    @precondition(lambda self: self.doc.undo_stack.canRedo())
    @rule()
    def redo(self):
        self.doc.undo_stack.redo()

    @invariant()
    def views_match_the_model(self):
        for scene in self.scenes:
            cell = scene.cell
            assert sorted(scene.node_items) == sorted(cell.all_ids())
            assert [e.op for e in scene.edge_items] == [
                e.op for e in cell.edges if e.source in scene.node_items]


class StackEditing(RuleBasedStateMachine):
    """Edits of an EfficientNet stack through the document's commands."""

    def __init__(self) -> None:
        super().__init__()
        self.doc = DocumentController(get_preset("efficientnet-b0"))
        self.saved = design_to_dict(self.doc.design)
        self.scene = StackScene(self.doc)

    def teardown(self) -> None:
        self.doc.undo_stack.setIndex(0)
        assert design_to_dict(self.doc.design) == self.saved
        assert len(self.scene.cards) == len(self.doc.design.stages)
        self.doc.close()

    @rule(index=st.integers(0, 10), block=st.sampled_from(["ds", "ir"]),
          channels=st.sampled_from([16, 24, 40]))
    def insert(self, index, block, channels):
        self.doc.insert_stage(index, Stage(block=block, channels=channels))

    @rule(data=st.data())
    def remove(self, data):
        n = len(self.doc.design.stages)
        if n:
            self.doc.remove_stages(data.draw(st.lists(st.integers(0, n - 1), max_size=2)))

    @rule(data=st.data())
    def move(self, data):
        n = len(self.doc.design.stages)
        if n > 1:
            self.doc.move_stage(data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, n - 1)))

    @rule(data=st.data(), kernel=st.sampled_from([3, 5, 7]), repeats=st.integers(1, 4))
    def set_stage(self, data, kernel, repeats):
        n = len(self.doc.design.stages)
        if n:
            self.doc.set_stage(data.draw(st.integers(0, n - 1)), kernel=kernel, repeats=repeats)

    @rule(phi=st.sampled_from([0.0, 1.0, 2.0, 3.0]))
    def scale(self, phi):
        from app.panels.scaling import compound_scale

        w, d, r = compound_scale(phi)
        self.doc.set_fields(width_mult=w, depth_mult=d, resolution=r)

    @precondition(lambda self: self.doc.undo_stack.canUndo())
    @rule()
    def undo(self):
        self.doc.undo_stack.undo()

    @precondition(lambda self: self.doc.undo_stack.canRedo())
    @rule()
    def redo(self):
        self.doc.undo_stack.redo()

    @invariant()
    def cards_match_stages(self):
        assert [c.stage for c in self.scene.cards] == self.doc.design.stages


def test_random_cell_edits_undo_back_to_the_saved_design(qapp):
    run_state_machine_as_test(CellEditing, settings=SETTINGS)


def test_random_stack_edits_undo_back_to_the_saved_design(qapp):
    run_state_machine_as_test(StackEditing, settings=SETTINGS)
