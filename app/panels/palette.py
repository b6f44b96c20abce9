"""The palette: cell ops and stack blocks from the one registry, draggable onto canvases."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import style
from app.canvas.interactions import op_mime
from engine.ops import registry

OP_ROLE = Qt.ItemDataRole.UserRole + 1


class _OpTree(QTreeWidget):
    def mimeData(self, items: list[QTreeWidgetItem]) -> QMimeData:  # noqa: N802
        ops = [i.data(0, OP_ROLE) for i in items if i.data(0, OP_ROLE)]
        return op_mime(ops[0]) if ops else QMimeData()

    def mimeTypes(self) -> list[str]:  # noqa: N802
        from app.canvas.interactions import OP_MIME

        return [OP_MIME]


class Palette(QWidget):
    """Ops grouped by family; drag one onto a canvas, select it for new connections, or
    apply it to the canvas selection (button, Enter or double-click)."""

    apply_requested = Signal(str)   # op name: give the selected edges/stages this op

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Filter ops…")
        self.filter.setClearButtonEnabled(True)
        self.tree = _OpTree(self)
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QTreeWidget.DragDropMode.DragOnly)
        self.tree.setIconSize(QSize(18, 18))
        self.tree.setRootIsDecorated(False)
        self.tree.setIndentation(8)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.apply_button = QPushButton("Apply to selection")
        self.apply_button.setToolTip("Give the selected edges (or stages) the highlighted op "
                                     "(Ctrl+Enter; Enter or double-click in this list)")
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self._apply)
        lay.addWidget(self.filter)
        lay.addWidget(self.tree, 1)
        lay.addWidget(self.apply_button)
        self.items: dict[str, QTreeWidgetItem] = {}
        self.groups: dict[str, QTreeWidgetItem] = {}
        self._kind_of: dict[str, str] = {}   # family -> "cell" | "block"
        for spec in registry.all_ops():
            group = self.groups.get(spec.family)
            if group is None:
                group = QTreeWidgetItem([registry.family(spec.family).title])
                group.setFlags(Qt.ItemFlag.ItemIsEnabled)
                font = group.font(0)
                font.setBold(True)
                group.setFont(0, font)
                self.tree.addTopLevelItem(group)
                self.groups[spec.family] = group
                self._kind_of[spec.family] = spec.kind
            item = QTreeWidgetItem([spec.display])
            item.setData(0, OP_ROLE, spec.name)
            item.setIcon(0, style.op_icon(spec.name))
            item.setToolTip(0, f"{spec.display} ({spec.name})\n{spec.description or ''}".strip())
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                          | Qt.ItemFlag.ItemIsDragEnabled)
            group.addChild(item)
            self.items[spec.name] = item
        self.tree.expandAll()
        fm = self.tree.fontMetrics()
        longest = max((fm.horizontalAdvance(i.text(0)) for i in self.items.values()), default=0)
        # every name shown whole: text + icon + indentation + frame and scroll bar
        self.tree.setMinimumWidth(min(longest + 18 + 8 + 48, 340))
        self.kind = "cell"
        self.filter.textChanged.connect(self._apply_filter)
        self.tree.currentItemChanged.connect(
            lambda *_: self.apply_button.setEnabled(self.current_op() is not None))
        self.tree.itemActivated.connect(lambda *_: self._apply())

    def set_kind(self, kind: str) -> None:
        """Put the ops of the open canvas ("cell" ops or stack "block"s) first."""
        if kind == self.kind:
            return
        self.kind = kind
        current = self.current_op()
        order = sorted(self.groups, key=lambda f: self._kind_of[f] != kind)
        for fam in order:
            group = self.groups[fam]
            self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(group))
        for fam in order:
            self.tree.addTopLevelItem(self.groups[fam])
        self.tree.expandAll()
        if current is not None:
            self.set_current_op(current)

    def top_names(self) -> list[str]:
        """The group titles from the top (for tests)."""
        return [self.tree.topLevelItem(i).text(0) for i in range(self.tree.topLevelItemCount())]

    def _apply(self) -> None:
        op = self.current_op()
        if op is not None:
            self.apply_requested.emit(op)

    def current_op(self) -> str | None:
        item = self.tree.currentItem()
        return item.data(0, OP_ROLE) if item is not None else None

    def set_current_op(self, op: str) -> None:
        self.tree.setCurrentItem(self.items[op])

    def _apply_filter(self, text: str) -> None:
        text = text.lower().strip()
        for name, item in self.items.items():
            item.setHidden(bool(text) and text not in name and text not in item.text(0).lower())
