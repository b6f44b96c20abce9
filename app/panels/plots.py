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

from app.panels.plot_style import style_plot
from engine.events import (
    EpochFinished,
    JobCancelled,
    JobFailed,
    JobFinished,
    JobStarted,
    TrialFinished,
)

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
        self.job_id: str | None = None     # the job feeding the live run
        self.epochs: int = 0               # planned epochs of the live run (0: unknown)
        self._running: str | None = None   # the job the runner started last
        self._data: dict[str, dict[int, float]] = {k: {} for k in SERIES}
        self._dirty = False

        self.title = QLabel("No training run yet: start one from Run ▸ Train…")
        self.loss_plot = pg.PlotWidget()
        self.acc_plot = pg.PlotWidget()
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

        self.apply_theme()
        self._timer = QTimer(self)
        self._timer.setInterval(redraw_ms)
        self._timer.timeout.connect(self.flush)
        self._timer.start()

    def apply_theme(self) -> None:
        """Plot background and ink of the current theme (also after a theme change)."""
        for plot in (self.loss_plot, self.acc_plot):
            style_plot(plot)

    # -- feeding ----------------------------------------------------------------
    def clear(self, run_id: int | None = None, title: str | None = None,
              epochs: int = 0) -> None:
        """Forget all points; follow ``run_id`` next (``epochs`` planned, when known)."""
        self.run_id, self.epochs, self.job_id = run_id, int(epochs or 0), None
        self._data = {k: {} for k in SERIES}
        self.title.setText(title or (f"Run {run_id}" if run_id is not None else ""))
        self._dirty = True
        self.flush()

    def on_event(self, event: object) -> None:
        """Slot for ``JobRunner.event_received``: epochs of the live run, and its end."""
        ends = {JobFinished: "finished", JobCancelled: "cancelled", JobFailed: "failed"}
        if isinstance(event, JobStarted):
            self._running = event.job_id
            return
        if isinstance(event, TrialFinished):   # a search's trial done: its run has ended
            record = event.record
            if self.job_id is not None and record is not None and \
                    record.run_id == self.run_id:
                self.title.setText(f"Run {self.run_id}: trial {record.trial} {record.status}")
            return
        if type(event) in ends:
            if self.job_id is not None and event.job_id == self.job_id:
                self.job_id = None
                self.title.setText(f"Run {self.run_id} ({ends[type(event)]})")
            return
        if not isinstance(event, EpochFinished):
            return
        if event.run_id != self.run_id:
            self.clear(event.run_id, f"Run {event.run_id} (live)", event.epochs)
        self.job_id = self._running or event.job_id   # a search's trial: the search job
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

    def is_live(self) -> bool:
        """A run is being drawn as its epochs arrive."""
        return self.job_id is not None

    def set_epochs(self, run_id: int | None, rows: Iterable[dict[str, Any]],
                   title: str | None = None, epochs: int = 0) -> None:
        """Show a finished run from store rows (``Store.epochs``)."""
        self.clear(run_id, title, epochs)
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
        first, last = None, 0
        for key, curve in self.curves.items():
            pts = self.points(key)
            curve.setData([p[0] for p in pts], [p[1] for p in pts])
            if pts:
                first = pts[0][0] if first is None else min(first, pts[0][0])
                last = max(last, pts[-1][0])
        self._fit_epochs(first, last)

    def epoch_range(self, first: int | None, last: int) -> tuple[float, float]:
        """The x range: the planned epochs of a live run, at least five epochs wide."""
        lo = 1 if first is None else min(first, 1)
        hi = max(last, self.epochs, lo + 4)
        return lo - 0.5, hi + 0.5

    def _fit_epochs(self, first: int | None, last: int) -> None:
        lo, hi = self.epoch_range(first, last)
        for plot in (self.loss_plot, self.acc_plot):
            plot.setXRange(lo, hi, padding=0)
            axis = plot.getAxis("bottom")
            step = epoch_step(hi - lo, max(plot.width() - 60, 60))
            axis.setTickSpacing(step, step)

    def resizeEvent(self, event) -> None:  # noqa: N802 - tick spacing follows the width
        super().resizeEvent(event)
        self._dirty = True


def epoch_step(span: float, pixels: float, min_px: float = 36.0) -> int:
    """Whole-epoch tick spacing (1, 2, 5, 10, 20, 50, ...) at least ``min_px`` apart."""
    step = 1
    while step * pixels / max(span, 1e-9) < min_px:
        step = step * 5 // 2 if str(step).startswith("2") else step * 2
    return step
