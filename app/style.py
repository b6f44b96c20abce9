"""Look and feel: palette colors, op-family colors, the style sheet and icons."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QSize
from PySide6.QtGui import QColor, QIcon, QImageReader, QPixmap
from PySide6.QtWidgets import QApplication

from engine.ops import registry

THEMES = ("light", "dark")

# Canvas colors per theme: background, grid, node fill, node text, muted text, edge label bg.
CANVAS = {
    "light": {"bg": "#f7f8fa", "grid": "#e6e8ec", "node": "#ffffff", "node_border": "#5f6b7a",
              "text": "#1f2430", "muted": "#6b7280", "input": "#e8f0fe", "output": "#fff4e0",
              "label_bg": "#ffffff", "card": "#ffffff", "selection": "#2563eb",
              "invalid": "#dc2626"},
    "dark": {"bg": "#1e2127", "grid": "#2a2e36", "node": "#2d323c", "node_border": "#9aa4b2",
             "text": "#e5e7eb", "muted": "#9ca3af", "input": "#1e3a5f", "output": "#4a3b1f",
             "label_bg": "#2d323c", "card": "#2d323c", "selection": "#60a5fa",
             "invalid": "#f87171"},
}

_theme = "light"


def resources_dir() -> Path:
    from engine.paths import resources_dir as _rd

    return _rd()


def set_theme(name: str) -> None:
    """Switch the canvas colors and the application style sheet."""
    global _theme
    _theme = name if name in THEMES else "light"
    app = QApplication.instance()
    if isinstance(app, QApplication):
        app.setStyleSheet(style_sheet(_theme))


def theme() -> str:
    return _theme


def canvas_color(key: str) -> QColor:
    return QColor(CANVAS[_theme][key])


def op_color(op: str) -> QColor:
    """The registry color of an op's family (grey for unknown ops)."""
    if registry.exists(op):
        return QColor(registry.get(op).color)
    return QColor("#888888")


def style_sheet(name: str = "light") -> str:
    path = resources_dir() / "style" / f"{name}.qss"
    if not path.exists():
        return ""
    icons = (resources_dir() / "icons").as_posix()
    return path.read_text(encoding="utf-8").replace("@icons@", icons)


def icon(name: str) -> QIcon:
    """An icon from resources/icons (empty icon when missing); lighter strokes when dark."""
    return _icon(name, _theme)


DISABLED_STROKE = {"light": "#c4c9d0", "dark": "#5b6270"}


@lru_cache(maxsize=128)
def _icon(name: str, theme_name: str) -> QIcon:
    """The icon with an explicit dimmed "disabled" pixmap (the style's own greying left
    light strokes bright on the dark theme, so disabled buttons looked enabled)."""
    path = resources_dir() / "icons" / f"{name}.svg"
    if not path.exists():
        return QIcon()
    text = path.read_text(encoding="utf-8")
    normal = text if theme_name != "dark" else text.replace('stroke="#374151"',
                                                           'stroke="#d1d5db"')
    dimmed = text.replace('stroke="#374151"', f'stroke="{DISABLED_STROKE[theme_name]}"')
    out = QIcon()
    for data, mode in ((normal, QIcon.Mode.Normal), (dimmed, QIcon.Mode.Disabled)):
        buffer = QBuffer()
        buffer.setData(QByteArray(data.encode("utf-8")))
        reader = QImageReader(buffer, b"svg")
        reader.setScaledSize(QSize(48, 48))   # rendered sharp, not a scaled-up bitmap
        image = reader.read()
        if image.isNull():
            return QIcon(str(path))
        out.addPixmap(QPixmap.fromImage(image), mode)
    return out


def op_icon(op: str) -> QIcon:
    """The icon of an op's family."""
    family = registry.get(op).family if registry.exists(op) else "none"
    return icon(registry.family(family).icon)
