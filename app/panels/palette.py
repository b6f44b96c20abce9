"""The palette: cell ops and stack blocks from the one registry, draggable onto canvases."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QSize, Qt
from PySide6.QtWidgets import QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

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
    """Ops grouped by family; drag one onto a canvas, or select it for new connections."""

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
        lay.addWidget(self.filter)
        lay.addWidget(self.tree, 1)
        self.items: dict[str, QTreeWidgetItem] = {}
        groups: dict[str, QTreeWidgetItem] = {}
        for spec in registry.all_ops():
            group = groups.get(spec.family)
            if group is None:
                group = QTreeWidgetItem([registry.family(spec.family).title])
                group.setFlags(Qt.ItemFlag.ItemIsEnabled)
                font = group.font(0)
                font.setBold(True)
                group.setFont(0, font)
                self.tree.addTopLevelItem(group)
                groups[spec.family] = group
            item = QTreeWidgetItem([spec.display])
            item.setData(0, OP_ROLE, spec.name)
            item.setIcon(0, style.op_icon(spec.name))
            item.setToolTip(0, f"{spec.name}\n{spec.description or spec.display}")
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                          | Qt.ItemFlag.ItemIsDragEnabled)
            group.addChild(item)
            self.items[spec.name] = item
        self.tree.expandAll()
        self.filter.textChanged.connect(self._apply_filter)

    def current_op(self) -> str | None:
        item = self.tree.currentItem()
        return item.data(0, OP_ROLE) if item is not None else None

    def set_current_op(self, op: str) -> None:
        self.tree.setCurrentItem(self.items[op])

    def _apply_filter(self, text: str) -> None:
        text = text.lower().strip()
        for name, item in self.items.items():
            item.setHidden(bool(text) and text not in name and text not in item.text(0).lower())
