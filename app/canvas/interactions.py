"""Canvas gestures, one class per gesture (after orange-canvas-core's interactions).

Each gesture reads the scene, and on completion asks the DocumentController for one
edit (one undo step). Rubber-band selection is QGraphicsView's own RubberBandDrag.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QMimeData, QPointF, QRectF, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem

from app import style
from app.canvas.items import NodeItem, PortItem, short_op
from engine.ops import registry

if TYPE_CHECKING:
    from app.canvas.cell_scene import CellScene

OP_MIME = "application/x-nas-studio-op"
FRAGMENT_MIME = "application/x-nas-studio-cell-fragment"
DEFAULT_OP = "sep_conv_3x3"
_TAG_FONT = QFont()
_TAG_FONT.setPointSizeF(9.0)


def op_mime(op: str) -> QMimeData:
    """The drag payload of a palette entry."""
    mime = QMimeData()
    mime.setData(OP_MIME, op.encode("utf-8"))
    mime.setText(op)
    return mime


def op_from_mime(mime: QMimeData) -> str | None:
    if not mime.hasFormat(OP_MIME):
        return None
    op = bytes(mime.data(OP_MIME).data()).decode("utf-8", "replace")
    return op if registry.exists(op) else None


class OpTag(QGraphicsItem):
    """The op a connection being drawn will get, shown next to the cursor."""

    def __init__(self, op: str) -> None:
        super().__init__()
        self.op = op
        self.text = f"+ {short_op(op)}"
        fm = QFontMetricsF(_TAG_FONT)
        self._rect = QRectF(12, 10, fm.horizontalAdvance(self.text) + 22, fm.height() + 8)
        self.setZValue(11)

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._rect.adjusted(-2, -2, 2, 2)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        color = style.op_color(self.op)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(color, 1.4))
        painter.setBrush(style.canvas_color("label_bg"))
        painter.drawRoundedRect(self._rect, 6, 6)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawEllipse(QRectF(self._rect.left() + 6, self._rect.center().y() - 3.5, 7, 7))
        painter.setPen(style.canvas_color("text"))
        painter.setFont(_TAG_FONT)
        painter.drawText(self._rect.adjusted(16, 0, -4, 0), Qt.AlignmentFlag.AlignVCenter,
                         self.text)


class NewEdgeInteraction:
    """Press on a node's output port, drag to another node, release: a new edge.

    The op the edge will get (the palette's highlighted cell op) rides along the cursor.
    """

    def __init__(self, scene: CellScene, port: PortItem) -> None:
        self.scene = scene
        self.source = port.node
        self.op = scene.connect_op()
        self.line = QGraphicsPathItem()
        pen = QPen(style.op_color(self.op), 2.0)
        pen.setDashPattern([4, 3])
        self.line.setPen(pen)
        self.line.setZValue(10)
        scene.addItem(self.line)
        self.tag = OpTag(self.op)
        scene.addItem(self.tag)
        self.move(self.source.out_anchor())

    def move(self, pos: QPointF) -> None:
        a = self.source.out_anchor()
        path = QPainterPath(a)
        dx = max(30.0, abs(pos.x() - a.x()) * 0.5)
        path.cubicTo(a + QPointF(dx, 0), pos - QPointF(dx, 0), pos)
        self.line.setPath(path)
        self.tag.setPos(pos)

    def finish(self, pos: QPointF) -> bool:
        self.cancel()
        target = self.scene.node_at(pos)
        if target is None or target is self.source:
            return False
        doc, which = self.scene.doc, self.scene.which
        if not doc.connect_nodes(which, self.source.node, target.node, self.op):
            return False
        # the new edge is selected: Enter (or the inspector) changes its op right away
        self.scene.select_keys([("edge", len(doc.design.cell(which).edges) - 1)])
        return True

    def cancel(self) -> None:
        self.scene.removeItem(self.line)
        self.scene.removeItem(self.tag)


class MoveSelectionInteraction:
    """Drag of the selected nodes: the scene moves the items, release records one step."""

    def __init__(self, scene: CellScene) -> None:
        self.scene = scene
        self.start = {item.node: (item.pos().x(), item.pos().y())
                      for item in scene.selectedItems() if isinstance(item, NodeItem)}

    def finish(self) -> bool:
        moves = {}
        for item in self.scene.node_items.values():
            if item.node in self.start:
                new = (item.pos().x(), item.pos().y())
                if new != self.start[item.node]:
                    old = self.scene.doc.design.cell(self.scene.which).positions.get(item.node)
                    moves[item.node] = (old, new)
        if not moves:
            return False
        return self.scene.doc.move_nodes(self.scene.which, moves, f"Move {len(moves)} node(s)")


class DropOpInteraction:
    """A palette op dropped on the canvas.

    On an edge: change its op. On a node: add an input edge from the previous node.
    On empty canvas: a new node there, fed by the last node, added to the output.
    """

    def __init__(self, scene: CellScene) -> None:
        self.scene = scene

    def accepts(self, mime: QMimeData) -> bool:
        op = op_from_mime(mime)
        return op is not None and registry.get(op).kind == "cell" and not self.scene.doc.read_only

    def drop(self, mime: QMimeData, pos: QPointF) -> bool:
        if not self.accepts(mime):
            return False
        op = op_from_mime(mime)
        assert op is not None
        doc, which = self.scene.doc, self.scene.which
        edge = self.scene.edge_at(pos)
        if edge is not None and edge.index is not None:
            return doc.set_edge_op(which, edge.index, op)
        node = self.scene.node_at(pos)
        if node is not None:
            return doc.add_input_edge(which, node.node, op)
        doc.add_node(which, op, (pos.x(), pos.y()))
        return True


class PaletteDropTarget:
    """Scene mixin: palette drags are accepted where ``self._drop.accepts`` says so and
    dropped through ``self.handle_drop(mime, scene_pos)`` (the path tests drive too)."""

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        event.setAccepted(self._drop.accepts(event.mimeData()))

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        event.setAccepted(self._drop.accepts(event.mimeData()))

    def dropEvent(self, event) -> None:  # noqa: N802
        if self.handle_drop(event.mimeData(), event.scenePos()):
            event.acceptProposedAction()
        else:
            event.ignore()
