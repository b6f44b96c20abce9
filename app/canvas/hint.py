"""The first-start tip shown above a canvas until the user's first edit."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget


class HintRow(QLabel):
    """A one-line tip; hidden until ``set_hint`` gives it text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("canvasHint")
        self.setWordWrap(True)
        self.setVisible(False)

    def set_hint(self, text: str) -> None:
        self.setText(text)
        self.setVisible(bool(text))
