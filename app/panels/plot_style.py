"""Shared plot pieces: a cost axis with readable ticks, and plot colours per theme.

``CostAxis`` draws a log10 axis with 1-2-5 ticks (every integer multiple when the data
spans less than a decade), labelled ``50k`` / ``1.5M`` rather than a single decade tick.
``style_plot`` gives a pyqtgraph PlotWidget the current theme's background and ink.
"""

from __future__ import annotations

import math

import pyqtgraph as pg

from app import style

PLOT_COLORS = {
    "light": {"bg": "#ffffff", "fg": "#374151", "grid": "#9ca3af", "text": "#111111",
              "hover_bg": (255, 255, 224, 235), "hover_border": "#999999",
              "front": "#222222", "legend_bg": (255, 255, 255, 210)},
    "dark": {"bg": "#1e2127", "fg": "#d1d5db", "grid": "#6b7280", "text": "#f3f4f6",
             "hover_bg": (45, 50, 60, 240), "hover_border": "#6b7280",
             "front": "#e5e7eb", "legend_bg": (35, 38, 45, 220)},
}


def plot_color(key: str):
    return PLOT_COLORS[style.theme()][key]


def style_plot(widget: pg.PlotWidget) -> None:
    """Background, axis lines and tick labels in the current theme."""
    colors = PLOT_COLORS[style.theme()]
    widget.setBackground(colors["bg"])
    item = widget.getPlotItem()
    for name in ("left", "bottom", "right", "top"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(colors["fg"]))
        axis.setTextPen(pg.mkPen(colors["fg"]))
        if axis.label is not None:
            axis.label.setDefaultTextColor(pg.mkColor(colors["fg"]))
    if item.legend is not None:
        item.legend.setLabelTextColor(colors["fg"])
        item.legend.setBrush(pg.mkBrush(*colors["legend_bg"]))
        for _sample, label in item.legend.items:
            label.setText(label.text, color=colors["fg"])


def short_number(v: float, exact: bool = False) -> str:
    """``50000`` -> ``"50k"``, ``1.5e6`` -> ``"1.5M"``, ``0.25`` -> ``"0.25"``; three
    significant digits, or every digit with ``exact`` (a limit the user typed)."""
    fmt = "g" if exact else ".3g"
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:{fmt}}{suffix}"
    return f"{v:{fmt}}"


def log_ticks(lo: float, hi: float, max_ticks: int) -> list[float]:
    """Tick values (in log10 units) between ``lo`` and ``hi`` (log10 units too): the
    densest of 1 / 1-2-5 / 1..9 multiples of the decades that fits ``max_ticks``."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return []
    best: list[float] = []
    for mults in ((1,), (1, 2, 5), (1, 2, 3, 4, 5, 6, 7, 8, 9)):
        ticks = [math.log10(m) + k for k in range(math.floor(lo), math.ceil(hi) + 1)
                 for m in mults if lo <= math.log10(m) + k <= hi]
        if len(ticks) > max_ticks and best:
            break
        best = ticks
        if len(ticks) > max_ticks:
            break
    if len(best) < 2:   # a sliver of a decade: two or three plain values across it
        best = [lo + (hi - lo) * f for f in (0.1, 0.5, 0.9)]
    return best


class CostAxis(pg.AxisItem):
    """Bottom axis of the Pareto plot; ``log`` says the data is log10 of the cost."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.log = True
        self.enableAutoSIPrefix(False)

    def tickValues(self, minVal, maxVal, size):  # noqa: N802, N803 - pyqtgraph API
        if not self.log:
            return super().tickValues(minVal, maxVal, size)
        ticks = log_ticks(minVal, maxVal, max(2, int(size // 64)))
        return [(1.0, ticks)] if ticks else []

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph API
        if self.log:
            return [short_number(10 ** v) for v in values]
        return [short_number(v) for v in values]
