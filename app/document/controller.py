"""DocumentController: one open design, its undo stack, file path and live validation.

Every edit goes through ``push`` as a QUndoCommand that calls the model's mutators.
Views listen to ``changed`` (emitted once per command, after the model settled) and
``problems_changed`` (validator output).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from app.document import commands as cmd
from engine.arch.model import BlockStack, CellDesign, ChangeEvent, Design, Stage

Pos = tuple[float, float]


@dataclass(frozen=True)
class ItemProblem:
    """A validator problem attached to what it is about (all ``None`` = whole design)."""

    message: str
    severity: str = "error"
    cell: str | None = None
    nodes: tuple[int, ...] = ()
    edge: int | None = None  # 0-based index into Cell.edges
    stage: int | None = None  # 0-based index into BlockStack.stages
    output: bool = False  # about the cell's concat/output

    @property
    def node(self) -> int | None:
        return self.nodes[0] if self.nodes else None


_CELL_RE = re.compile(r"^(normal|reduce)\b")
_NODES_RE = re.compile(r", (?:node|nodes|input) ([\d, ]+)")
_EDGE_RE = re.compile(r", edge (\d+)")
_STAGE_RE = re.compile(r"^stages\[(\d+)\]")


def locate_problem(location: str, message: str, severity: str = "error") -> ItemProblem:
    """Map a validator location to canvas items.

    Locations (engine.arch.validate): ``"reduce cell, node 3"``, ``"normal cell, nodes
    2, 4"`` (a cycle), ``"normal cell, edge 5 (...)"`` (1-based), ``"normal cell.concat"``,
    ``"stages[2].kernel"`` (0-based).
    """
    m = _CELL_RE.match(location)
    cell = m.group(1) if m else None
    nodes: tuple[int, ...] = ()
    edge = stage = None
    if (mn := _NODES_RE.search(location)) is not None:
        nodes = tuple(int(x) for x in re.findall(r"\d+", mn.group(1)))
    if (me := _EDGE_RE.search(location)) is not None:
        edge = int(me.group(1)) - 1
    if (ms := _STAGE_RE.match(location)) is not None:
        stage = int(ms.group(1))
    output = cell is not None and ".concat" in location
    text = f"{location}: {message}" if location else message
    return ItemProblem(text, severity, cell, nodes, edge, stage, output)


def validate_design(design: Design) -> list[ItemProblem]:
    """Run engine.arch.validate (when it is installed) and locate each problem."""
    try:
        from engine.arch.validate import validate
    except ImportError:
        return []
    out: list[ItemProblem] = []
    for p in validate(design):
        out.append(locate_problem(str(getattr(p, "location", "")), str(p.message),
                                  str(getattr(p, "severity", "error"))))
    return out


class DocumentController(QObject):
    """One open design: model, undo stack, file path, validity."""

    changed = Signal(object)  # list[ChangeEvent] of the finished edit
    problems_changed = Signal(object)  # list[ItemProblem]
    title_changed = Signal(str)
    edit_failed = Signal(str)

    def __init__(self, design: Design, path: str | None = None, read_only: bool = False,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.design = design
        self.path = path
        self.read_only = read_only
        self.undo_stack = QUndoStack(self)
        self.problems: list[ItemProblem] = []
        self._pending: list[ChangeEvent] = []
        self._flush_timer = QTimer(self, singleShot=True, interval=0)
        self._flush_timer.timeout.connect(self.flush)
        self._unsubscribe = design.subscribe(self._on_model_event)
        self.undo_stack.indexChanged.connect(self._on_index_changed)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self.revalidate()

    # -- bookkeeping --------------------------------------------------------------
    def title(self) -> str:
        name = Path(self.path).name if self.path else self.design.name
        return f"{name}{' *' if self.is_modified() else ''}{' (read-only)' if self.read_only else ''}"

    def is_modified(self) -> bool:
        return not self.undo_stack.isClean()

    def is_cell(self) -> bool:
        return isinstance(self.design, CellDesign)

    def _on_index_changed(self, _index: int) -> None:
        self.flush()

    def _on_clean_changed(self, _clean: bool) -> None:
        self.title_changed.emit(self.title())

    def _on_model_event(self, event: ChangeEvent) -> None:
        self._pending.append(event)
        self._flush_timer.start()

    def flush(self) -> None:
        """Deliver the model events collected since the last flush (one edit)."""
        if not self._pending:
            return
        events, self._pending = self._pending, []
        self.revalidate()
        self.changed.emit(events)

    def revalidate(self) -> None:
        self.problems = validate_design(self.design)
        self.problems_changed.emit(self.problems)

    def errors(self) -> list[ItemProblem]:
        return [p for p in self.problems if p.severity == "error"]

    def push(self, command: QUndoCommand) -> bool:
        """Run ``command`` through the undo stack (refused for read-only documents).

        Returns False, and emits ``edit_failed``, when the model refused the edit.
        """
        if self.read_only:
            return False
        if not isinstance(command, cmd.MacroCommand) and command.id() == -1:
            macro = cmd.MacroCommand(command.text())
            macro.add(command)
            command = macro
        self.undo_stack.push(command)
        self.flush()
        error = getattr(command, "error", None)
        if error is not None:
            self.edit_failed.emit(f"{command.text()}: {error}")
            return False
        return True

    def close(self) -> None:
        self._unsubscribe()

    # -- files ----------------------------------------------------------------------
    def save(self, path: str | None = None) -> str:
        """Write the design JSON (positions included); marks the stack clean."""
        from engine.arch.serialize import save_design

        target = path or self.path
        if not target:
            raise ValueError("no file name given")
        save_design(self.design, target)
        self.path = str(target)
        self.undo_stack.setClean()
        self.title_changed.emit(self.title())
        return self.path

    def snapshot(self) -> Design:
        return self.design.copy()

    # -- cell edits -----------------------------------------------------------------
    def _cell(self, which: str) -> Any:
        assert isinstance(self.design, CellDesign)
        return self.design.cell(which)

    def next_node_id(self, which: str) -> int:
        return max(self._cell(which).all_ids()) + 1

    def default_source(self, which: str, target: int) -> int:
        """The node an input edge comes from by default: the previous node."""
        cell = self._cell(which)
        earlier = [n for n in cell.all_ids() if n < target]
        if not earlier:
            return 0
        existing = {e.source for e in cell.inputs_of(target)}
        fresh = [n for n in earlier if n not in existing]
        return max(fresh) if fresh else max(earlier)

    def add_node(self, which: str, op: str, position: Pos | None = None,
                 source: int | None = None) -> int:
        """New node fed by ``source`` (default: the last node) through ``op``, in the output."""
        cell = self._cell(which)
        node = self.next_node_id(which)
        if source is None:
            source = max(cell.all_ids())
        macro = cmd.MacroCommand(f"Add node {node} ({op})")
        macro.add(cmd.AddNodeCommand(self.design, which, node, position))
        macro.add(cmd.AddEdgeCommand(self.design, which, source, node, op))
        macro.add(cmd.SetConcatCommand(self.design, which, [*cell.concat, node]))
        self.push(macro)
        return node

    def add_input_edge(self, which: str, target: int, op: str) -> bool:
        """Drop of an op on a node: an input edge from the previous node."""
        cell = self._cell(which)
        if target < cell.n_inputs:
            self.add_node(which, op, None, source=target)
            return True
        return self.connect_nodes(which, self.default_source(which, target), target, op)

    def connect_nodes(self, which: str, source: int, target: int, op: str) -> bool:
        """Add edge ``source -> target``; refused for self-loops and edges into inputs."""
        cell = self._cell(which)
        if source == target or target < cell.n_inputs or target not in cell.all_ids():
            return False
        return self.push(cmd.AddEdgeCommand(self.design, which, source, target, op))

    def set_edge_op(self, which: str, index: int, op: str) -> bool:
        if self._cell(which).edges[index].op == op:
            return False
        return self.push(cmd.SetEdgeOpCommand(self.design, which, index, op))

    def set_edges_op(self, which: str, indices: list[int], op: str) -> bool:
        """Give several edges one op (the palette's "apply to selection"): one step."""
        edges = self._cell(which).edges
        todo = sorted(i for i in set(indices) if 0 <= i < len(edges) and edges[i].op != op)
        if not todo:
            return False
        macro = cmd.MacroCommand(f"Set {len(todo)} edge op(s) to {op}")
        for i in todo:
            macro.add(cmd.SetEdgeOpCommand(self.design, which, i, op))
        return self.push(macro)

    def set_in_output(self, which: str, node: int, on: bool) -> bool:
        concat = list(self._cell(which).concat)
        if on == (node in concat):
            return False
        concat = [*concat, node] if on else [n for n in concat if n != node]
        return self.push(cmd.SetConcatCommand(self.design, which, sorted(concat)))

    def delete(self, which: str, nodes: list[int] | None = None,
               edges: list[int] | None = None) -> bool:
        """Delete nodes (with their edges and output membership) and edges: one step."""
        cell = self._cell(which)
        nodes = [n for n in dict.fromkeys(nodes or []) if n in cell.nodes]
        doomed = {i for i in (edges or []) if 0 <= i < len(cell.edges)}
        doomed |= {i for i, e in enumerate(cell.edges) if e.source in nodes or e.target in nodes}
        if not nodes and not doomed:
            return False
        macro = cmd.MacroCommand(f"Delete {len(nodes)} node(s), {len(doomed)} edge(s)")
        for i in sorted(doomed, reverse=True):
            macro.add(cmd.RemoveEdgeCommand(self.design, which, i))
        for n in sorted(nodes, key=cell.nodes.index, reverse=True):
            macro.add(cmd.RemoveNodeCommand(self.design, which, n))
        return self.push(macro)

    def move_nodes(self, which: str, moves: dict[int, tuple[Pos | None, Pos | None]],
                   text: str = "Move") -> bool:
        moves = {n: (a, b) for n, (a, b) in moves.items() if a != b}
        if not moves:
            return False
        return self.push(cmd.MoveNodesCommand(self.design, which, moves, text))

    def auto_layout(self, which: str | None = None) -> bool:
        """Place every node by DAG generations and store the positions (one step)."""
        from app.canvas.layout import auto_layout

        assert isinstance(self.design, CellDesign)
        macro = cmd.MacroCommand("Auto-layout")
        for name, cell in self.design.cells().items():
            if which is not None and name != which:
                continue
            new = auto_layout(cell)
            moves = {n: (cell.positions.get(n), new[n]) for n in cell.all_ids()
                     if cell.positions.get(n) != new[n]}
            if moves:
                macro.add(cmd.MoveNodesCommand(self.design, name, moves, "Auto-layout"))
        if macro.childCount() == 0:
            return False
        return self.push(macro)

    def paste(self, which: str, fragment: dict, offset: Pos = (40.0, 40.0)) -> list[int]:
        """Paste copied nodes: internal edges kept, edges from cell inputs kept."""
        cell = self._cell(which)
        base = self.next_node_id(which)
        mapping = {old: base + i for i, old in enumerate(fragment.get("nodes", []))}
        if not mapping:
            return []
        macro = cmd.MacroCommand(f"Paste {len(mapping)} node(s)")
        positions = {int(k): v for k, v in fragment.get("positions", {}).items()}
        for old, new in mapping.items():
            pos = positions.get(old)
            pos = (pos[0] + offset[0], pos[1] + offset[1]) if pos else None
            macro.add(cmd.AddNodeCommand(self.design, which, new, pos))
        for src, dst, op in fragment.get("edges", []):
            if dst not in mapping:
                continue
            if src in mapping:
                src = mapping[src]
            elif not 0 <= src < cell.n_inputs:
                continue
            macro.add(cmd.AddEdgeCommand(self.design, which, src, mapping[dst], op))
        concat = [*cell.concat, *(mapping[n] for n in fragment.get("concat", []) if n in mapping)]
        if concat != cell.concat:
            macro.add(cmd.SetConcatCommand(self.design, which, concat))
        self.push(macro)
        return list(mapping.values())

    def set_macro(self, **fields: Any) -> bool:
        assert isinstance(self.design, CellDesign)
        if all(getattr(self.design.macro, k) == v for k, v in fields.items()):
            return False
        return self.push(cmd.SetMacroCommand(self.design, fields))

    # -- stack edits ----------------------------------------------------------------
    def _stack(self) -> BlockStack:
        assert isinstance(self.design, BlockStack)
        return self.design

    def insert_stage(self, index: int, stage: Stage) -> bool:
        index = max(0, min(index, len(self._stack().stages)))
        return self.push(cmd.InsertStageCommand(self._stack(), index, copy.deepcopy(stage)))

    def remove_stages(self, indices: list[int]) -> bool:
        stack = self._stack()
        indices = sorted({i for i in indices if 0 <= i < len(stack.stages)}, reverse=True)
        if not indices:
            return False
        macro = cmd.MacroCommand(f"Delete {len(indices)} stage(s)")
        for i in indices:
            macro.add(cmd.RemoveStageCommand(stack, i))
        return self.push(macro)

    def move_stage(self, src: int, dst: int) -> bool:
        n = len(self._stack().stages)
        dst = max(0, min(dst, n - 1))
        if src == dst or not 0 <= src < n:
            return False
        return self.push(cmd.MoveStageCommand(self._stack(), src, dst))

    def set_stage(self, index: int, **fields: Any) -> bool:
        stage = self._stack().stages[index]
        fields = {k: v for k, v in fields.items() if getattr(stage, k) != v}
        if not fields:
            return False
        return self.push(cmd.SetStageCommand(self._stack(), index, fields))

    def set_stages(self, indices: list[int], **fields: Any) -> bool:
        """The same fields on several stages (a block type applied to a selection): one step."""
        stages = self._stack().stages
        todo = [i for i in sorted(set(indices)) if 0 <= i < len(stages)
                and any(getattr(stages[i], k) != v for k, v in fields.items())]
        if not todo:
            return False
        macro = cmd.MacroCommand(f"Edit {len(todo)} stage(s): " + ", ".join(fields))
        for i in todo:
            macro.add(cmd.SetStageCommand(self._stack(), i, fields))
        return self.push(macro)

    def set_fields(self, text: str | None = None, **fields: Any) -> bool:
        stack = self._stack()
        fields = {k: v for k, v in fields.items() if getattr(stack, k) != v}
        if not fields:
            return False
        return self.push(cmd.SetFieldsCommand(stack, fields, text))
