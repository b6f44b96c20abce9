"""Keyboard selection on the canvases: Tab / arrows move between items, Enter activates.

``KeyboardSelection`` is a scene mixin (both scenes use it).  A scene provides
``keyboard_items()`` (items in reading order, each with ``key()``) and a Qt signal
``item_activated(key)`` that its editor answers (an op or block chooser).
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QKeyEvent

ARROWS = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0), Qt.Key.Key_Up: (0, -1),
          Qt.Key.Key_Down: (0, 1)}


def toward(origin: QPointF, points: list[QPointF], direction: tuple[int, int]) -> int | None:
    """Index of the point nearest ``origin`` in ``direction`` (within a 60-degree cone each side),
    distance along the direction counting less than distance across it."""
    best, best_score = None, math.inf
    ux, uy = direction
    for i, p in enumerate(points):
        dx, dy = p.x() - origin.x(), p.y() - origin.y()
        along = dx * ux + dy * uy
        across = abs(dx * uy - dy * ux)
        if along <= 1.0 or across > along * math.tan(math.radians(60)):
            continue
        score = along + 2.0 * across
        if score < best_score:
            best, best_score = i, score
    return best


def anchor(item) -> QPointF:
    """Where an item is for keyboard navigation: an edge's label, a node's centre."""
    rect = item.label_rect() if hasattr(item, "label_rect") else item.sceneBoundingRect()
    return rect.center()


class KeyboardSelection:
    """Scene mixin: Tab/Shift+Tab cycle, arrows go to the nearest item that way, Enter
    (or F2) activates the selected item, Escape clears the selection."""

    def keyboard_items(self) -> list:
        raise NotImplementedError

    def current_item(self):
        items = self.keyboard_items()
        selected = [i for i in items if i.isSelected()]
        return selected[0] if selected else None

    def select_item(self, item) -> None:
        """Select only ``item`` and scroll it into view."""
        self.clearSelection()
        item.setSelected(True)
        for view in self.views():
            view.ensureVisible(item, 40, 40)

    def select_next(self, step: int) -> bool:
        """Select the next (or previous) item; False past either end (focus moves on)."""
        items = self.keyboard_items()
        if not items:
            return False
        current = self.current_item()
        if current is None:
            self.select_item(items[0] if step > 0 else items[-1])
            return True
        i = items.index(current) + step
        if not 0 <= i < len(items):
            return False
        self.select_item(items[i])
        return True

    def select_toward(self, direction: tuple[int, int]) -> bool:
        items = self.keyboard_items()
        current = self.current_item()
        if current is None:
            return self.select_next(1)
        others = [i for i in items if i is not current]
        k = toward(anchor(current), [anchor(i) for i in others], direction)
        if k is None:
            return False
        self.select_item(others[k])
        return True

    def activate_selection(self) -> bool:
        current = self.current_item()
        if current is None:
            return False
        self.item_activated.emit(current.key())
        return True

    def focusNextPrevChild(self, next: bool) -> bool:  # noqa: N802
        """Tab / Shift+Tab (the view hands them to the scene): the next item; False past
        the last one, so focus moves on to the next widget."""
        return self.select_next(1 if next else -1)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        key, mods = event.key(), event.modifiers()
        plain = not mods & (Qt.KeyboardModifier.ControlModifier
                            | Qt.KeyboardModifier.AltModifier)
        handled = False
        if key in ARROWS and plain:
            handled = self.select_toward(ARROWS[key]) or self.current_item() is not None
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and plain:
            handled = self.activate_selection()
        elif key == Qt.Key.Key_Escape:
            handled = self.cancel_gesture() or bool(self.selectedItems())
            self.clearSelection()
        if handled:
            event.accept()
            return
        super().keyPressEvent(event)  # type: ignore[misc]

    def cancel_gesture(self) -> bool:
        """Escape during a drag gesture (scenes override)."""
        return False
