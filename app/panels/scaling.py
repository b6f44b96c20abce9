"""Compound-scaling control: phi / width / depth / resolution for a block stack."""

from __future__ import annotations

import math
import re

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
from engine.arch.presets import EFFICIENTNET_SETTINGS, b0_stages
from engine.arch.scaling import (
    ALPHA,
    BASE_RESOLUTION,
    BETA,
    GAMMA,
    compound_scale,
    nearest_efficientnet,
)

PHI_TIP = "φ: width = 1.1^φ, depth = 1.2^φ, resolution = 224·1.15^φ"


VARIANT_NAME = re.compile(r"^efficientnet-b\d$")


def is_b0_body(stack: BlockStack) -> bool:
    """Whether the stack is EfficientNet-B0's network (stages, stem, head), at any scale."""
    return (stack.stages == b0_stages() and stack.stem_channels == 32
            and stack.head_channels == 1280 and stack.in_channels == 3)


def estimate_phi(width: float, depth: float, resolution: int) -> tuple[float, bool]:
    """φ read back from the three multipliers (their mean) and whether all three agree
    (within 0.35: the published variants round their coefficients)."""
    if min(width, depth, resolution) <= 0:
        return 0.0, False
    phis = (math.log(width) / math.log(BETA), math.log(depth) / math.log(ALPHA),
            math.log(resolution / BASE_RESOLUTION) / math.log(GAMMA))
    return sum(phis) / 3, max(phis) - min(phis) <= 0.35


def exact_variant(stack: BlockStack) -> str | None:
    """The B-variant whose width, depth and resolution the stack has exactly (``"b3"``)."""
    for k, v in EFFICIENTNET_SETTINGS.items():
        if (v[0], v[1], v[2]) == (stack.width_mult, stack.depth_mult, stack.resolution):
            return k
    return None


def scaling_summary(stack: BlockStack) -> str:
    """What the stack's scaling is, without claiming more than is true."""
    if not stack.stages:
        return "no stages to scale"
    exact = exact_variant(stack)
    name = (exact or nearest_efficientnet(stack.width_mult, stack.depth_mult,
                                          stack.resolution).removeprefix("efficientnet-"))
    variant = f"EfficientNet-{name.upper()}"
    if is_b0_body(stack):
        return f"= {variant}" if exact else f"≈ {variant}"
    # a modified or different network: only the coefficients are EfficientNet's
    return f"{variant} scaling of a custom stack" if exact else \
        f"≈ {variant} scaling of a custom stack"


def scaled_name(stack: BlockStack, width: float, depth: float, resolution: int) -> str:
    """The design's name after scaling: an EfficientNet-Bk name follows the variant."""
    if not VARIANT_NAME.match(stack.name) or not is_b0_body(stack):
        return stack.name
    for k, v in EFFICIENTNET_SETTINGS.items():
        if (v[0], v[1], v[2]) == (width, depth, resolution):
            return f"efficientnet-{k}"
    return f"efficientnet w{width:.2f} d{depth:.2f} r{resolution}"


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
        self.phi.setToolTip(PHI_TIP)
        self.width = QDoubleSpinBox(decimals=2, minimum=0.1, maximum=4.0, singleStep=0.1)
        self.depth = QDoubleSpinBox(decimals=2, minimum=0.1, maximum=5.0, singleStep=0.1)
        self.resolution = QSpinBox(minimum=32, maximum=1024, singleStep=8)
        self.resolution.setSuffix(" px")
        self.result = QLabel()
        self.result.setObjectName("scalingResult")
        self.result.setWordWrap(True)
        self.phi_note = QLabel()
        self.phi_note.setObjectName("inspectorSubtitle")
        self.phi_note.setWordWrap(True)
        form.addRow("Variant", self.variant)
        form.addRow("φ (phi)", self.phi)
        form.addRow("Width ×", self.width)
        form.addRow("Depth ×", self.depth)
        form.addRow("Resolution", self.resolution)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.result)
        lay.addWidget(self.phi_note)
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
        exact = exact_variant(s)
        self.variant.setCurrentIndex(self.variant.findData(exact) if exact else 0)
        phi, on_curve = estimate_phi(s.width_mult, s.depth_mult, s.resolution)
        self.phi.setValue(round(phi, 1))
        self.phi.setToolTip(PHI_TIP + ("" if on_curve else "\nThe width, depth and resolution "
                                       "are not on one φ curve: φ shown is their mean."))
        self.result.setText(scaling_summary(s))
        self.phi_note.setText("" if on_curve else "width/depth/resolution off the φ curve")
        self._updating = False

    def nearest_text(self) -> str:
        return self.result.text()

    def _scale(self, text: str | None = None, **fields) -> None:
        """One undo step: the new multipliers, and the name when it names a variant."""
        if self._updating:
            return
        s = self.stack
        new = {"width_mult": s.width_mult, "depth_mult": s.depth_mult,
               "resolution": s.resolution, **fields}
        name = scaled_name(s, new["width_mult"], new["depth_mult"], new["resolution"])
        if self.doc.set_fields(text=text, name=name, **fields):
            self.scaled.emit()

    def _set(self, **fields) -> None:
        self._scale(None, **fields)

    def _on_phi(self, phi: float) -> None:
        w, d, r = compound_scale(phi)
        self._scale(f"Scale to φ={phi:g}", width_mult=round(w, 3), depth_mult=round(d, 3),
                    resolution=int(r))

    def _on_variant(self, index: int) -> None:
        name = self.variant.itemData(index)
        if not name:
            return
        w, d, r, drop = EFFICIENTNET_SETTINGS[name]
        self._scale(f"Scale to EfficientNet-{name.upper()}", width_mult=w, depth_mult=d,
                    resolution=r, dropout=drop)
