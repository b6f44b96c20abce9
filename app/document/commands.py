"""Undo commands: each calls only the design model's mutators (engine/arch/model.py).

Compound edits are a ``MacroCommand`` holding its parts (redone in order, undone in
reverse), so one user gesture is one undo step.  The parts are kept in a Python list
rather than as Qt child commands so their Python overrides can never be collected.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QUndoCommand

from engine.arch.model import BlockStack, CellDesign, Edge, Stage

Pos = tuple[float, float]


class MacroCommand(QUndoCommand):
    """Several commands as one undo step.

    If a part raises during the first redo, the parts already done are undone, the
    error is kept in ``error`` and the command marks itself obsolete, so the undo
    stack drops it (an exception must never cross the Qt boundary).
    """

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.parts: list[QUndoCommand] = []
        self.error: Exception | None = None

    def add(self, command: QUndoCommand) -> QUndoCommand:
        self.parts.append(command)
        return command

    def childCount(self) -> int:  # noqa: N802 - Qt name
        return len(self.parts)

    def redo(self) -> None:
        done: list[QUndoCommand] = []
        try:
            for part in self.parts:
                part.redo()
                done.append(part)
        except Exception as exc:  # noqa: BLE001 - rolled back and reported by the controller
            for part in reversed(done):
                part.undo()
            self.error = exc
            self.setObsolete(True)

    def undo(self) -> None:
        for part in reversed(self.parts):
            part.undo()


# -- cell commands ---------------------------------------------------------------
class AddNodeCommand(QUndoCommand):
    """Add an intermediate node (fixed id so redo is repeatable)."""

    def __init__(self, design: CellDesign, which: str, node_id: int, position: Pos | None,
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(f"Add node {node_id}", parent)
        self.design, self.which, self.node_id, self.position = design, which, node_id, position

    def redo(self) -> None:
        self.design.add_node(self.which, self.node_id, self.position)

    def undo(self) -> None:
        self.design.remove_node(self.which, self.node_id)


class RemoveNodeCommand(QUndoCommand):
    """Remove a node that has no edges; undo puts it back at the same list index."""

    def __init__(self, design: CellDesign, which: str, node_id: int,
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(f"Delete node {node_id}", parent)
        self.design, self.which, self.node_id = design, which, node_id
        self._index = 0
        self._position: Pos | None = None
        self._concat: list[int] = []

    def redo(self) -> None:
        cell = self.design.cell(self.which)
        self._index = cell.nodes.index(self.node_id)
        self._position = cell.positions.get(self.node_id)
        self._concat = list(cell.concat)
        self.design.remove_node(self.which, self.node_id)

    def undo(self) -> None:
        reinsert_node(self.design, self.which, self.node_id, self._index, self._position,
                      self._concat)


def reinsert_node(design: CellDesign, which: str, node_id: int, index: int,
                  position: Pos | None, concat: list[int]) -> None:
    """Put ``node_id`` back at ``index`` of the node list using mutators only.

    ``add_node`` appends, so the nodes after ``index`` are taken out (with their
    edges) and added back behind it; edges return to their original indices.
    """
    cell = design.cell(which)
    tail = list(cell.nodes[index:])
    tail_positions = {n: cell.positions.get(n) for n in tail}
    removed: list[tuple[int, Edge]] = []
    for i in range(len(cell.edges) - 1, -1, -1):
        e = cell.edges[i]
        if e.source in tail or e.target in tail:
            removed.append((i, design.remove_edge(which, i)))
    for n in tail:
        design.remove_node(which, n)
    design.add_node(which, node_id, position)
    for n in tail:
        design.add_node(which, n, tail_positions[n])
    for i, e in sorted(removed, key=lambda t: t[0]):
        design.add_edge(which, e.source, e.target, e.op, index=i)
    if list(cell.concat) != list(concat):
        design.set_concat(which, concat)


class AddEdgeCommand(QUndoCommand):
    def __init__(self, design: CellDesign, which: str, source: int, target: int, op: str,
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(f"Connect {source} → {target} ({op})", parent)
        self.design, self.which = design, which
        self.source, self.target, self.op = source, target, op
        self._index = 0

    def redo(self) -> None:
        self._index = self.design.add_edge(self.which, self.source, self.target, self.op)

    def undo(self) -> None:
        self.design.remove_edge(self.which, self._index)


class RemoveEdgeCommand(QUndoCommand):
    def __init__(self, design: CellDesign, which: str, index: int,
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(f"Delete edge {index}", parent)
        self.design, self.which, self.index = design, which, index
        self._edge: Edge | None = None

    def redo(self) -> None:
        self._edge = self.design.remove_edge(self.which, self.index)

    def undo(self) -> None:
        assert self._edge is not None
        e = self._edge
        self.design.add_edge(self.which, e.source, e.target, e.op, index=self.index)


class SetEdgeOpCommand(QUndoCommand):
    def __init__(self, design: CellDesign, which: str, index: int, op: str,
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(f"Set edge op to {op}", parent)
        self.design, self.which, self.index, self.op = design, which, index, op
        self._old = op

    def redo(self) -> None:
        self._old = self.design.set_edge_op(self.which, self.index, self.op)

    def undo(self) -> None:
        self.design.set_edge_op(self.which, self.index, self._old)


class SetConcatCommand(QUndoCommand):
    def __init__(self, design: CellDesign, which: str, concat: list[int],
                 parent: QUndoCommand | None = None) -> None:
        super().__init__("Change cell output", parent)
        self.design, self.which, self.concat = design, which, list(concat)
        self._old: list[int] = []

    def redo(self) -> None:
        self._old = self.design.set_concat(self.which, self.concat)

    def undo(self) -> None:
        self.design.set_concat(self.which, self._old)


class MoveNodesCommand(QUndoCommand):
    """One drag (or auto-layout) of several nodes: ``{node: (old, new)}``."""

    def __init__(self, design: CellDesign, which: str,
                 moves: dict[int, tuple[Pos | None, Pos | None]], text: str = "Move",
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(text, parent)
        self.design, self.which, self.moves = design, which, dict(moves)

    def redo(self) -> None:
        for node, (_old, new) in self.moves.items():
            self.design.set_position(self.which, node, new)

    def undo(self) -> None:
        for node, (old, _new) in self.moves.items():
            self.design.set_position(self.which, node, old)


class SetMacroCommand(QUndoCommand):
    def __init__(self, design: CellDesign, fields: dict[str, Any],
                 parent: QUndoCommand | None = None) -> None:
        super().__init__("Change " + ", ".join(fields), parent)
        self.design, self.fields = design, dict(fields)
        self._old: dict[str, Any] = {}

    def redo(self) -> None:
        self._old = self.design.set_macro(**self.fields)

    def undo(self) -> None:
        self.design.set_macro(**self._old)


# -- stack commands --------------------------------------------------------------
class InsertStageCommand(QUndoCommand):
    def __init__(self, design: BlockStack, index: int, stage: Stage,
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(f"Insert {stage.block} stage", parent)
        self.design, self.index, self.stage = design, index, stage

    def redo(self) -> None:
        from copy import deepcopy

        self.design.insert_stage(self.index, deepcopy(self.stage))

    def undo(self) -> None:
        self.design.remove_stage(self.index)


class RemoveStageCommand(QUndoCommand):
    def __init__(self, design: BlockStack, index: int,
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(f"Delete stage {index + 1}", parent)
        self.design, self.index = design, index
        self._stage: Stage | None = None

    def redo(self) -> None:
        self._stage = self.design.remove_stage(self.index)

    def undo(self) -> None:
        assert self._stage is not None
        self.design.insert_stage(self.index, self._stage)


class MoveStageCommand(QUndoCommand):
    def __init__(self, design: BlockStack, src: int, dst: int,
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(f"Move stage {src + 1} to {dst + 1}", parent)
        self.design, self.src, self.dst = design, src, dst

    def redo(self) -> None:
        self.design.move_stage(self.src, self.dst)

    def undo(self) -> None:
        self.design.move_stage(self.dst, self.src)


class SetStageCommand(QUndoCommand):
    def __init__(self, design: BlockStack, index: int, fields: dict[str, Any],
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(f"Edit stage {index + 1}: " + ", ".join(fields), parent)
        self.design, self.index, self.fields = design, index, dict(fields)
        self._old: dict[str, Any] = {}

    def redo(self) -> None:
        self._old = self.design.set_stage(self.index, **self.fields)

    def undo(self) -> None:
        self.design.set_stage(self.index, **self._old)


class SetFieldsCommand(QUndoCommand):
    """Stack-level fields (width/depth/resolution...); consecutive edits merge."""

    MERGE_ID = 6001

    def __init__(self, design: BlockStack, fields: dict[str, Any], text: str | None = None,
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(text or ("Change " + ", ".join(fields)), parent)
        self.design, self.fields = design, dict(fields)
        self._old: dict[str, Any] = {}

    def id(self) -> int:  # noqa: A003 - Qt override
        return self.MERGE_ID

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt override
        if not isinstance(other, SetFieldsCommand) or set(other.fields) != set(self.fields):
            return False
        self.fields = dict(other.fields)
        return True

    def redo(self) -> None:
        old = self.design.set_fields(**self.fields)
        if not self._old:
            self._old = old

    def undo(self) -> None:
        self.design.set_fields(**self._old)
