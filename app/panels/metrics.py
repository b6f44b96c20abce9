"""The metrics bar: params, MACs (torchvision way), estimated latency, validity."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

MACS_TIP = ("Multiply-accumulate operations of one forward pass, counted the torchvision way "
            "(convolutions and linear layers only).\nOther tools count more op kinds "
            "(fvcore, thop) and report slightly larger numbers.")


def human(n: float, unit: str = "") -> str:
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= div:
            return f"{n / div:.2f} {suffix}{unit}"
    return f"{n:.0f} {unit}".strip()


class _Metric(QFrame):
    def __init__(self, title: str, tip: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("metric")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(14, 6, 14, 6)
        lay.setSpacing(0)
        self.title = QLabel(title.upper())
        self.title.setObjectName("metricTitle")
        self.value = QLabel("—")
        self.value.setObjectName("metricValue")
        self.value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.value.setMinimumWidth(96)
        lay.addWidget(self.title)
        lay.addWidget(self.value)
        if tip:
            self.setToolTip(tip)

    def set(self, text: str, tip: str | None = None) -> None:
        self.value.setText(text)
        if tip is not None:
            self.value.setToolTip(tip)


class MetricsBar(QWidget):
    """A strip of figures for the active design; cost arrives from the cost worker."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("metricsBar")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.setSpacing(4)
        self.design = _Metric("Design")
        self.params = _Metric("Parameters")
        self.macs = _Metric("MACs", MACS_TIP)
        self.latency = _Metric("Est. latency", "Median CPU latency of one image, batch 1")
        self.input = _Metric("Input")
        self.validity = _Metric("Validity")
        for w in (self.design, self.params, self.macs, self.latency, self.input, self.validity):
            lay.addWidget(w)
        lay.addStretch(1)
        self.status = QLabel("")
        self.status.setObjectName("metricStatus")
        lay.addWidget(self.status)
        self.summary: dict | None = None

    def set_design_name(self, name: str, kind: str) -> None:
        self.design.set(f"{name}  ({kind})")

    def set_computing(self) -> None:
        self.status.setText("computing…")
        if self.summary is None:
            for m in (self.params, self.macs, self.latency, self.input):
                m.set("…")

    def clear(self) -> None:
        self.summary = None
        for m in (self.params, self.macs, self.latency, self.input):
            m.set("—")
        self.status.setText("")

    def set_summary(self, summary: dict) -> None:
        self.summary = dict(summary)
        self.params.set(human(summary.get("params", 0)), f"{summary.get('params', 0):,} parameters")
        macs = summary.get("macs")
        self.macs.set(human(macs) if macs is not None else "—",
                      f"{macs:,} MACs (torchvision way)" if macs is not None else None)
        lat = summary.get("latency_ms")
        self.latency.set(f"{lat:.1f} ms" if lat is not None else "—")
        shape = summary.get("input")
        self.input.set("×".join(str(s) for s in shape) if shape else "—")
        self.status.setText("")

    def set_error(self, message: str) -> None:
        self.status.setText("cost unavailable")
        self.status.setToolTip(message)
        self.summary = None
        for m in (self.params, self.macs, self.latency, self.input):
            m.set("—")

    def set_problems(self, n_errors: int, n_warnings: int, first: str = "") -> None:
        if n_errors:
            self.validity.set(f"✖ {n_errors} error{'s' * (n_errors != 1)}", first)
            self.validity.value.setProperty("state", "bad")
        elif n_warnings:
            self.validity.set(f"⚠ {n_warnings} warning{'s' * (n_warnings != 1)}", first)
            self.validity.value.setProperty("state", "warn")
        else:
            self.validity.set("✔ valid", "")
            self.validity.value.setProperty("state", "ok")
        self.validity.value.style().unpolish(self.validity.value)
        self.validity.value.style().polish(self.validity.value)
