"""The experiments browser: every experiment and run in the store, filterable, with details.

Read-only except for two explicit, confirmed actions: rename and delete an experiment.
Interrupted or cancelled runs (and searches) can be resumed; finished runs can be
opened, compressed or exported (the requests are signals the studio acts on).
"""

from __future__ import annotations

import json
import math
from html import escape as html_escape
from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QTextBrowser,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.panels.plots import TrainingCurves
from app.panels.trials_table import TrialsTable
from app.panels.trials_table import number as _num  # one definition
from engine.compress.runs import can_compress
from engine.export.formats import can_export
from engine.search.pareto import front_summary
from engine.store.records import RunRecord

# (header, record key); "accuracy" (test, else validation) is what the filter uses
COLUMNS = (("Experiment", "experiment"), ("Name", "name"), ("Kind", "kind"),
           ("Status", "status"), ("Dataset", "dataset"), ("Run", "run"),
           ("Val acc", "val_acc"), ("Test acc", "test_acc"), ("Params", "params"),
           ("MACs", "MACs"), ("Epochs", "epochs"), ("Created", "created"))
TEXT_KEYS = ("name", "kind", "status", "dataset", "created")
STATUSES = ("running", "finished", "failed", "cancelled", "interrupted", "rejected")
RESUMABLE = ("interrupted", "cancelled", "failed")
SORT_ROLE = Qt.UserRole + 1
ROW_ROLE = Qt.UserRole + 2


def _human(v: Any) -> str:
    f = _num(v)
    if f is None:
        return ""
    if f >= 1e6:
        return f"{f / 1e6:.2f} M"
    if f >= 1e3:
        return f"{f / 1e3:.1f} k"
    return f"{f:g}"


def _figure(v: Any) -> str:
    """A summary figure: fractions to 4 places (0.7444, not 0.7444444444444445)."""
    if isinstance(v, float) and math.isfinite(v) and not v.is_integer():
        return f"{v:.4f}" if abs(v) < 10 else f"{v:.2f}"
    return html_escape(str(v))


def row_records(store: Any) -> list[dict[str, Any]]:
    """One record per run (experiments without runs get one record) for the table."""
    out: list[dict[str, Any]] = []
    runs_by_exp: dict[Any, list[RunRecord]] = {}
    for run in store.runs():
        runs_by_exp.setdefault(run.experiment_id, []).append(run)
    experiments = store.experiments()
    for exp in experiments:
        kind = f"search · {exp.strategy}" if exp.strategy else exp.kind or ""
        exp_dataset = exp.dataset
        base = {"experiment": exp.id, "name": exp.name or "", "kind": kind,
                "exp_status": exp.status or "", "created": exp.created or "",
                "exp": exp}
        runs = runs_by_exp.get(exp.id, [])
        if kind.startswith("search"):
            trials = store.trials(exp.id)
            best = front_summary(trials, exp.objectives, exp.constraints).best
            best_val = best.objective if best is not None else None
            test = best.value(exp.report) if best is not None else None
            out.append({**base, "status": exp.status or "", "dataset": exp_dataset,
                        "run": None, "val_acc": best_val, "test_acc": test,
                        "accuracy": test if test is not None else best_val, "params": None,
                        "MACs": None, "epochs": None, "trials": len(trials), "run_row": None})
        for run in runs:
            val, test = _num(run.best_val_accuracy), _num(run.test_accuracy)
            acc = test if test is not None else val
            out.append({**base, "kind": run.kind or kind,
                        "status": run.status or "",
                        "dataset": run.config.get("dataset_name") or exp_dataset, "run": run.id,
                        "val_acc": val, "test_acc": test, "accuracy": acc,
                        "params": _num(run.params),
                        "MACs": _num(run.macs), "epochs": run.epochs_done,
                        "created": run.created or base["created"], "run_row": run})
        if not runs and not kind.startswith("search"):
            out.append({**base, "status": exp.status or "", "dataset": exp_dataset,
                        "run": None, "val_acc": None, "test_acc": None, "accuracy": None,
                        "params": None, "MACs": None,
                        "epochs": None, "run_row": None})
    return out


class RunFilter(QSortFilterProxyModel):
    """Filters rows on status, kind, dataset, min accuracy and max params."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.status = ""
        self.kind = ""
        self.dataset = ""
        self.min_accuracy: float | None = None
        self.max_params: float | None = None
        self.setSortRole(SORT_ROLE)

    def set_filters(self, **kw: Any) -> None:
        for k, v in kw.items():
            setattr(self, k, v)
        if hasattr(self, "beginFilterChange"):   # Qt >= 6.10
            self.beginFilterChange()
            self.endFilterChange()
        else:
            self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: Any) -> bool:  # noqa: N802
        rec = self.sourceModel().index(source_row, 0, source_parent).data(ROW_ROLE)
        if rec is None:
            return True
        if self.status and rec["status"] != self.status:
            return False
        if self.kind and not str(rec["kind"]).startswith(self.kind):
            return False
        if self.dataset and self.dataset.lower() not in str(rec["dataset"]).lower():
            return False
        if self.min_accuracy is not None:
            acc = rec.get("accuracy")
            if acc is None or acc < self.min_accuracy:
                return False
        if self.max_params is not None:
            p = rec.get("params")
            if p is None or p > self.max_params:
                return False
        return True


class ExperimentsBrowser(QWidget):
    """Table of experiments and runs with filters and a detail pane."""

    resume_requested = Signal(str, int)        # ("run", run_id) | ("experiment", exp_id)
    design_requested = Signal(object, object)  # (Design, run info)
    export_requested = Signal(int)             # run id
    compress_requested = Signal(int)           # run id
    changed = Signal()                         # after a rename or delete

    def __init__(self, store: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.model = QStandardItemModel(0, len(COLUMNS))
        self.model.setHorizontalHeaderLabels([header for header, _key in COLUMNS])
        self.proxy = RunFilter(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._show_selected())
        self.table.doubleClicked.connect(lambda _i: self.open_design())
        self._build_filters()
        self._build_details()
        self._build_buttons()
        split = QSplitter(Qt.Horizontal)   # wide and short as a bottom dock: side by side
        split.addWidget(self.table)
        split.addWidget(self.tabs)
        split.setSizes([640, 360])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(self.filter_bar)
        lay.addWidget(split, 1)
        lay.addLayout(self.button_bar)
        self.refresh()

    # -- construction -------------------------------------------------------------------
    def _build_filters(self) -> None:
        self.status_box = QComboBox()
        self.status_box.addItems(["any status", *STATUSES])
        self.kind_box = QComboBox()
        self.kind_box.addItems(["any kind", "train", "search", "compress", "search · random",
                                "search · evolution", "search · reinforce", "search · darts"])
        self.kind_box.setToolTip("kind of run, or the strategy of a search")
        self.dataset_edit = QLineEdit()
        self.dataset_edit.setPlaceholderText("dataset")
        self.min_acc = QDoubleSpinBox()
        self.min_acc.setRange(0.0, 100.0)
        self.min_acc.setDecimals(3)
        self.min_acc.setSingleStep(0.05)
        self.min_acc.setSpecialValueText("min acc: any")
        self.min_acc.setToolTip("minimum accuracy (fractions for trained runs)")
        self.max_params = QLineEdit()
        self.max_params.setPlaceholderText("max params (e.g. 250k)")
        for w in (self.status_box, self.kind_box):
            w.currentIndexChanged.connect(lambda _i: self._apply_filters())
        self.dataset_edit.textChanged.connect(lambda _t: self._apply_filters())
        self.min_acc.valueChanged.connect(lambda _v: self._apply_filters())
        self.max_params.textChanged.connect(lambda _t: self._apply_filters())
        self.count = QLabel("")
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Filter:"))
        for w in (self.status_box, self.kind_box, self.dataset_edit, self.min_acc,
                  self.max_params):
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(self.count)
        self.filter_bar = bar

    def _build_details(self) -> None:
        self.summary = QTextBrowser()
        self.summary.setHtml("<p>Select a row to see its figures, configuration, "
                             "environment, per-epoch curves and exported files.</p>")
        self.config_view = QTextBrowser()
        self.env_view = QTextBrowser()
        self.curves = TrainingCurves()
        self.trials = TrialsTable()
        self.artifacts = QTreeWidget()
        self.artifacts.setHeaderLabels(["kind", "path", "bytes", "verified", "created"])
        self.tabs = QTabWidget()
        for w, name in ((self.summary, "Summary"), (self.trials, "Trials"),
                        (self.curves, "Curves"),
                        (self.config_view, "Config"), (self.env_view, "Environment"),
                        (self.artifacts, "Artifacts")):
            self.tabs.addTab(w, name)

    def _build_buttons(self) -> None:
        self.refresh_button = QPushButton("Refresh")
        self.open_button = QPushButton("Open design")
        self.resume_button = QPushButton("Resume")
        self.compress_button = QPushButton("Compress…")
        self.export_button = QPushButton("Export…")
        self.rename_button = QPushButton("Rename…")
        self.delete_button = QPushButton("Delete…")
        self.refresh_button.clicked.connect(self.refresh)
        self.open_button.clicked.connect(self.open_design)
        self.resume_button.clicked.connect(self.resume_selected)
        self.compress_button.clicked.connect(lambda: self._emit_run(self.compress_requested))
        self.export_button.clicked.connect(lambda: self._emit_run(self.export_requested))
        self.rename_button.clicked.connect(self.rename_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        bar = QHBoxLayout()
        for b in (self.refresh_button, self.open_button, self.resume_button,
                  self.compress_button, self.export_button):
            bar.addWidget(b)
        bar.addStretch(1)
        bar.addWidget(self.rename_button)
        bar.addWidget(self.delete_button)
        self.button_bar = bar
        self._update_buttons(None)

    # -- data -------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Reload everything from the store, keeping the selection when possible."""
        selected = self.selected_record()
        key = (selected["experiment"], selected["run"]) if selected else None
        self.records = row_records(self.store)
        self.model.setRowCount(0)
        for rec in self.records:
            items = []
            for _header, col in COLUMNS:
                value = rec.get(col)
                if col in ("params", "MACs"):
                    shown = _human(value)
                elif col == "created":
                    shown = str(value or "")[:19].replace("T", " ")
                elif isinstance(value, float):
                    shown = f"{value:.4f}"
                else:
                    shown = "" if value is None else str(value)
                if col == "run" and value is None and rec.get("trials") is not None:
                    shown = f"{rec['trials']} trials"
                item = QStandardItem(shown)
                sort_value = value if value is not None else ("" if col in TEXT_KEYS
                                                              else -math.inf)
                item.setData(sort_value, SORT_ROLE)
                items.append(item)
            items[0].setData(rec, ROW_ROLE)
            self.model.appendRow(items)
        self._apply_filters()
        if key is not None:
            self.select(*key)

    def _apply_filters(self) -> None:
        status = self.status_box.currentText()
        kind = self.kind_box.currentText()
        try:
            max_params = _parse_amount(self.max_params.text())
            self.max_params.setStyleSheet("")
        except ValueError:
            max_params = None
            self.max_params.setStyleSheet("color: #b00020;")
        self.proxy.set_filters(status="" if status.startswith("any") else status,
                               kind="" if kind.startswith("any") else kind,
                               dataset=self.dataset_edit.text().strip(),
                               min_accuracy=self.min_acc.value() or None,
                               max_params=max_params)
        self.count.setText(f"{self.proxy.rowCount()} of {self.model.rowCount()} rows")

    def visible_records(self) -> list[dict[str, Any]]:
        return [self.proxy.index(r, 0).data(ROW_ROLE) for r in range(self.proxy.rowCount())]

    def select(self, experiment_id: int, run_id: int | None = None) -> bool:
        for r in range(self.proxy.rowCount()):
            rec = self.proxy.index(r, 0).data(ROW_ROLE)
            if rec["experiment"] == experiment_id and rec["run"] == run_id:
                self.table.selectRow(r)
                return True
        return False

    def selected_record(self) -> dict[str, Any] | None:
        if not hasattr(self, "records"):
            return None
        rows = self.table.selectionModel().selectedRows()
        return rows[0].data(ROW_ROLE) if rows else None

    # -- details ---------------------------------------------------------------------------
    def _show_selected(self) -> None:
        rec = self.selected_record()
        self._update_buttons(rec)
        if rec is None:
            return
        exp, run = rec["exp"], rec.get("run_row")
        if str(rec["kind"]).startswith("search"):   # the experiment's own objectives
            self.trials.show_trials(self.store.trials(exp.id), list(exp.objectives))
        else:
            self.trials.clear("Trials belong to searches: select a search row.")
        figures = [("experiment", f"{exp.id} — {exp.name or ''}"),
                   ("kind", rec["kind"]), ("status", rec["status"]),
                   ("dataset", rec["dataset"]), ("created", rec["created"])]
        if run is not None:
            figures += [("run", run.id), ("parent run", run.parent_id),
                        ("params", _human(run.params)), ("MACs", _human(run.macs)),
                        ("best val accuracy", run.best_val_accuracy),
                        ("test accuracy", run.test_accuracy),
                        ("latency (ms)", run.latency_ms),
                        ("size (bytes)", run.size_bytes),
                        ("epochs", run.epochs_done), ("error", run.error)]
        elif rec.get("trials") is not None:
            figures.append(("trials", rec["trials"]))
            figures.append(("best accuracy", rec.get("accuracy")))
        html = "<table cellpadding='3'>" + "".join(
            f"<tr><td><b>{k}</b></td><td>{_figure(v)}</td></tr>"
            for k, v in figures if v not in (None, "")) + "</table>"
        self.summary.setHtml(html)
        config = {"experiment": exp.config, "run": run.config if run else None,
                  "recipe": run.recipe if run else None}
        self.config_view.setPlainText(json.dumps({k: v for k, v in config.items() if v},
                                                 indent=2, default=str))
        self.env_view.setPlainText(json.dumps(exp.environment, indent=2, default=str))
        if run is not None:
            self.curves.set_epochs(run.id, self.store.epochs(run.id),
                                   f"Run {run.id} ({run.status})")
        else:
            self.curves.clear(None, "Select a run to see its curves")
        self.artifacts.clear()
        for art in self.store.artifacts(run.id) if run is not None else []:
            QTreeWidgetItem(self.artifacts, [str(art.get("kind")), str(art.get("path")),
                                             str(art.get("bytes")),
                                             "yes" if art.get("verified") else "no",
                                             str(art.get("created"))])

    def _update_buttons(self, rec: dict[str, Any] | None) -> None:
        run = rec.get("run_row") if rec else None
        finished = run is not None and run.status == "finished"
        self.open_button.setEnabled(run is not None)
        # a run without weights (a search trial) opens the export dialog, which says why
        # and offers to train it again and export that; the engine says what else can be
        # exported or compressed (an int8 ONNX run: neither)
        weightless = finished and not run.checkpoint
        self.export_button.setEnabled(finished and run.kind in ("train", "compress") and (
            weightless or bool(can_export(run, "onnx"))))
        self.export_button.setToolTip(
            "This run kept no weights (search trials are only scored): the export dialog "
            "can train it again and export the result" if weightless else "")
        self.compress_button.setEnabled(run is not None and bool(can_compress(run)))
        self.resume_button.setEnabled(self.resumable(rec) is not None)
        self.rename_button.setEnabled(rec is not None)
        self.delete_button.setEnabled(rec is not None and rec["exp_status"] != "running")

    @staticmethod
    def resumable(rec: dict[str, Any] | None) -> tuple[str, int] | None:
        """What "Resume" would continue for a record: a train run or a search."""
        if rec is None:
            return None
        run = rec.get("run_row")
        if run is not None and run.kind == "train" and run.status in RESUMABLE:
            return ("run", run.id)
        if run is None and str(rec["kind"]).startswith("search") and \
                rec["exp_status"] in RESUMABLE:
            return ("experiment", rec["experiment"])
        return None

    # -- actions ------------------------------------------------------------------------
    def _emit_run(self, signal: Any) -> None:
        rec = self.selected_record()
        if rec and rec.get("run") is not None:
            signal.emit(int(rec["run"]))

    def open_design(self) -> None:
        rec = self.selected_record()
        run = rec.get("run_row") if rec else None
        if run is None:
            return
        design = self.store.get_design(run.design_hash)
        self.design_requested.emit(design, {"run_id": run.id, "label": f"run {run.id}",
                                            "experiment_id": rec["experiment"]})

    def resume_selected(self) -> None:
        what = self.resumable(self.selected_record())
        if what is not None:
            self.resume_requested.emit(*what)

    def confirm(self, title: str, text: str) -> bool:
        """Ask yes/no (tests replace this method)."""
        answer = QMessageBox.question(self, title, text,
                                      QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        return answer == QMessageBox.Yes

    def ask_name(self, current: str) -> str | None:
        """Ask for a new name (tests replace this method)."""
        text, ok = QInputDialog.getText(self, "Rename experiment", "New name:", text=current)
        return text.strip() if ok and text.strip() else None

    def rename_selected(self) -> None:
        rec = self.selected_record()
        if rec is None:
            return
        name = self.ask_name(rec["name"])
        if not name or name == rec["name"]:
            return
        if not self.confirm("Rename experiment",
                            f"Rename experiment {rec['experiment']} from “{rec['name']}” "
                            f"to “{name}”?"):
            return
        self.store.rename_experiment(rec["experiment"], name)
        self.refresh()
        self.changed.emit()

    def delete_selected(self) -> None:
        rec = self.selected_record()
        if rec is None:
            return
        n_runs = len(self.store.runs(rec["experiment"]))
        if not self.confirm("Delete experiment",
                            f"Delete experiment {rec['experiment']} “{rec['name']}” with its "
                            f"{n_runs} run(s), their epochs, trials and artifact records?\n"
                            "Exported files on disk are kept. This cannot be undone."):
            return
        self.store.delete_experiment(rec["experiment"])
        self.refresh()
        self.changed.emit()


def _parse_amount(text: str) -> float | None:
    """``"250k"`` -> 250000.0; empty -> None; raises ValueError on garbage."""
    t = text.strip().replace("_", "").replace(",", "")
    if not t:
        return None
    scale = {"k": 1e3, "m": 1e6, "g": 1e9}.get(t[-1].lower(), 1.0)
    return float(t[:-1] if scale != 1.0 else t) * scale
