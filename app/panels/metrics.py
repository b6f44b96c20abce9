"""The metrics bar: params, MACs (torchvision way), measured latency, validity.

Params and MACs arrive with every edit (``set_summary``, analytic); latency separately
(``set_latency``: the median and the middle half of the runs) whenever the cost worker
measured it, with its state ("measuring…", "waits for the running job") in between.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

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


def latency_text(result: dict) -> tuple[str, str]:
    """(value, tooltip) for a latency result: ``12.3 ms ±0.4`` (± half the middle half)."""
    med = float(result["median_ms"])
    lo, hi = float(result.get("p25_ms", med)), float(result.get("p75_ms", med))
    digits = 1 if med >= 10 else 2
    tip = (f"median {med:.{digits}f} ms of {result.get('repeats', '?')} runs on "
           f"{result.get('device', '?')}, batch {result.get('batch', 1)}; the middle half of "
           f"the runs took {lo:.{digits}f}–{hi:.{digits}f} ms (min {result.get('min_ms', lo):.{digits}f}, "
           f"max {result.get('max_ms', hi):.{digits}f}).\nMeasured only while no job runs.")
    return f"{med:.{digits}f} ms ±{(hi - lo) / 2:.{digits}f}", tip


class MetricsBar(QWidget):
    """A strip of figures for the active design: params/MACs at once, latency when measured.

    ``measure_requested`` asks for a latency measurement now.
    """

    measure_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("metricsBar")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.setSpacing(4)
        self.design = _Metric("Design")
        self.params = _Metric("Parameters")
        self.macs = _Metric("MACs", MACS_TIP)
        self.latency = _Metric("Latency", "Measured latency of one image (batch 1): the median "
                               "of timed runs ± half the spread of the middle half; measured "
                               "when the studio is idle or when asked, never during a job")
        self.measure = QToolButton(self)
        self.measure.setObjectName("measureLatency")
        self.measure.setText("Measure")
        self.measure.setToolTip("Measure the latency now (waits for running jobs)")
        self.measure.clicked.connect(self.measure_requested)
        self.input = _Metric("Input")
        self.validity = _Metric("Validity")
        for w in (self.design, self.params, self.macs, self.latency, self.measure, self.input,
                  self.validity):
            lay.addWidget(w)
        lay.addStretch(1)
        self.status = QLabel("")
        self.status.setObjectName("metricStatus")
        lay.addWidget(self.status)
        self.summary: dict | None = None
        self.latency_result: dict | None = None

    def set_design_name(self, name: str, kind: str) -> None:
        self.design.set(f"{name}  ({kind})")

    def clear(self) -> None:
        self.summary = self.latency_result = None
        for m in (self.params, self.macs, self.latency, self.input):
            m.set("—")
        self.status.setText("")
        self.status.setToolTip("")

    def set_summary(self, summary: dict) -> None:
        """Params, MACs and input of the design as it is now (the latency is reset)."""
        self.summary = dict(summary)
        self.params.set(human(summary.get("params", 0)), f"{summary.get('params', 0):,} parameters")
        macs = summary.get("macs")
        self.macs.set(human(macs) if macs is not None else "—",
                      f"{macs:,} MACs (torchvision way)" if macs is not None else None)
        shape = summary.get("input")
        self.input.set("×".join(str(s) for s in shape) if shape else "—")
        self.status.setText("")
        self.status.setToolTip("")
        self.set_latency(summary.get("latency"))

    def set_latency(self, result: dict | None, state: str = "") -> None:
        """The measured latency (``None``: not measured for this design yet) and its state."""
        self.latency_result = dict(result) if result else None
        if result:
            text, tip = latency_text(result)
            self.latency.set(text, tip)
        else:
            self.latency.set(state or "—", "not measured yet: press Measure, or leave the "
                             "design unchanged for a moment (Preferences: measure latency)")

    def set_latency_state(self, state: str) -> None:
        """``measuring…`` / ``waiting for job`` / "" while no result is shown."""
        if self.latency_result is None:
            self.latency.set(state or "—", "a job is running: the latency is measured after it, "
                             "so that neither disturbs the other" if "job" in state else None)

    def set_error(self, message: str) -> None:
        """No figures: the design cannot be costed; ``message`` says where and why."""
        first = message.splitlines()[0] if message else ""
        self.status.setText(f"cost unavailable: {first}" if first else "cost unavailable")
        self.status.setToolTip(message)
        self.summary = self.latency_result = None
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
