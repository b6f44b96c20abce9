"""The block stack scene: stem, stages as a vertical stack of cards, head."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QTransform
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsObject,
    QGraphicsScene,
    QGraphicsSceneMouseEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from app import style
from app.canvas.interactions import PaletteDropTarget, op_from_mime
from app.canvas.keyboard import KeyboardSelection
from app.document.controller import DocumentController, ItemProblem
from engine.arch.model import BlockStack, ChangeEvent, Stage
from engine.arch.scaling import scaled_head_channels, scaled_stages, scaled_stem_channels
from engine.ops import registry

CARD_W, CARD_H, GAP = 460.0, 64.0, 12.0

_TITLE = QFont()
_TITLE.setPointSizeF(10.5)
_TITLE.setBold(True)
_BODY = QFont()
_BODY.setPointSizeF(9.0)


def _scaled(drawn: int, built: int) -> str:
    """``"1280 ch → 1536"`` when the width multiplier changes a channel count."""
    return f"{drawn} ch" + (f" → {built}" if built != drawn else "")


def stage_title(stage: Stage) -> str:
    if stage.block == "ds":
        return f"MBConv1 (depthwise-separable)  {stage.kernel}×{stage.kernel}"
    e = int(stage.expansion) if float(stage.expansion).is_integer() else stage.expansion
    return f"MBConv{e}  {stage.kernel}×{stage.kernel}"


class StageCard(QGraphicsObject):
    """One stage: type, kernel, expansion, channels, stride, repeats, SE, activation."""

    def __init__(self, index: int | None, stage: Stage | None, scaled: Stage | None,
                 fixed_title: str = "", fixed_body: str = "") -> None:
        super().__init__()
        self.index, self.stage, self.scaled = index, stage, scaled
        self.fixed_title, self.fixed_body = fixed_title, fixed_body
        self.problem: str | None = None
        editable = index is not None
        if editable:
            self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
                          | QGraphicsItem.GraphicsItemFlag.ItemIsMovable)
            self.setCursor(Qt.CursorShape.OpenHandCursor)
        self.setZValue(1)
        self._tooltip()

    def key(self) -> tuple[str, int]:
        return ("stage", -1 if self.index is None else self.index)

    def _tooltip(self) -> None:
        if self.stage is None:
            self.setToolTip(self.fixed_body)
            return
        tip = registry.get(self.stage.block).display if registry.exists(self.stage.block) else ""
        self.setToolTip(f"⚠ {self.problem}\n{tip}" if self.problem else tip)

    def set_problem(self, message: str | None) -> None:
        if message != self.problem:
            self.problem = message
            self._tooltip()
            self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802
        return QRectF(-3, -3, CARD_W + 6, CARD_H + 6)

    def body_text(self) -> str:
        s, sc = self.stage, self.scaled
        if s is None:
            return self.fixed_body
        ch = f"{s.channels} ch" + (f" → {sc.channels}" if sc and sc.channels != s.channels else "")
        rep = f"×{s.repeats}" + (f" → {sc.repeats}" if sc and sc.repeats != s.repeats else "")
        se = f"SE {s.se:g}" if s.se else "no SE"
        return f"{rep}   ·   stride {s.stride}   ·   {ch}   ·   exp {s.expansion:g}   ·   {se}   ·   {s.act}"

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(0, 0, CARD_W, CARD_H)
        border, width = style.canvas_color("node_border"), 1.2
        if self.isSelected():
            border, width = style.canvas_color("selection"), 2.6
        if self.problem:
            border, width = style.canvas_color("invalid"), 2.6
        painter.setPen(QPen(border, width))
        painter.setBrush(style.canvas_color("card" if self.stage else "input"))
        painter.drawRoundedRect(rect, 9, 9)
        accent = QColor(registry.family("block").color)
        if self.stage is not None and self.stage.block == "ds":
            accent = accent.lighter(135)
        if self.stage is None:
            accent = style.canvas_color("muted")
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(accent)
        painter.drawRoundedRect(QRectF(0, 0, 8, CARD_H), 4, 4)
        painter.setPen(style.canvas_color("text"))
        painter.setFont(_TITLE)
        title = self.fixed_title if self.stage is None else stage_title(self.stage)
        painter.drawText(QRectF(20, 8, CARD_W - 80, 24), Qt.AlignmentFlag.AlignVCenter, title)
        painter.setPen(style.canvas_color("muted"))
        painter.setFont(_BODY)
        painter.drawText(QRectF(20, 34, CARD_W - 30, 22), Qt.AlignmentFlag.AlignVCenter,
                         self.body_text())
        if self.index is not None:
            painter.setFont(_TITLE)
            painter.drawText(QRectF(CARD_W - 64, 8, 52, 24),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             f"#{self.index + 1}")


def follow_stages(indices: list[int], events: list[ChangeEvent]) -> list[int]:
    """Where the stages at ``indices`` are after ``events`` (moves, inserts, removes)."""
    out = []
    for i in indices:
        for e in events:
            d = e.detail
            if e.kind == "move_stage":
                src, dst = d["src"], d["dst"]
                if i == src:
                    i = dst
                elif src < i <= dst:
                    i -= 1
                elif dst <= i < src:
                    i += 1
            elif e.kind == "insert_stage" and i >= d["index"]:
                i += 1
            elif e.kind == "remove_stage":
                if i == d["index"]:
                    i = -1
                    break
                if i > d["index"]:
                    i -= 1
        if i >= 0:
            out.append(i)
    return out


class DropIndicator(QGraphicsItem):
    """A line between two cards: where a dragged card or a dropped block will land."""

    def __init__(self) -> None:
        super().__init__()
        self.setZValue(10)
        self.setVisible(False)
        self.slot: int | None = None

    def boundingRect(self) -> QRectF:  # noqa: N802
        return QRectF(-14, -6, CARD_W + 28, 12)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        color = style.canvas_color("selection")
        painter.setPen(QPen(color, 3.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        painter.drawLine(QPointF(0, 0), QPointF(CARD_W, 0))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawEllipse(QPointF(-6, 0), 5, 5)
        painter.drawEllipse(QPointF(CARD_W + 6, 0), 5, 5)


def slot_y(slot: int) -> float:
    """Scene y of the gap above stage ``slot`` (the stem card sits at y = 0)."""
    return (slot + 1) * (CARD_H + GAP) - GAP / 2


class ReorderStageInteraction:
    """Drag a stage card vertically; release drops it at the slot under it."""

    def __init__(self, scene: StackScene, card: StageCard) -> None:
        self.scene, self.card = scene, card
        self.x = card.pos().x()

    def slot(self) -> int:
        """The insertion slot under the dragged card (0 = above the first stage)."""
        return self.scene.index_at(self.card.pos().y() + CARD_H / 2)

    def move(self) -> None:
        self.card.setX(self.x)
        self.card.setZValue(5)
        slot, here = self.slot(), self.card.index
        self.scene.show_drop_slot(None if slot in (here, (here or 0) + 1) else slot)

    def finish(self) -> bool:
        assert self.card.index is not None
        self.scene.show_drop_slot(None)
        dst = self.slot()
        if dst > self.card.index:
            dst -= 1
        if not self.scene.doc.move_stage(self.card.index, dst):
            self.scene.rebuild()
            return False
        return True


class DropBlockInteraction:
    """A palette block dropped on the stack: a new stage inserted at that slot."""

    def __init__(self, scene: StackScene) -> None:
        self.scene = scene

    def accepts(self, mime: QMimeData) -> bool:
        op = op_from_mime(mime)
        return op is not None and registry.get(op).kind == "block" and not self.scene.doc.read_only

    def drop(self, mime: QMimeData, pos: QPointF) -> bool:
        if not self.accepts(mime):
            return False
        block = op_from_mime(mime)
        stack = self.scene.stack
        index = self.scene.index_at(pos.y())
        prev = stack.stages[index - 1] if index > 0 and stack.stages else None
        channels = prev.channels if prev else stack.stem_channels
        stage = Stage(block=block, repeats=1, kernel=3, stride=1,
                      expansion=1 if block == "ds" else 6, channels=channels,
                      se=0.25, act=stack.act)
        return self.scene.doc.insert_stage(index, stage)


class StackScene(PaletteDropTarget, KeyboardSelection, QGraphicsScene):
    """Cards for ``doc.design`` (a BlockStack); rebuilt from the model on change."""

    selection_keys_changed = Signal(object)
    item_activated = Signal(object)  # ("stage", index): Enter on a card
    rebuilt = Signal()

    def __init__(self, doc: DocumentController) -> None:
        super().__init__()
        self.doc = doc
        self.cards: list[StageCard] = []
        self.indicator = DropIndicator()
        self._reorder: ReorderStageInteraction | None = None
        self._drop = DropBlockInteraction(self)
        self.rebuild()
        doc.changed.connect(self._on_changed)
        doc.problems_changed.connect(self.apply_problems)
        self.selectionChanged.connect(self._emit_selection)

    @property
    def stack(self) -> BlockStack:
        assert isinstance(self.doc.design, BlockStack)
        return self.doc.design

    def rebuild(self, keep: set[tuple[str, int]] | None = None) -> None:
        """Recreate the cards; ``keep`` (default: the current selection) is selected."""
        keep = set(self.selected_keys()) if keep is None else keep
        self.blockSignals(True)
        self.clear()
        self.indicator = DropIndicator()
        self.addItem(self.indicator)
        stack = self.stack
        scaled = scaled_stages(stack)
        y = 0.0
        stem = StageCard(None, None, None, "Stem  conv 3×3, stride 2",
                         f"{stack.in_channels} → "
                         f"{_scaled(stack.stem_channels, scaled_stem_channels(stack))}   ·   "
                         f"input {stack.resolution}×{stack.resolution}   ·   {stack.act}")
        stem.setPos(0, y)
        self.addItem(stem)
        self.cards = []
        for i, stage in enumerate(stack.stages):
            y += CARD_H + GAP
            card = StageCard(i, stage, scaled[i] if i < len(scaled) else None)
            card.setPos(0, y)
            card.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsMovable, not self.doc.read_only)
            self.addItem(card)
            self.cards.append(card)
            if card.key() in keep:
                card.setSelected(True)
        y += CARD_H + GAP
        head = StageCard(None, None, None, "Head  conv 1×1 → pool → dropout → FC",
                         f"{_scaled(stack.head_channels, scaled_head_channels(stack))}   ·   "
                         f"dropout {stack.dropout:g}   ·   "
                         f"{stack.classes} classes")
        head.setPos(0, y)
        self.addItem(head)
        self.apply_problems(self.doc.problems)
        self.blockSignals(False)
        self.setSceneRect(self.itemsBoundingRect().adjusted(-60, -40, 60, 40))
        self.selection_keys_changed.emit(self.selected_keys())
        self.rebuilt.emit()

    def _on_changed(self, events: list[ChangeEvent]) -> None:
        """Rebuild; the selection follows its stages (a moved card stays selected)."""
        kept = follow_stages([i for _k, i in self.selected_keys()], events)
        self.rebuild({("stage", i) for i in kept})

    def show_drop_slot(self, slot: int | None) -> None:
        """Show the drop line above stage ``slot`` (None hides it)."""
        self.indicator.slot = slot
        self.indicator.setVisible(slot is not None)
        if slot is not None:
            self.indicator.setPos(0, slot_y(slot))

    def apply_problems(self, problems: list[ItemProblem]) -> None:
        msgs: dict[int, list[str]] = {}
        for p in problems:
            if p.stage is not None and p.severity == "error":
                msgs.setdefault(p.stage, []).append(p.message)
        for card in self.cards:
            # validator stage numbers may be 0- or 1-based; try the index as given first
            assert card.index is not None
            found = msgs.get(card.index)
            card.set_problem("\n".join(found) if found else None)

    def invalid_items(self) -> list[StageCard]:
        return [c for c in self.cards if c.problem]

    def index_at(self, y: float) -> int:
        """The insertion slot for a scene y coordinate."""
        slot = int(round((y - CARD_H / 2) / (CARD_H + GAP)))
        return max(0, min(slot, len(self.stack.stages)))

    def _emit_selection(self) -> None:
        self.selection_keys_changed.emit(self.selected_keys())

    def selected_keys(self) -> list[tuple[str, int]]:
        return [c.key() for c in self.selectedItems() if isinstance(c, StageCard)
                and c.index is not None]

    def select_keys(self, keys: list[tuple[str, int]]) -> None:
        self.clearSelection()
        for card in self.cards:
            if card.key() in set(keys):
                card.setSelected(True)

    def delete_selection(self) -> bool:
        return self.doc.remove_stages([i for _k, i in self.selected_keys()])

    def handle_drop(self, mime: QMimeData, pos: QPointF) -> bool:
        self.show_drop_slot(None)
        return self._drop.drop(mime, pos)

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        super().dragMoveEvent(event)
        self.show_drop_slot(self.index_at(event.scenePos().y()) if event.isAccepted() else None)

    def dragLeaveEvent(self, event) -> None:  # noqa: N802
        self.show_drop_slot(None)

    def items_by_title(self, prefix: str) -> StageCard:
        """The fixed card (stem or head) whose title starts with ``prefix``."""
        return next(i for i in self.items() if isinstance(i, StageCard) and i.stage is None
                    and i.fixed_title.startswith(prefix))

    def keyboard_items(self) -> list[StageCard]:
        return list(self.cards)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        """Alt+Up / Alt+Down move the selected stage (one undo step each)."""
        alt = event.modifiers() & Qt.KeyboardModifier.AltModifier
        step = {Qt.Key.Key_Up: -1, Qt.Key.Key_Down: 1}.get(event.key())
        keys = self.selected_keys()
        if alt and step and len(keys) == 1 and not self.doc.read_only:
            index = keys[0][1]
            if self.doc.move_stage(index, index + step):
                for view in self.views():
                    view.ensureVisible(self.cards[index + step], 40, 40)
            event.accept()
            return
        super().keyPressEvent(event)

    # -- events --------------------------------------------------------------
    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        super().mousePressEvent(event)
        if event.button() != Qt.MouseButton.LeftButton or self.doc.read_only:
            return
        views = self.views()
        item = self.itemAt(event.scenePos(), views[0].transform() if views else QTransform())
        if isinstance(item, StageCard) and item.index is not None:
            self._reorder = ReorderStageInteraction(self, item)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        super().mouseMoveEvent(event)
        if self._reorder is not None:
            self._reorder.move()

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        super().mouseReleaseEvent(event)
        if self._reorder is not None:
            gesture, self._reorder = self._reorder, None
            if gesture.card.pos().y() != (gesture.card.index + 1) * (CARD_H + GAP):
                gesture.finish()

