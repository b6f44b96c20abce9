"""The issues strip under the canvas: the validator's problems, each a link that selects
the node, edge or stage it is about (they were only in tooltips and the hidden Log tab)."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from app import style

MAX_SHOWN = 3


class IssuesStrip(QWidget):
    """Hidden while the design is valid; ``problem_clicked(ItemProblem)`` on a click."""

    problem_clicked = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("issuesStrip")
        self.problems: list = []
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 4, 10, 4)
        self.label = QLabel()
        self.label.setObjectName("issuesText")
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse
                                           | Qt.TextInteractionFlag.LinksAccessibleByKeyboard)
        self.label.linkActivated.connect(self._on_link)
        lay.addWidget(self.label, 1)
        self.setVisible(False)

    def set_problems(self, problems: list) -> None:
        """Errors first, then warnings; up to three shown as links."""
        ordered = sorted(problems, key=lambda p: p.severity != "error")
        self.problems = ordered
        if not ordered:
            self.label.setText("")
            self.setVisible(False)
            return
        links = []
        for i, p in enumerate(ordered[:MAX_SHOWN]):
            mark = "✖" if p.severity == "error" else "⚠"
            color = "#dc2626" if p.severity == "error" else "#b45309"
            ink = style.canvas_color("text").name()
            links.append(f"<span style='color:{color}'>{mark}</span> <a href='{i}' "
                         f"style='color:{ink}'>{escape(p.message)}</a>")
        more = len(ordered) - MAX_SHOWN
        tail = f" &nbsp;(and {more} more: see the Log)" if more > 0 else ""
        self.label.setText(" &nbsp;&nbsp; ".join(links) + tail)
        self.setToolTip("Click a problem to select what it is about")
        self.setVisible(True)

    def click(self, index: int) -> None:
        """What clicking the ``index``-th link does (tests call this)."""
        self._on_link(str(index))

    def _on_link(self, href: str) -> None:
        try:
            problem = self.problems[int(href)]
        except (ValueError, IndexError):
            return
        self.problem_clicked.emit(problem)
