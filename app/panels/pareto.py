"""The Pareto explorer: accuracy versus cost for every trial and run.

Every point is a trial (or a trained/compressed run) colored by its experiment and
strategy; the Pareto front is a step line, constraint limits are shaded bands,
compression lineage is drawn as parent -> child arrows, and a small plot shows the
front's hypervolume as trials arrive.  Plot items are created once and updated with
``setData`` from a QTimer, so thousands of points stay smooth.

Mouse: hover shows a point's figures, click selects it, Ctrl+click adds a second
point to compare, double-click emits ``design_requested(design, run_info)``.
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.panels.pareto_data import (
    AXES,
    ParetoModel,
    TrialPoint,
    _fmt,
    details_html,
    point_of_record,
    store_points,
)
from app.panels.plot_style import CostAxis, plot_color, style_plot
from engine.events import TrialFinished
from engine.store.records import TrialRecord

REDRAW_MS = 150
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#17becf", "#bcbd22", "#7f7f7f"]
PICK_RADIUS_PX = 12
MAX_ARROWS = 300


class ParetoExplorer(QWidget):
    """Accuracy-versus-cost explorer over trials and runs."""

    design_requested = Signal(object, object)   # (Design, run_info dict)
    selection_changed = Signal(list)            # list[TrialPoint]

    def __init__(self, parent: QWidget | None = None, *, redraw_ms: int = REDRAW_MS) -> None:
        super().__init__(parent)
        self.model = ParetoModel()
        self._groups: dict[str, pg.ScatterPlotItem] = {}
        self.selected: list[int] = []
        self.constraints: dict[str, float] = {}
        self.store: Any = None
        self.axis = "params"
        self.log_x = True
        self._dirty = True
        self._xy = np.zeros((0, 2))
        self.front_indices: list[int] = []
        self.hv_history: list[tuple[int, float]] = []
        self._drawn: dict[str, tuple[Any, ...]] = {}
        self._build_ui()
        self._timer = QTimer(self)
        self._timer.setInterval(redraw_ms)
        self._timer.timeout.connect(self.redraw)
        self._timer.start()

    @property
    def points(self) -> list[TrialPoint]:
        """The plotted points (the model's, in arrival order)."""
        return self.model.points

    # -- construction -------------------------------------------------------------
    def _build_ui(self) -> None:
        self.axis_box = QComboBox()
        for key, text in AXES.items():
            self.axis_box.addItem(text, key)
        self.axis_box.currentIndexChanged.connect(
            lambda _i: self.set_axis(self.axis_box.currentData()))
        self.log_box = QCheckBox("log scale")
        self.log_box.setChecked(True)
        self.log_box.toggled.connect(self.set_log_x)
        self.summary = QLabel("No trials yet: run a search (Run ▸ Search…).")
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Cost axis:"))
        bar.addWidget(self.axis_box)
        bar.addWidget(self.log_box)
        bar.addStretch(1)
        bar.addWidget(self.summary)

        self.cost_axis = CostAxis(orientation="bottom")
        self.plot = pg.PlotWidget(axisItems={"bottom": self.cost_axis})
        pi = self.plot.getPlotItem()
        pi.showGrid(x=True, y=True, alpha=0.25)
        pi.setLabel("left", "accuracy (validation)")
        # the legend is a row above the plot: inside it, it covered points
        self.legend_row = QLabel("")
        self.legend_row.setWordWrap(True)
        self.legend_row.setTextFormat(Qt.TextFormat.RichText)
        self._group_colors: dict[str, str] = {}
        self.empty_text = pg.TextItem("", anchor=(0.5, 0.5), color="#6b7280")
        self.empty_text.setVisible(False)
        pi.addItem(self.empty_text, ignoreBounds=True)
        self.band = pg.LinearRegionItem(orientation="vertical", movable=False,
                                        brush=pg.mkBrush(214, 39, 40, 40),
                                        pen=pg.mkPen(214, 39, 40, 120))
        self.acc_band = pg.LinearRegionItem(orientation="horizontal", movable=False,
                                            brush=pg.mkBrush(214, 39, 40, 30),
                                            pen=pg.mkPen(214, 39, 40, 100))
        for band in (self.band, self.acc_band):
            band.setZValue(-10)
            band.setVisible(False)
            pi.addItem(band, ignoreBounds=True)
        pi.getAxis("bottom").enableAutoSIPrefix(False)
        pi.getAxis("left").enableAutoSIPrefix(False)   # not "(x0.001)" and 800 for 0.8
        self.lineage = pg.PlotDataItem([], [], connect="pairs",
                                       pen=pg.mkPen("#555555", width=1.2, style=Qt.DashLine))
        pi.addItem(self.lineage)
        self._arrows: list[pg.ArrowItem] = []
        self.front_line = pg.PlotDataItem([], [], pen=pg.mkPen(plot_color("front"), width=2.2),
                                          name="Pareto front")
        pi.addItem(self.front_line)
        self.limit_line = pg.InfiniteLine(angle=90, movable=False,
                                          pen=pg.mkPen(214, 39, 40, 200, width=1.5),
                                          label="limit", labelOpts={"position": 0.95,
                                                                    "color": (180, 30, 30)})
        self.limit_line.setVisible(False)
        pi.addItem(self.limit_line, ignoreBounds=True)
        # an invisible point that keeps a constraint limit inside the auto-range
        self._limit_anchor = pg.ScatterPlotItem([], [], size=1, pen=None, brush=None)
        pi.addItem(self._limit_anchor)
        self.highlight = pg.ScatterPlotItem([], [], size=16, pen=pg.mkPen("#000000", width=2.5),
                                            brush=pg.mkBrush(0, 0, 0, 0))
        self.highlight.setZValue(20)
        pi.addItem(self.highlight)
        self.hover_text = pg.TextItem("", anchor=(0, 1), color=plot_color("text"),
                                      fill=pg.mkBrush(*plot_color("hover_bg")),
                                      border=pg.mkPen(plot_color("hover_border")))
        self.hover_text.setZValue(30)
        self.hover_text.setVisible(False)
        pi.addItem(self.hover_text, ignoreBounds=True)
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.plot.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        pi.getViewBox().sigRangeChanged.connect(lambda *_: self._update_arrow_angles())

        self.hv_plot = pg.PlotWidget()
        self.hv_plot.setMaximumHeight(120)
        self.hv_plot.setMinimumHeight(80)
        self.hv_plot.setLabel("left", "hypervolume")
        self.hv_plot.getAxis("left").enableAutoSIPrefix(False)
        self.hv_plot.setLabel("bottom", "trials")
        self.hv_plot.showGrid(x=True, y=True, alpha=0.25)
        self.hv_plot.setMouseEnabled(x=False, y=False)
        self.hv_curve = self.hv_plot.plot([], [], pen=pg.mkPen("#2ca02c", width=2))

        self.details = QTextBrowser()
        self.details.setMinimumWidth(330)
        self.details.setHtml(self._help_html())

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addLayout(bar)
        lv.addWidget(self.legend_row)
        lv.addWidget(self.plot, 1)
        lv.addWidget(self.hv_plot)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(self.details)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(split)
        self._update_axis_labels()
        self.apply_theme()

    def apply_theme(self) -> None:
        """Plot colours of the current theme (also after a theme change)."""
        for widget in (self.plot, self.hv_plot):
            style_plot(widget)
        self.front_line.setPen(pg.mkPen(plot_color("front"), width=2.2))
        self.hover_text.fill = pg.mkBrush(*plot_color("hover_bg"))
        self.hover_text.border = pg.mkPen(plot_color("hover_border"))
        self.hover_text.setColor(plot_color("text"))
        self._update_legend()

    @staticmethod
    def _help_html() -> str:
        return ("<h3>Pareto explorer</h3><p>Each dot is one evaluated architecture. "
                "Up and to the left is better: more accurate for less cost. The black "
                "staircase is the Pareto front; shaded areas break your constraints.</p>"
                "<ul><li><b>Hover</b> a dot to see its figures.</li>"
                "<li><b>Click</b> to select, <b>Ctrl+click</b> a second dot to compare.</li>"
                "<li><b>Double-click</b> to open its design.</li></ul>")

    # -- feeding ----------------------------------------------------------------------
    def set_group_label(self, experiment_id: int, label: str) -> None:
        """Name an experiment's points in the legend (e.g. ``"#3 evolution"``)."""
        self.model.group_labels[experiment_id] = label

    def add_point(self, point: TrialPoint) -> None:
        """Add or replace a point (by key); drawn at the next timer tick."""
        new_group = self.model.add(point)
        if new_group is not None:
            self._group_item(new_group)
        self._dirty = True

    def add_trial(self, trial: TrialFinished | TrialRecord) -> bool:
        """Add a finished trial; False if it has no objective value (rejected/failed)."""
        record = trial.record if isinstance(trial, TrialFinished) else trial
        if record is None:
            return False
        point = point_of_record(record, self.model.group_of(record.experiment_id))
        if point is not None:
            self.add_point(point)
        return point is not None

    def on_event(self, event: object) -> None:
        """Slot for ``JobRunner.event_received``."""
        point = self.model.point_of_event(event)
        if point is not None:
            self.add_point(point)

    def clear(self) -> None:
        self.model.reset()
        self._drawn = {}
        self.selected.clear()
        self._dirty = True
        self.redraw()

    def load_from_store(self, store: Any, experiment_ids: list[int] | None = None) -> int:
        """Load trials and runs (with lineage) from an ``engine.store.Store``."""
        self.store = store
        for point in store_points(store, experiment_ids, self.model.group_labels):
            self.add_point(point)
        self.redraw()
        return len(self.points)

    # -- settings -----------------------------------------------------------------
    def set_axis(self, axis: str) -> None:
        if axis not in AXES:
            raise ValueError(f"unknown cost axis {axis!r}; choose one of {', '.join(AXES)}")
        self.axis = axis
        idx = self.axis_box.findData(axis)
        if idx != self.axis_box.currentIndex():
            self.axis_box.setCurrentIndex(idx)
        self._update_axis_labels()
        self._dirty = True
        self.redraw()

    def set_log_x(self, on: bool) -> None:
        self.log_x = bool(on)
        if self.log_box.isChecked() != self.log_x:
            self.log_box.setChecked(self.log_x)
        self._update_axis_labels()
        self._dirty = True
        self.redraw()

    def set_constraints(self, **limits: float | None) -> None:
        """Limits to shade: ``max_params``, ``max_macs``, ``max_latency_ms``, ``min_accuracy``."""
        for k, v in limits.items():
            if v is None:
                self.constraints.pop(k, None)
            else:
                self.constraints[k] = float(v)
        self._dirty = True
        self.redraw()

    def _update_axis_labels(self) -> None:
        pi = self.plot.getPlotItem()
        pi.setLabel("bottom", AXES[self.axis] + (" (log scale)" if self.log_x else ""))
        self.cost_axis.log = self.log_x
        self.cost_axis.picture = None   # redraw the ticks
        self.cost_axis.update()

    # -- drawing --------------------------------------------------------------------
    def _tx(self, x: np.ndarray | float) -> np.ndarray | float:
        if not self.log_x:
            return x
        return np.log10(np.maximum(x, 1e-12))

    def _group_item(self, group: str) -> pg.ScatterPlotItem:
        item = self._groups.get(group)
        if item is None:
            color = PALETTE[len(self._groups) % len(PALETTE)]
            item = pg.ScatterPlotItem([], [], size=8, pen=pg.mkPen(None),
                                      brush=pg.mkBrush(color), name=group)
            self.plot.getPlotItem().addItem(item)
            self._groups[group] = item
            self._group_colors[group] = color
            self._update_legend()
        return item

    def _update_legend(self) -> None:
        chips = [f"<span style='color:{c}'>●</span>&nbsp;{html.escape(g)}"
                 for g, c in self._group_colors.items()]
        if chips:
            chips.append(f"<span style='color:{plot_color('front')}'>━</span>&nbsp;Pareto front")
        self.legend_row.setText("&nbsp;&nbsp;&nbsp; ".join(chips))
        self.legend_row.setVisible(bool(chips))

    def visible_indices(self) -> np.ndarray:
        """Indices of points that have a figure on the current cost axis."""
        return self.model.visible(self.axis, self.log_x)

    def redraw(self) -> None:
        """Push the data to the plot items (timer slot; cheap when nothing changed)."""
        if not self._dirty:
            return
        self._dirty = False
        idx = self.visible_indices()
        m = self.model
        cost = np.asarray(m.cost[self.axis], dtype=float)[idx]
        acc = np.asarray(m.acc, dtype=float)[idx]
        gid = np.asarray(m.gid, dtype=int)[idx]
        x = self._tx(cost)
        self._xy = np.full((len(self.points), 2), np.nan)
        self._xy[idx, 0] = x
        self._xy[idx, 1] = acc
        for group, g in m.group_ids.items():
            sel = gid == g
            sig = (int(sel.sum()), self.axis, self.log_x, m.version)
            if self._drawn.get(group) != sig:   # only groups whose points changed
                self._groups[group].setData(x[sel], acc[sel])
                self._drawn[group] = sig
        self._draw_front(idx)
        self._draw_bands()
        self._draw_lineage()
        self._draw_selection()
        self._show_empty_axis(len(idx) == 0 and bool(self.points))
        n_front = len(self.front_indices)
        self.summary.setText(f"{len(idx)} points on this axis, {n_front} on the front"
                             if self.points else "No trials yet: run a search (Run ▸ Search…).")

    def _show_empty_axis(self, empty: bool) -> None:
        """No point has a figure on this axis (latency, say): no stale ticks, say why."""
        was, self._empty_axis = getattr(self, "_empty_axis", False), empty
        self.cost_axis.setStyle(showValues=not empty)
        self.empty_text.setVisible(empty)
        if empty:
            vb = self.plot.getPlotItem().getViewBox()
            vb.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
            self.empty_text.setText(f"No point has a {AXES[self.axis].split(' (')[0]} figure")
            self.empty_text.setPos(0.5, 0.5)
        elif was:
            self.plot.getPlotItem().getViewBox().enableAutoRange()

    def _draw_front(self, idx: np.ndarray) -> None:
        self.front_indices, self.hv_history = self.model.front(idx, self.axis, self.constraints)
        if not self.front_indices:
            self.front_line.setData([], [])
        else:
            fc = np.asarray(self.model.cost[self.axis], dtype=float)[self.front_indices]
            fa = np.asarray(self.model.acc, dtype=float)[self.front_indices]
            self.front_line.setData(np.repeat(self._tx(fc), 2)[1:], np.repeat(fa, 2)[:-1])
        self.hv_curve.setData([m for m, _ in self.hv_history], [v for _, v in self.hv_history])

    def _draw_bands(self) -> None:
        limit = self.constraints.get(f"max_{self.axis}")
        if limit is not None and (not self.log_x or limit > 0):
            lo = float(self._tx(limit))
            hi = lo + (6.0 if self.log_x else max(limit * 10, 1.0))
            self.band.setRegion((lo, hi))
            self.band.setVisible(True)
            self.limit_line.setValue(lo)
            self.limit_line.setVisible(True)
            self.limit_line.label.setFormat(f"max {self.axis} {_fmt(limit)}")
            ys = [p.accuracy for p in self.points] or [0.0]
            anchor = self._tx(limit * 1.15) if self.log_x else limit * 1.05
            self._limit_anchor.setData([anchor], [float(np.median(ys))])
        else:
            self.band.setVisible(False)
            self.limit_line.setVisible(False)
            self._limit_anchor.setData([], [])
        min_acc = self.constraints.get("min_accuracy")
        if min_acc is not None:
            self.acc_band.setRegion((min_acc - 10.0, min_acc))
            self.acc_band.setVisible(True)
        else:
            self.acc_band.setVisible(False)

    def _draw_lineage(self) -> None:
        segs = self.model.lineage(~np.isnan(self._xy[:, 0]))[:MAX_ARROWS]
        xs = [self._xy[k, 0] for s in segs for k in s]
        ys = [self._xy[k, 1] for s in segs for k in s]
        self.lineage.setData(xs, ys)
        self._lineage_segments = segs
        pi = self.plot.getPlotItem()
        while len(self._arrows) < len(segs):
            arrow = pg.ArrowItem(headLen=12, tipAngle=28, pen=pg.mkPen("#555555"),
                                 brush=pg.mkBrush("#555555"))
            arrow.setZValue(5)
            pi.addItem(arrow, ignoreBounds=True)
            self._arrows.append(arrow)
        for k, arrow in enumerate(self._arrows):
            arrow.setVisible(k < len(segs))
        self._update_arrow_angles()

    def _update_arrow_angles(self) -> None:
        vb = self.plot.getPlotItem().getViewBox()
        for arrow, (j, i) in zip(self._arrows, getattr(self, "_lineage_segments", []),
                                 strict=False):
            tip = QPointF(*self._xy[i])
            a = vb.mapViewToScene(QPointF(*self._xy[j]))
            b = vb.mapViewToScene(tip)
            angle = math.degrees(math.atan2(b.y() - a.y(), b.x() - a.x()))
            arrow.setStyle(angle=180 + angle)
            arrow.setPos(tip)

    def _draw_selection(self) -> None:
        sel = [i for i in self.selected if not np.isnan(self._xy[i, 0])]
        self.highlight.setData(self._xy[sel, 0] if sel else [], self._xy[sel, 1] if sel else [])

    # -- interaction ------------------------------------------------------------------
    def point_at(self, scene_pos: QPointF) -> int | None:
        """Index of the point nearest to a scene position, within a few pixels."""
        if not len(self._xy):
            return None
        vb = self.plot.getPlotItem().getViewBox()
        view = vb.mapSceneToView(scene_pos)
        px = vb.viewPixelSize()
        dx = (self._xy[:, 0] - view.x()) / max(px[0], 1e-12)
        dy = (self._xy[:, 1] - view.y()) / max(px[1], 1e-12)
        d = np.hypot(dx, dy)
        if np.all(np.isnan(d)):
            return None
        i = int(np.nanargmin(d))
        return i if d[i] <= PICK_RADIUS_PX else None

    def scene_pos_of(self, index: int) -> QPointF:
        """Scene position of a point (for tests and keyboard navigation)."""
        vb = self.plot.getPlotItem().getViewBox()
        return vb.mapViewToScene(QPointF(*self._xy[index]))

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        i = self.point_at(scene_pos)
        if i is None:
            self.hover_text.setVisible(False)
            return
        self.hover_text.setText(self.describe(i))
        self.hover_text.setAnchor(self.hover_anchor(i))
        self.hover_text.setPos(*self._xy[i])
        self.hover_text.setVisible(True)

    def hover_anchor(self, i: int) -> tuple[float, float]:
        """Put the hover box on the side of the point with room: below a point in the
        upper half, left of a point in the right half (it was clipped at the top)."""
        (x0, x1), (y0, y1) = self.plot.getPlotItem().getViewBox().viewRange()
        x, y = self._xy[i]
        right = x > (x0 + x1) / 2
        upper = y > (y0 + y1) / 2
        return (1.0 if right else 0.0, 0.0 if upper else 1.0)

    def _on_mouse_clicked(self, ev: Any) -> None:
        i = self.point_at(ev.scenePos())
        if i is None:
            return
        ev.accept()
        if ev.double():
            self.request_design(i)
        else:
            self.select(i, add=bool(ev.modifiers() & Qt.ControlModifier))

    def describe(self, i: int) -> str:
        return self.model.describe(i)

    def select(self, i: int, add: bool = False) -> None:
        """Select point ``i``; with ``add`` keep the previous one for comparison."""
        if add and self.selected and self.selected[-1] != i:
            self.selected = [self.selected[-1], i]
        else:
            self.selected = [i]
        self._draw_selection()
        self._show_details()
        self.selection_changed.emit([self.points[k] for k in self.selected])

    def design_of(self, i: int) -> Any:
        """The design point ``i`` evaluated (from the store, else its trial JSON)."""
        return self.model.design_of(i, self.store)

    def request_design(self, i: int) -> None:
        """Emit ``design_requested`` for point ``i`` (double-click)."""
        p = self.points[i]
        try:
            design = self.design_of(i)
        except Exception as exc:  # noqa: BLE001 - shown to the user, not raised into Qt
            self.details.setHtml(f"<p><b>Cannot open {p.label()}:</b> {exc}</p>")
            return
        info = {"run_id": p.run_id, "experiment_id": p.experiment_id, "trial": p.trial,
                "accuracy": p.accuracy, **p.costs, "label": p.label(), "group": p.group}
        self.design_requested.emit(design, info)

    def comparison(self) -> tuple[list[TrialPoint], list[str]]:
        """The selected points and the diff of their designs (two selected)."""
        return self.model.comparison(self.selected, self.store)

    def _show_details(self) -> None:
        pts, diff = self.comparison()
        self.details.setHtml(details_html(pts, diff) if pts else self._help_html())
