"""CanvasView: a QGraphicsView with zoom, fit, rubber-band selection and a dot grid."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QPainter, QPixmap, QWheelEvent
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView, QWidget

from app import style

GRID = 24


class CanvasView(QGraphicsView):
    """The shared view for the cell and stack scenes."""

    MIN_ZOOM, MAX_ZOOM = 0.1, 4.0

    def __init__(self, scene: QGraphicsScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.setRenderHints(QPainter.RenderHint.Antialiasing
                            | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setAcceptDrops(True)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.auto_fit = True  # keep fitting on resize until the user zooms
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._pan_from: QPointF | None = None
        self._shown: QRectF | None = None   # the items' bounds at the last edit

    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        self.auto_fit = False
        new = min(self.MAX_ZOOM, max(self.MIN_ZOOM, self.zoom() * factor))
        self.scale(new / self.zoom(), new / self.zoom())
        self._zoom_changed()

    def zoom_in(self) -> None:
        self.zoom_by(1.25)

    def zoom_out(self) -> None:
        self.zoom_by(0.8)

    def reset_zoom(self) -> None:
        self.auto_fit = False
        self.resetTransform()
        self._zoom_changed()

    def fit(self) -> None:
        """Fit all items (never magnifying past 100%)."""
        scene = self.scene()
        if scene is None:
            return
        self.auto_fit = True
        rect = scene.itemsBoundingRect().adjusted(-30, -30, 30, 30)
        if rect.isEmpty():
            return
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom() > 1.0:
            self.resetTransform()
            self.centerOn(rect.center())
        self._zoom_changed()

    def content_changed(self) -> None:
        """After an edit: re-fit when the design was all in sight and no longer is."""
        scene = self.scene()
        if scene is None:
            return
        rect = scene.itemsBoundingRect()
        visible = self.mapToScene(self.viewport().rect()).boundingRect()
        was_visible = self._shown is None or visible.contains(self._shown)
        if self.auto_fit or (was_visible and not visible.contains(rect)):
            self.fit()
        self._shown = rect

    def _zoom_changed(self) -> None:
        """Tell the scene the zoom, so far-away views draw a cheap overview."""
        hook = getattr(self.scene(), "set_zoom", None)
        if hook is not None:
            hook(self.zoom())

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self.auto_fit:
            self.fit()

    def mousePressEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.MiddleButton:  # middle-drag pans
            self._pan_from = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.auto_fit = False
            h, v = self.horizontalScrollBar(), self.verticalScrollBar()
            h.setValue(h.value() - int(delta.x()))
            v.setValue(v.value() - int(delta.y()))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if self._pan_from is not None and event.button() == Qt.MouseButton.MiddleButton:
            self._pan_from = None
            self.unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom_by(1.0015 ** event.angleDelta().y())
            event.accept()
            return
        super().wheelEvent(event)

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        painter.fillRect(rect, style.canvas_color("bg"))
        if self.zoom() < 0.45:
            return
        painter.save()
        painter.setBrushOrigin(0, 0)
        painter.fillRect(rect, _grid_brush(style.theme()))
        painter.restore()


_GRID_BRUSHES: dict[str, QBrush] = {}


def _grid_brush(theme: str) -> QBrush:
    """A dot-grid texture (one dot per GRID cell), drawn once per theme."""
    if theme not in _GRID_BRUSHES:
        tile = QPixmap(GRID, GRID)
        tile.fill(Qt.GlobalColor.transparent)
        p = QPainter(tile)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(style.canvas_color("grid").darker(104))
        p.drawEllipse(QPointF(1.2, 1.2), 1.2, 1.2)
        p.end()
        _GRID_BRUSHES[theme] = QBrush(tile)
    return _GRID_BRUSHES[theme]
