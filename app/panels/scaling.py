"""Compound-scaling control: phi / width / depth / resolution for a block stack."""

from __future__ import annotations

import math

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.document.controller import DocumentController
from engine.arch.model import BlockStack
from engine.arch.presets import EFFICIENTNET_SETTINGS


def compound_scale(phi: float) -> tuple[float, float, int]:
    """(width, depth, resolution) for ``phi`` (engine.arch.scaling when present)."""
    try:
        from engine.arch.scaling import compound_scale as engine_scale
    except ImportError:
        return (round(1.1 ** phi, 3), round(1.2 ** phi, 3), int(round(224 * 1.15 ** phi)))
    w, d, r = engine_scale(phi)
    return float(w), float(d), int(r)


def nearest_efficientnet(width: float, depth: float, resolution: int) -> str:
    """The closest EfficientNet variant name (``"b3"``) in log-space distance."""
    try:
        from engine.arch.scaling import nearest_efficientnet as engine_nearest
    except ImportError:
        engine_nearest = None
    if engine_nearest is not None:
        try:
            return str(engine_nearest(width, depth, resolution)).lower().replace(
                "efficientnet-", "")
        except TypeError:
            pass

    def dist(v: tuple[float, float, int, float]) -> float:
        return (math.log(width / v[0]) ** 2 + math.log(depth / v[1]) ** 2
                + math.log(resolution / v[2]) ** 2)

    return min(EFFICIENTNET_SETTINGS, key=lambda k: dist(EFFICIENTNET_SETTINGS[k]))


class ScalingControl(QGroupBox):
    """Edits width_mult / depth_mult / resolution through the document's undo stack."""

    scaled = Signal()

    def __init__(self, doc: DocumentController, parent: QWidget | None = None) -> None:
        super().__init__("Compound scaling", parent)
        self.doc = doc
        self._updating = False
        form = QFormLayout()
        form.setContentsMargins(10, 14, 10, 10)
        self.variant = QComboBox()
        self.variant.addItem("custom")
        for name in EFFICIENTNET_SETTINGS:
            self.variant.addItem(f"EfficientNet-{name.upper()}", name)
        self.phi = QDoubleSpinBox(decimals=1, minimum=-2.0, maximum=8.0, singleStep=1.0)
        self.phi.setToolTip("φ: width = 1.1^φ, depth = 1.2^φ, resolution = 224·1.15^φ")
        self.width = QDoubleSpinBox(decimals=2, minimum=0.1, maximum=4.0, singleStep=0.1)
        self.depth = QDoubleSpinBox(decimals=2, minimum=0.1, maximum=5.0, singleStep=0.1)
        self.resolution = QSpinBox(minimum=32, maximum=1024, singleStep=8)
        self.resolution.setSuffix(" px")
        self.result = QLabel()
        self.result.setObjectName("scalingResult")
        self.result.setWordWrap(True)
        form.addRow("Variant", self.variant)
        form.addRow("φ (phi)", self.phi)
        form.addRow("Width ×", self.width)
        form.addRow("Depth ×", self.depth)
        form.addRow("Resolution", self.resolution)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.result)
        lay.addStretch(1)
        self.refresh()
        self.phi.valueChanged.connect(self._on_phi)
        self.variant.activated.connect(self._on_variant)
        self.width.valueChanged.connect(lambda v: self._set(width_mult=round(v, 3)))
        self.depth.valueChanged.connect(lambda v: self._set(depth_mult=round(v, 3)))
        self.resolution.valueChanged.connect(lambda v: self._set(resolution=int(v)))
        doc.changed.connect(lambda _e: self.refresh())
        self.setEnabled(not doc.read_only)

    @property
    def stack(self) -> BlockStack:
        assert isinstance(self.doc.design, BlockStack)
        return self.doc.design

    def refresh(self) -> None:
        """Show the model's current scaling (never pushes a command)."""
        self._updating = True
        s = self.stack
        self.width.setValue(s.width_mult)
        self.depth.setValue(s.depth_mult)
        self.resolution.setValue(s.resolution)
        exact = [k for k, v in EFFICIENTNET_SETTINGS.items()
                 if (v[0], v[1], v[2]) == (s.width_mult, s.depth_mult, s.resolution)]
        self.variant.setCurrentIndex(self.variant.findData(exact[0]) if exact else 0)
        near = nearest_efficientnet(s.width_mult, s.depth_mult, s.resolution)
        text = (f"≈ EfficientNet-{near.upper()}" if not exact
                else f"= EfficientNet-{exact[0].upper()}")
        if not s.name.lower().startswith("efficientnet"):
            text += " scaling"   # a MobileNet at 1.0/1.0/224 is not EfficientNet-B0
        self.result.setText(text)
        self._updating = False

    def nearest_text(self) -> str:
        return self.result.text()

    def _set(self, **fields) -> None:
        if self._updating:
            return
        if self.doc.set_fields(**fields):
            self.scaled.emit()

    def _on_phi(self, phi: float) -> None:
        if self._updating:
            return
        w, d, r = compound_scale(phi)
        if self.doc.set_fields(text=f"Scale to φ={phi:g}", width_mult=w, depth_mult=d,
                               resolution=r):
            self.scaled.emit()

    def _on_variant(self, index: int) -> None:
        name = self.variant.itemData(index)
        if not name:
            return
        w, d, r, drop = EFFICIENTNET_SETTINGS[name]
        if self.doc.set_fields(text=f"Scale to EfficientNet-{name.upper()}", width_mult=w,
                               depth_mult=d, resolution=r, dropout=drop):
            self.scaled.emit()
