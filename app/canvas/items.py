"""Graphics items of the cell canvas: nodes with ports, op-labelled edges, the output node."""

from __future__ import annotations

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import QGraphicsItem, QGraphicsObject, QStyleOptionGraphicsItem, QWidget

from app import style
from engine.ops import registry

NODE_W, NODE_H = 118.0, 44.0
PORT_R = 6.0
LOD_DETAIL = 0.4  # below this zoom, items drop text, labels and arrow heads
LOD_TINY = 0.15  # below this, edges are straight cosmetic lines

_FONT = QFont()
_FONT.setPointSizeF(9.5)
_BOLD = QFont(_FONT)
_BOLD.setBold(True)
_SMALL = QFont()
_SMALL.setPointSizeF(8.5)


def short_op(op: str) -> str:
    """A compact edge label: ``sep_conv_3x3`` -> ``sep 3×3``."""
    table = {"skip_connect": "skip", "none": "none", "conv_7x1_1x7": "conv 7×1·1×7"}
    if op in table:
        return table[op]
    parts = op.split("_")
    size = parts[-1].replace("x", "×") if parts and "x" in parts[-1] else ""
    head = {"sep": "sep", "dil": "dil", "max": "max", "avg": "avg", "nor": "conv"}.get(
        parts[0], parts[0])
    return f"{head} {size}".strip()


def node_label(node: int, n_inputs: int) -> str:
    if node < n_inputs:
        if n_inputs == 1:
            return "input"
        back = n_inputs - node
        return f"c_{{k-{back}}}"
    return f"node {node}"


class PortItem(QGraphicsItem):
    """The output port on the right side of a node: drag from it to connect."""

    def __init__(self, node: NodeItem) -> None:
        super().__init__(node)
        self.node = node
        self.setPos(NODE_W / 2, 0)
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Drag to another node to connect")
        self._hover = False

    def boundingRect(self) -> QRectF:  # noqa: N802
        r = PORT_R + 3
        return QRectF(-r, -r, 2 * r, 2 * r)

    def hoverEnterEvent(self, event) -> None:  # noqa: N802
        self._hover = True
        connect_op = getattr(self.scene(), "connect_op", None)
        if connect_op is not None:   # say which op the new edge will get
            op = connect_op()
            name = registry.get(op).display if registry.exists(op) else op
            self.setToolTip(f"Drag to another node to connect through {name}\n"
                            "(the op highlighted in the palette)")
        self.update()

    def hoverLeaveEvent(self, event) -> None:  # noqa: N802
        self._hover = False
        self.update()

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        if option.levelOfDetailFromTransform(painter.worldTransform()) < LOD_DETAIL:
            return
        r = PORT_R + (2 if self._hover else 0)
        painter.setPen(QPen(style.canvas_color("node_border"), 1.5))
        painter.setBrush(style.canvas_color("selection") if self._hover
                         else style.canvas_color("node"))
        painter.drawEllipse(QPointF(0, 0), r, r)


class NodeItem(QGraphicsObject):
    """A cell node (input, intermediate) drawn as a rounded card."""

    def __init__(self, node: int, n_inputs: int, in_output: bool) -> None:
        super().__init__()
        self.node = node
        self.is_input = node < n_inputs
        self.in_output = in_output
        self.label = node_label(node, n_inputs)
        self.edges: list[EdgeItem] = []
        self.problem: str | None = None
        self.port = PortItem(self)
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
                      | QGraphicsItem.GraphicsItemFlag.ItemIsMovable
                      | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges)
        self.setZValue(2)
        self._update_tooltip()

    def key(self) -> tuple[str, int]:
        return ("node", self.node)

    def set_problem(self, message: str | None) -> None:
        if message != self.problem:
            self.problem = message
            self._update_tooltip()
            self.update()

    def _update_tooltip(self) -> None:
        kind = "Cell input" if self.is_input else "Intermediate node"
        tip = f"{kind} {self.node}" + (" · in the cell output" if self.in_output else "")
        self.setToolTip(f"⚠ {self.problem}\n{tip}" if self.problem else tip)

    def boundingRect(self) -> QRectF:  # noqa: N802
        return QRectF(-NODE_W / 2 - 4, -NODE_H / 2 - 4, NODE_W + 8 + PORT_R, NODE_H + 8)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(QRectF(-NODE_W / 2, -NODE_H / 2, NODE_W, NODE_H), 10, 10)
        return path

    def in_anchor(self) -> QPointF:
        return self.scenePos() + QPointF(-NODE_W / 2, 0)

    def out_anchor(self) -> QPointF:
        return self.scenePos() + QPointF(NODE_W / 2, 0)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        rect = QRectF(-NODE_W / 2, -NODE_H / 2, NODE_W, NODE_H)
        fill = style.canvas_color("input" if self.is_input else "node")
        border = style.canvas_color("node_border")
        width = 1.3
        if self.isSelected():
            border, width = style.canvas_color("selection"), 2.6
        if self.problem:
            border, width = style.canvas_color("invalid"), 2.6
        painter.setPen(QPen(border, width))
        painter.setBrush(fill)
        if option.levelOfDetailFromTransform(painter.worldTransform()) < LOD_DETAIL:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            painter.fillRect(rect, border if self.isSelected() or self.problem else fill.darker(108))
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.drawRoundedRect(rect, 10, 10)
        if self.in_output:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor("#f59e0b"))
            painter.drawEllipse(QPointF(-NODE_W / 2 + 12, -NODE_H / 2 + 11), 3.5, 3.5)
        painter.setPen(style.canvas_color("text"))
        painter.setFont(_BOLD)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.label)

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value):  # noqa: N802
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for edge in self.edges:
                edge.update_path()
        return super().itemChange(change, value)


class OutputItem(QGraphicsObject):
    """The virtual output node: concatenation of the nodes in ``Cell.concat``."""

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label
        self.edges: list[EdgeItem] = []
        self.problem: str | None = None
        self.setZValue(2)
        self.set_problem(None)

    def key(self) -> tuple[str, int]:
        return ("output", 0)

    def set_problem(self, message: str | None) -> None:
        self.problem = message
        tip = "Cell output: concatenation of the marked nodes"
        self.setToolTip(f"⚠ {message}\n{tip}" if message else tip)
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802
        return QRectF(-NODE_W / 2 - 2, -NODE_H / 2 - 2, NODE_W + 4, NODE_H + 4)

    def in_anchor(self) -> QPointF:
        return self.scenePos() + QPointF(-NODE_W / 2, 0)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        rect = QRectF(-NODE_W / 2, -NODE_H / 2, NODE_W, NODE_H)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(style.canvas_color("invalid"), 2.6) if self.problem
                       else QPen(QColor("#d97706"), 1.6))
        painter.setBrush(style.canvas_color("output"))
        painter.drawRoundedRect(rect, 22, 22)
        painter.setPen(style.canvas_color("text"))
        painter.setFont(_BOLD)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.label)


class EdgeItem(QGraphicsItem):
    """A curved arrow from a node's output to another node, labelled with its op."""

    def __init__(self, index: int | None, source: NodeItem, target: NodeItem | OutputItem,
                 op: str | None, slot: float = 0.0, label_at: float = 0.5) -> None:
        super().__init__()
        self.index = index
        self.source, self.target, self.op = source, target, op
        self.slot = slot  # vertical offset of the arrow head among the target's inputs
        self.label_at = label_at  # where along the curve the op label sits (0..1)
        self.bend = 0.0  # vertical offset of an arc around the nodes between the ends
        self.problem: str | None = None
        self._path = QPainterPath()
        self._shape = QPainterPath()
        self._label_rect = QRectF()
        self._bounds = QRectF()
        self._arrow = QPolygonF()
        self._ends = QLineF()
        self._text = short_op(op) if op else ""
        self._label_size: tuple[float, float] | None = None
        self._ctrl = (0.0,) * 8
        self._color = style.op_color(op) if op else style.canvas_color("muted")
        if op is not None:
            self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
            self.setAcceptHoverEvents(True)
        self.setZValue(1)
        source.edges.append(self)
        target.edges.append(self)
        self._update_tooltip()
        self.update_path()

    def key(self) -> tuple[str, int]:
        return ("edge", -1 if self.index is None else self.index)

    def set_problem(self, message: str | None) -> None:
        if message != self.problem:
            self.problem = message
            self._update_tooltip()
            self.update()

    def _update_tooltip(self) -> None:
        if self.op is None:
            self.setToolTip(f"node {self.source.node} → cell output (concat)")
            return
        disp = registry.get(self.op).display if registry.exists(self.op) else self.op
        tip = f"{disp}  ({self.op})\nnode {self.source.node} → node {self.target.node}"
        self.setToolTip(f"⚠ {self.problem}\n{tip}" if self.problem else tip)

    def path(self) -> QPainterPath:
        return self._path

    def has_label(self) -> bool:
        return bool(self._text)

    def label_rect(self) -> QRectF:
        return QRectF(self._label_rect)

    def set_bend(self, bend: float) -> None:
        if bend != self.bend:
            self.bend = bend
            self.update_path()

    def set_label_at(self, t: float) -> None:
        if t != self.label_at:
            self.label_at = t
            self.update_path()

    def update_path(self) -> None:
        """Recompute the curve, label box, arrow head and bounds (after a node moved)."""
        self.prepareGeometryChange()
        a = self.source.out_anchor()
        b = self.target.in_anchor() + QPointF(-2, self.slot)
        dx = max(40.0, abs(b.x() - a.x()) * 0.5)
        if self.bend:   # an arc: leave and enter steeply so the row between stays clear
            dx = min(dx, 90.0)
        c1, c2 = a + QPointF(dx, self.bend), b + QPointF(-dx, self.bend)
        self._ctrl = (a.x(), a.y(), c1.x(), c1.y(), c2.x(), c2.y(), b.x(), b.y())
        path = QPainterPath(a)
        path.cubicTo(c1, c2, b)
        self._path = path
        self._ends = QLineF(a, b)
        if self._text:
            self._label_rect = self.label_rect_at(self.label_at)
        self._arrow = self._arrow_head(path)
        stroker = QPainterPathStroker()
        stroker.setWidth(10)
        shape = stroker.createStroke(path)
        if self._text:
            shape.addRoundedRect(self._label_rect, 6, 6)
        self._shape = shape
        self._bounds = path.boundingRect().united(self._label_rect).adjusted(-8, -8, 8, 8)

    def point_at(self, t: float) -> tuple[float, float]:
        """The curve's point at Bezier parameter ``t`` (cheaper than pointAtPercent)."""
        ax, ay, bx, by, cx, cy, dx, dy = self._ctrl
        u = 1.0 - t
        w0, w1, w2, w3 = u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t
        return (w0 * ax + w1 * bx + w2 * cx + w3 * dx, w0 * ay + w1 * by + w2 * cy + w3 * dy)

    def label_rect_at(self, t: float) -> QRectF:
        """The op label's box centred at parameter ``t`` of the curve."""
        if not self._text:
            return QRectF()
        if self._label_size is None:
            fm = QFontMetricsF(_SMALL)
            self._label_size = (fm.horizontalAdvance(self._text) + 14, fm.height() + 6)
        w, h = self._label_size
        x, y = self.point_at(t)
        return QRectF(x - w / 2, y - h / 2, w, h)

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._bounds

    def shape(self) -> QPainterPath:
        return self._shape

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        color = self._color
        width = 3.4 if self.isSelected() else 2.0
        if self.problem:
            color, width = style.canvas_color("invalid"), 3.0
        pen = QPen(color, width)
        if self.op is None:  # to the output: solid and light (dashing long curves is slow)
            color = QColor(color)
            color.setAlpha(150)
            pen = QPen(color, 1.3)
        elif self.op == "none":
            pen.setStyle(Qt.PenStyle.DotLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        if lod < LOD_DETAIL:  # far away: no labels or arrow heads; a chord when tiny
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            if lod < LOD_TINY:
                pen.setWidthF(0)
                painter.setPen(pen)
                painter.drawLine(self._ends)
            else:
                painter.drawPath(self._path)
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.drawPath(self._path)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawPolygon(self._arrow)
        if self._text:
            painter.setPen(QPen(color.darker(115), 1.6 if self.isSelected() else 1.0))
            painter.setBrush(style.canvas_color("label_bg"))
            painter.drawRoundedRect(self._label_rect, 6, 6)
            chip = QRectF(self._label_rect.left() + 4, self._label_rect.center().y() - 3, 6, 6)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color)
            painter.drawEllipse(chip)
            painter.setPen(style.canvas_color("text"))
            painter.setFont(_SMALL)
            painter.drawText(self._label_rect.adjusted(8, 0, 0, 0), Qt.AlignmentFlag.AlignCenter,
                             self._text)

    @staticmethod
    def _arrow_head(path: QPainterPath) -> QPolygonF:
        end = path.pointAtPercent(1.0)
        d = end - path.pointAtPercent(0.97)
        length = (d.x() ** 2 + d.y() ** 2) ** 0.5 or 1.0
        ux, uy = d.x() / length, d.y() / length
        size = 9.0
        left = QPointF(end.x() - ux * size - uy * size * 0.5, end.y() - uy * size + ux * size * 0.5)
        right = QPointF(end.x() - ux * size + uy * size * 0.5, end.y() - uy * size - ux * size * 0.5)
        return QPolygonF([end, left, right])


class OverviewItem(QGraphicsItem):
    """All nodes and edges of a big cell in two draw calls per color, for far zoom levels.

    The scene shows it (and hides the individual items) when the view zooms out below
    ``LOD_TINY``: one Python paint call instead of one per item keeps repaints fast.
    """

    def __init__(self, nodes: list[NodeItem], edges: list[EdgeItem]) -> None:
        super().__init__()
        self.setZValue(0)
        self._rects = [QRectF(n.pos().x() - NODE_W / 2, n.pos().y() - NODE_H / 2, NODE_W,
                              NODE_H) for n in nodes]
        self._lines: dict[str, list[QLineF]] = {}
        for e in edges:
            if e.op is not None:
                self._lines.setdefault(e._color.name(), []).append(QLineF(e._ends))
        bounds = QRectF()
        for r in self._rects:
            bounds = bounds.united(r)
        self._bounds = bounds.adjusted(-10, -10, 10, 10)

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._bounds

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        for color, lines in self._lines.items():
            pen = QPen(QColor(color), 0)
            painter.setPen(pen)
            painter.drawLines(lines)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(style.canvas_color("node_border"))
        painter.drawRects(self._rects)
