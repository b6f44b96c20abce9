"""The log / notification area."""

from __future__ import annotations

import time

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from app import style

LEVEL_COLORS = {"info": None, "warning": "#b45309", "error": "#dc2626"}
MAX_LINES = 500


class LogPanel(QListWidget):
    """Timestamped messages; validation problems, file operations, cost results."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("logPanel")
        self.setUniformItemSizes(True)
        self.setAlternatingRowColors(False)

    def log(self, message: str, level: str = "info") -> None:
        stamp = time.strftime("%H:%M:%S")
        item = QListWidgetItem(f"{stamp}  {message}")
        color = LEVEL_COLORS.get(level)
        if color:
            item.setForeground(QColor(color))
        item.setIcon(style.icon(f"log-{level}"))
        self.addItem(item)
        while self.count() > MAX_LINES:
            self.takeItem(0)
        self.scrollToBottom()

    def messages(self) -> list[str]:
        return [self.item(i).text() for i in range(self.count())]
