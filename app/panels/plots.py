"""Live training curves: loss and accuracy, train and validation, per epoch.

Plot items are created once; new epochs are buffered and drawn with ``setData``
from a QTimer so a burst of events costs one redraw.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from engine.events import EpochFinished

REDRAW_MS = 100
TRAIN_PEN = pg.mkPen("#1f77b4", width=2)
VAL_PEN = pg.mkPen("#ff7f0e", width=2)

SERIES = ("train_loss", "val_loss", "train_accuracy", "val_accuracy")


def _finite(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


class TrainingCurves(QWidget):
    """Two stacked plots (loss, accuracy) for one run at a time."""

    def __init__(self, parent: QWidget | None = None, *, redraw_ms: int = REDRAW_MS) -> None:
        super().__init__(parent)
        self.run_id: int | None = None
        self._data: dict[str, dict[int, float]] = {k: {} for k in SERIES}
        self._dirty = False

        self.title = QLabel("No training run yet: start one from Run ▸ Train…")
        self.loss_plot = pg.PlotWidget(background="w")
        self.acc_plot = pg.PlotWidget(background="w")
        for plot, name in ((self.loss_plot, "loss"), (self.acc_plot, "accuracy")):
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.setLabel("left", name)
            plot.getAxis("left").enableAutoSIPrefix(False)   # a loss of 0.3 stays 0.3
            plot.setLabel("bottom", "epoch")
            # loss falls and accuracy rises: each legend goes in the corner its curves leave
            plot.addLegend(offset=(-10, 10) if name == "loss" else (-10, -10))
            plot.setMouseEnabled(x=False, y=False)
        self.acc_plot.setYRange(0, 1, padding=0.02)
        sym = {"symbol": "o", "symbolSize": 6}
        self.curves = {
            "train_loss": self.loss_plot.plot([], [], pen=TRAIN_PEN, name="train",
                                              symbolBrush="#1f77b4", **sym),
            "val_loss": self.loss_plot.plot([], [], pen=VAL_PEN, name="validation",
                                            symbolBrush="#ff7f0e", **sym),
            "train_accuracy": self.acc_plot.plot([], [], pen=TRAIN_PEN, name="train",
                                                 symbolBrush="#1f77b4", **sym),
            "val_accuracy": self.acc_plot.plot([], [], pen=VAL_PEN, name="validation",
                                               symbolBrush="#ff7f0e", **sym),
        }
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.loss_plot, 1)
        layout.addWidget(self.acc_plot, 1)

        self._timer = QTimer(self)
        self._timer.setInterval(redraw_ms)
        self._timer.timeout.connect(self.flush)
        self._timer.start()

    # -- feeding ----------------------------------------------------------------
    def clear(self, run_id: int | None = None, title: str | None = None) -> None:
        """Forget all points; follow ``run_id`` next."""
        self.run_id = run_id
        self._data = {k: {} for k in SERIES}
        self.title.setText(title or (f"Run {run_id}" if run_id is not None else ""))
        self._dirty = True
        self.flush()

    def on_event(self, event: object) -> None:
        """Slot for ``JobRunner.event_received``: takes EpochFinished, ignores the rest."""
        if not isinstance(event, EpochFinished):
            return
        if event.run_id != self.run_id:
            self.clear(event.run_id, f"Run {event.run_id} (live)")
        self.add_epoch(event.epoch, train_loss=event.train_loss,
                       train_accuracy=event.train_accuracy, val_loss=event.val_loss,
                       val_accuracy=event.val_accuracy)

    def add_epoch(self, epoch: int, **metrics: Any) -> None:
        """Buffer one epoch's metrics (drawn at the next timer tick)."""
        for key in SERIES:
            v = _finite(metrics.get(key))
            if v is not None:
                self._data[key][int(epoch)] = v
        self._dirty = True

    def set_epochs(self, run_id: int | None, rows: Iterable[dict[str, Any]],
                   title: str | None = None) -> None:
        """Show a finished run from store rows (``Store.epochs``)."""
        self.clear(run_id, title)
        for row in rows:
            self.add_epoch(row["epoch"], **{k: row.get(k) for k in SERIES})
        self.flush()

    def points(self, key: str) -> list[tuple[int, float]]:
        """The buffered points of one series, sorted by epoch."""
        return sorted(self._data[key].items())

    def flush(self) -> None:
        """Push buffered points to the plot items (timer slot)."""
        if not self._dirty:
            return
        self._dirty = False
        last = 0
        for key, curve in self.curves.items():
            pts = self.points(key)
            curve.setData([p[0] for p in pts], [p[1] for p in pts])
            last = max([last] + [p[0] for p in pts])
        for plot in (self.loss_plot, self.acc_plot):   # whole epochs on short runs
            axis = plot.getAxis("bottom")
            axis.setTickSpacing(1, 1) if 0 < last <= 20 else axis.setTickSpacing()
