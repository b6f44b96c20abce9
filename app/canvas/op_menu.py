"""The op / block chooser that Enter (or F2) opens on the selected canvas item."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QGraphicsView, QMenu, QWidget

from app import style
from app.actions import add_mnemonic
from app.canvas.keyboard import anchor
from engine.ops import registry

MenuRunner = Callable[[QMenu, QPoint], "QAction | None"]


def run_menu(menu: QMenu, pos: QPoint) -> QAction | None:
    """Show the menu modally (tests swap this for a runner that picks an entry)."""
    return menu.exec(pos)


def op_menu(kind: str, title: str, current: str | None = None,
            parent: QWidget | None = None) -> QMenu:
    """Every ``kind`` ("cell" or "block") op of the registry, the current one checked."""
    menu = QMenu(parent)
    menu.setTitle(title)
    head = menu.addAction(title)
    head.setEnabled(False)
    menu.addSeparator()
    used: set[str] = set()
    for spec in registry.all_ops(kind):
        act = menu.addAction(style.op_icon(spec.name), add_mnemonic(spec.display, used))
        act.setData(spec.name)
        act.setCheckable(True)
        act.setChecked(spec.name == current)
        if spec.name == current:
            menu.setActiveAction(act)
    return menu


def item_pos(view: QGraphicsView, item) -> QPoint:
    """Global screen position under an item (where its chooser opens)."""
    return view.viewport().mapToGlobal(view.mapFromScene(anchor(item)))


def choose(runner: MenuRunner, kind: str, title: str, current: str | None,
           view: QGraphicsView, item) -> str | None:
    """Ask for an op next to ``item``; the chosen op's name or None."""
    menu = op_menu(kind, title, current, view)
    act = runner(menu, item_pos(view, item))
    op = act.data() if act is not None else None
    menu.deleteLater()
    return op if isinstance(op, str) and registry.exists(op) else None
