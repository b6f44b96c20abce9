"""The cell graph scene: a view of one cell of a CellDesign document."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QMimeData, QPointF, Qt, Signal
from PySide6.QtWidgets import QGraphicsScene, QGraphicsSceneMouseEvent

from app.canvas.interactions import (
    DEFAULT_OP,
    DropOpInteraction,
    MoveSelectionInteraction,
    NewEdgeInteraction,
    PaletteDropTarget,
)
from app.canvas.items import LOD_TINY, EdgeItem, NodeItem, OutputItem, OverviewItem, PortItem
from app.canvas.keyboard import KeyboardSelection
from app.canvas.layout import output_position, positions_for
from app.canvas.routing import place_labels, route_edges
from app.document.controller import DocumentController, ItemProblem
from engine.arch.model import ChangeEvent
from engine.ops import registry

MAX_OUTPUT_CURVES = 40


class CellScene(PaletteDropTarget, KeyboardSelection, QGraphicsScene):
    """Nodes and edges of ``doc.design.cell(which)``; rebuilt from the model on change."""

    selection_keys_changed = Signal(object)  # list of ("node"|"edge", id)
    item_activated = Signal(object)  # ("node"|"edge", id): Enter on the item
    rebuilt = Signal()  # items recreated after an edit (views keep the design in sight)

    def __init__(self, doc: DocumentController, which: str) -> None:
        super().__init__()
        self.doc = doc
        self.which = which
        self.op_provider: Callable[[], str | None] = lambda: None
        self.node_items: dict[int, NodeItem] = {}
        self.edge_items: list[EdgeItem] = []
        self.output_item: OutputItem | None = None
        self.overview: OverviewItem | None = None
        self.zoom = 1.0
        self._drawn: dict[int, tuple[float, float]] = {}
        self._edge_gesture: NewEdgeInteraction | None = None
        self._move_gesture: MoveSelectionInteraction | None = None
        self._drop = DropOpInteraction(self)
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        self.rebuild()
        doc.changed.connect(self._on_changed)
        doc.problems_changed.connect(self.apply_problems)
        self.selectionChanged.connect(self._emit_selection)

    @property
    def cell(self):
        return self.doc.design.cell(self.which)

    # -- building ---------------------------------------------------------------
    def rebuild(self) -> None:
        """Recreate every item from the model, keeping the selection."""
        keep = set(self.selected_keys())
        self.blockSignals(True)
        self.clear()
        cell = self.cell
        positions = positions_for(cell, self._drawn)
        self._drawn = positions
        self.node_items = {}
        for n in cell.all_ids():
            item = NodeItem(n, cell.n_inputs, n in cell.concat)
            item.setPos(*positions[n])
            item.setFlag(NodeItem.GraphicsItemFlag.ItemIsMovable, not self.doc.read_only)
            self.addItem(item)
            self.node_items[n] = item
        self.output_item = OutputItem("output" if cell.n_inputs != 2 else "c_{k}")
        self.output_item.setPos(*output_position(cell, positions))
        self.addItem(self.output_item)
        self.edge_items = []
        by_target: dict[int, list[int]] = {}
        for i, e in enumerate(cell.edges):
            by_target.setdefault(e.target, []).append(i)
        for i, e in enumerate(cell.edges):
            src, dst = self.node_items.get(e.source), self.node_items.get(e.target)
            if src is None or dst is None:
                continue
            siblings = by_target[e.target]
            slot = (siblings.index(i) - (len(siblings) - 1) / 2) * 10.0
            item = EdgeItem(i, src, dst, e.op, slot)
            self.addItem(item)
            self.edge_items.append(item)
        # Big cells: the orange dot on each node marks output membership; curves from
        # hundreds of nodes to one output would only add clutter (and repaint time).
        concat = cell.concat if len(cell.nodes) <= MAX_OUTPUT_CURVES else []
        for k, n in enumerate(concat):
            if n in self.node_items:
                slot = (k - (len(concat) - 1) / 2) * 6.0
                self.addItem(EdgeItem(None, self.node_items[n], self.output_item, None, slot))
        self.place_labels()
        self.overview = None
        if len(cell.nodes) > MAX_OUTPUT_CURVES:
            self.overview = OverviewItem(list(self.node_items.values()), self.edge_items)
            self.addItem(self.overview)
        self._apply_zoom()
        for item in [*self.node_items.values(), *self.edge_items]:
            if item.key() in keep:
                item.setSelected(True)
        self.apply_problems(self.doc.problems)
        self.blockSignals(False)
        rect = self.itemsBoundingRect().adjusted(-400, -300, 400, 300)
        self.setSceneRect(rect)
        self.selection_keys_changed.emit(self.selected_keys())
        self.rebuilt.emit()

    def set_zoom(self, zoom: float) -> None:
        """Called by the view: below LOD_TINY a big cell is drawn by its overview item."""
        was = self._overview_on()
        self.zoom = zoom
        if self._overview_on() != was:
            self._apply_zoom()

    def _overview_on(self) -> bool:
        return self.overview is not None and self.zoom < LOD_TINY

    def _apply_zoom(self) -> None:
        on = self._overview_on()
        if self.overview is not None:
            self.overview.setVisible(on)
        for item in [*self.node_items.values(), *self.edge_items]:
            item.setVisible(not on)

    def place_labels(self) -> None:
        """Arcs around nodes in the way, then each op label at a free spot of its curve."""
        nodes = list(self.node_items.values())
        route_edges(self.edge_items, nodes)
        place_labels(self.edge_items, nodes)

    def _on_changed(self, events: list[ChangeEvent]) -> None:
        mine = [e for e in events if e.detail.get("cell", self.which) == self.which]
        if not mine:
            return
        if all(e.kind == "set_position" for e in mine):
            for e in mine:   # a position taken back (undo) returns the node to auto-layout
                if e.detail["node"] not in self.cell.positions:
                    self._drawn.pop(e.detail["node"], None)
            positions = positions_for(self.cell, self._drawn)
            self._drawn = positions
            for e in mine:
                item = self.node_items.get(e.detail["node"])
                if item is not None and (item.pos().x(), item.pos().y()) != positions[item.node]:
                    item.setPos(*positions[item.node])
            if self.output_item is not None:
                self.output_item.setPos(*output_position(self.cell, positions))
                for edge in self.output_item.edges:
                    edge.update_path()
            if len(self.cell.nodes) <= MAX_OUTPUT_CURVES:   # big cells: a move stays cheap
                self.place_labels()
            return
        self.rebuild()

    def apply_problems(self, problems: list[ItemProblem]) -> None:
        """Red outline + tooltip on the items a validator problem names."""
        node_msgs: dict[int, list[str]] = {}
        edge_msgs: dict[int, list[str]] = {}
        out_msgs: list[str] = []
        for p in problems:
            if p.cell != self.which or p.severity != "error":
                continue
            if p.edge is not None:
                edge_msgs.setdefault(p.edge, []).append(p.message)
            for n in p.nodes:
                node_msgs.setdefault(n, []).append(p.message)
            if p.output:
                out_msgs.append(p.message)
        if self.output_item is not None:
            self.output_item.set_problem("\n".join(out_msgs) or None)
        for n, item in self.node_items.items():
            item.set_problem("\n".join(node_msgs[n]) if n in node_msgs else None)
        for item in self.edge_items:
            msgs = edge_msgs.get(item.index) if item.index is not None else None
            item.set_problem("\n".join(msgs) if msgs else None)

    def invalid_items(self) -> list[NodeItem | EdgeItem]:
        items = [*self.node_items.values(), *self.edge_items, self.output_item]
        return [i for i in items if i is not None and i.problem]

    # -- queries ----------------------------------------------------------------
    def node_at(self, pos: QPointF) -> NodeItem | None:
        for item in self.items(pos):
            while item is not None and not isinstance(item, NodeItem):
                item = item.parentItem()
            if isinstance(item, NodeItem):
                return item
        return None

    def edge_at(self, pos: QPointF) -> EdgeItem | None:
        """The edge under ``pos``: the one whose op label is there, else the first curve."""
        hits = []
        for item in self.items(pos):
            if isinstance(item, NodeItem | PortItem):
                break
            if isinstance(item, EdgeItem) and item.index is not None:
                hits.append(item)
        labelled = [e for e in hits if e.label_rect().contains(pos)]
        return (labelled or hits or [None])[0]

    def keyboard_items(self) -> list[NodeItem | EdgeItem]:
        """Reading order for Tab: each node, then the edges coming into it."""
        into: dict[int, list[EdgeItem]] = {}
        for e in self.edge_items:
            into.setdefault(e.target.node, []).append(e)
        out: list[NodeItem | EdgeItem] = []
        for n in sorted(self.node_items):
            out += [self.node_items[n], *sorted(into.get(n, []), key=lambda e: e.index)]
        return [i for i in out if i.isVisible()]

    def cancel_gesture(self) -> bool:
        if self._edge_gesture is None:
            return False
        gesture, self._edge_gesture = self._edge_gesture, None
        gesture.cancel()
        return True

    def _emit_selection(self) -> None:
        self.selection_keys_changed.emit(self.selected_keys())

    def selected_keys(self) -> list[tuple[str, int]]:
        return [i.key() for i in self.selectedItems() if isinstance(i, NodeItem | EdgeItem)]

    def select_keys(self, keys: list[tuple[str, int]]) -> None:
        self.clearSelection()
        wanted = set(keys)
        for item in [*self.node_items.values(), *self.edge_items]:
            if item.key() in wanted:
                item.setSelected(True)

    def connect_op(self) -> str:
        """The op a drawn connection gets: the palette's current cell op, else sep_conv_3x3."""
        op = self.op_provider()
        if op and registry.exists(op) and registry.get(op).kind == "cell":
            return op
        return DEFAULT_OP

    # -- edits ------------------------------------------------------------------
    def delete_selection(self) -> bool:
        keys = self.selected_keys()
        nodes = [k for kind, k in keys if kind == "node"]
        edges = [k for kind, k in keys if kind == "edge"]
        return self.doc.delete(self.which, nodes, edges)

    def copy_selection(self) -> dict:
        """A fragment of the selected intermediate nodes (and edges feeding them)."""
        cell = self.cell
        nodes = [k for kind, k in self.selected_keys() if kind == "node" and k in cell.nodes]
        nodes.sort(key=cell.nodes.index)
        return {"nodes": nodes,
                "edges": [[e.source, e.target, e.op] for e in cell.edges if e.target in nodes],
                "concat": [n for n in cell.concat if n in nodes],
                "positions": {str(n): list(self.node_items[n].pos().toTuple()) for n in nodes}}

    def paste(self, fragment: dict) -> list[int]:
        new = self.doc.paste(self.which, fragment)
        self.select_keys([("node", n) for n in new])
        return new

    def handle_drop(self, mime: QMimeData, pos: QPointF) -> bool:
        """What a palette drop does (the drop event calls this)."""
        return self._drop.drop(mime, pos)

    # -- events ------------------------------------------------------------------
    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton and not self.doc.read_only:
            for item in self.items(event.scenePos()):
                if isinstance(item, PortItem):
                    self._edge_gesture = NewEdgeInteraction(self, item)
                    event.accept()
                    return
                if isinstance(item, NodeItem):
                    break
        super().mousePressEvent(event)
        if event.button() == Qt.MouseButton.LeftButton and not self.doc.read_only:
            self._move_gesture = MoveSelectionInteraction(self)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if self._edge_gesture is not None:
            self._edge_gesture.move(event.scenePos())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if self._edge_gesture is not None:
            gesture, self._edge_gesture = self._edge_gesture, None
            gesture.finish(event.scenePos())
            event.accept()
            return
        super().mouseReleaseEvent(event)
        if self._move_gesture is not None:
            gesture, self._move_gesture = self._move_gesture, None
            gesture.finish()

