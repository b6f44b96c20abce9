"""Plug the job UI into the main window: docks, the Run menu, toolbar actions.

``install_job_ui(main_window, store)`` uses only the window's public API
(``add_dock``, ``open_design``, ``current_doc``, ``menuBar``, ``tools``, ``log``), so the
one change to the main window is a call to it.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QMainWindow, QMessageBox

from app.actions import make_action
from app.jobs import factory
from app.jobs.dialogs import CompressDialog, SearchDialog, TrainDialog
from app.jobs.export_dialog import ExportDialog
from app.jobs.panel import JobPanel
from app.panels.experiments import ExperimentsBrowser
from app.panels.pareto import ParetoExplorer
from app.panels.plots import TrainingCurves
from app.workers import JobRunner
from engine.events import EpochFinished, JobStarted, TrialFinished
from engine.jobs import Job


class JobUI(QObject):
    """Everything the job UI adds to a window; ``shutdown()`` stops the engine thread."""

    def __init__(self, window: QMainWindow, store: Any) -> None:
        super().__init__(window)
        self.window, self.store = window, store
        self.runner = JobRunner(self)
        self.panel = JobPanel(self.runner)
        self.curves = TrainingCurves()
        self.pareto = ParetoExplorer()
        self.browser = ExperimentsBrowser(store)
        self.pareto.load_from_store(store)
        self._refresh_timer = QTimer(self, singleShot=True, interval=400)
        self._refresh_timer.timeout.connect(self._refresh_views)
        self.runner.event_received.connect(self.curves.on_event)
        self.runner.event_received.connect(self.pareto.on_event)
        self.runner.event_received.connect(self._on_event)
        self.runner.job_ended.connect(self._on_job_ended)
        self.pareto.design_requested.connect(self.open_read_only)
        self.pareto.selection_changed.connect(self.show_point_curves)
        self.browser.design_requested.connect(self.open_read_only)
        self.browser.resume_requested.connect(self.resume)
        self.browser.export_requested.connect(lambda run_id: self.export_dialog(run_id))
        self.browser.compress_requested.connect(lambda run_id: self.compress_dialog(run_id))
        self.browser.changed.connect(self._reload_pareto)
        self.dialog: Any = None
        self._shut = False
        self._pareto_stale = False

    # -- launching --------------------------------------------------------------------
    def submit(self, job: Job) -> str:
        """Queue a job and show the job panel."""
        job_id = self.runner.submit(job)
        dock = getattr(self.window, "docks", {}).get("Jobs")
        if dock is not None:
            dock.raise_()
        self._log(f"Queued: {job.describe()}")
        return job_id

    def _current_design(self) -> Any:
        doc = self.window.current_doc() if hasattr(self.window, "current_doc") else None
        return doc.design if doc is not None else None

    def _run_dialog(self, dialog: Any) -> Job | None:
        self.dialog = dialog
        if dialog.exec() and dialog.job is not None:
            self.submit(dialog.job)
            return dialog.job
        return None

    def train_dialog(self) -> TrainDialog:
        return TrainDialog(self._current_design(), self.store, self.window)

    def search_dialog(self) -> SearchDialog:
        """The search dialog, showing the last search's settings with a new seed."""
        settings = getattr(self.window, "settings", None)
        last = settings.json_value("dialogs/search") if settings is not None else None
        return SearchDialog(self.store, self.window, last=last)

    def compress_dialog(self, run_id: int | None = None, show: bool = True) -> CompressDialog:
        dialog = CompressDialog(self.store, run_id, self.window)
        if show:
            self._run_dialog(dialog)
        return dialog

    def export_dialog(self, run_id: int | None = None, show: bool = True) -> ExportDialog:
        dialog = ExportDialog(self.store, self.runner, run_id, self.window)
        dialog.export_finished.connect(lambda _e: self._refresh_timer.start())  # artifacts
        self.dialog = dialog
        if show:
            dialog.open()
        return dialog

    def launch_search(self, dialog: SearchDialog) -> Job | None:
        job = self._run_dialog(dialog)
        if job is not None:
            s = dialog.settings()
            if getattr(self.window, "settings", None) is not None:
                self.window.settings.set_json_value("dialogs/search", s)
            self.pareto.set_constraints(max_params=s.get("max_params"),
                                        max_macs=s.get("max_macs"))
            if "macs" in s.get("objectives", []):
                self.pareto.set_axis("macs")
            self._show_dock("Pareto")
        return job

    def resume(self, what: str, ident: int) -> Job | None:
        """Resume an interrupted training run ("run") or search ("experiment")."""
        try:
            job = (factory.resume_train_job(self.store, ident) if what == "run"
                   else factory.resume_search_job(self.store, ident))
        except Exception as exc:  # noqa: BLE001 - shown to the user
            self._error("Cannot resume", str(exc))
            return None
        self.submit(job)
        return job

    def open_read_only(self, design: Any, info: Any = None) -> Any:
        """Open a design from a run or trial read-only (Run ▸ Fork to edit makes a copy)."""
        label = (info or {}).get("label", "")
        if label:
            design = design.copy()
            design.name = f"{design.name} [{label}]"
        doc = self.window.open_design(design, read_only=True)
        self._log(f"Opened {label or design.name} read-only: use Run ▸ Fork to edit "
                  "(Ctrl+Shift+F) to change a copy")
        return doc

    def fork_current(self) -> Any:
        """Open an editable copy of the current (read-only) design."""
        design = self._current_design()
        if design is None:
            return None
        copy = design.copy()
        copy.name = f"{design.name.split(' [')[0]} fork"
        return self.window.open_design(copy, read_only=False)

    def show_point_curves(self, points: list) -> bool:
        """A selected Pareto point's per-epoch curves from the store (in the Training dock;
        never over a run being trained)."""
        point = points[-1] if points else None
        run_id = getattr(point, "run_id", None)
        if run_id is None or self.curves.is_live():
            return False
        rows = self.store.epochs(run_id)
        if not rows:
            return False
        self.curves.set_epochs(run_id, rows, f"{point.label()}: run {run_id} (stored)")
        self._show_dock("Training")
        return True

    # -- reactions -----------------------------------------------------------------------
    def _on_event(self, event: object) -> None:
        if isinstance(event, JobStarted) and event.kind == "train":
            self._show_dock("Training")
        if isinstance(event, (JobStarted, EpochFinished, TrialFinished)) and \
                not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def _on_job_ended(self, event: object) -> None:
        self._pareto_stale = True     # new runs (train, compress) join the plot
        self._refresh_timer.start()
        row = self.panel.rows.get(getattr(event, "job_id", ""))
        state = row.state if row is not None else \
            type(event).__name__.removeprefix("Job").lower()
        error = (row.error if row is not None else "") or getattr(event, "error", "")
        title = row.job.describe() if row is not None else "Job"
        self._log(f"{title}: {state}" + (f": {error}" if error else ""),
                  "error" if state == "failed" else "info")

    def _refresh_views(self) -> None:
        if self._shut:
            return
        self.browser.refresh()
        if self._pareto_stale:   # live trials arrive as events; the store is read at job ends
            self._pareto_stale = False
            self._reload_pareto()

    def _reload_pareto(self) -> None:
        """Runs (trained, compressed) and trials from the store, with lineage."""
        self.pareto.load_from_store(self.store)

    def _show_dock(self, title: str) -> None:
        dock = getattr(self.window, "docks", {}).get(title)
        if dock is not None:
            dock.show()
            dock.raise_()

    def _log(self, text: str, level: str = "info") -> None:
        log = getattr(self.window, "log", None)
        if log is not None and hasattr(log, "log"):
            log.log(text, level)

    def _error(self, title: str, text: str) -> None:
        if hasattr(self.window, "show_error"):
            self.window.show_error(title, text)
        else:
            QMessageBox.warning(self.window, title, text)

    # -- closing ---------------------------------------------------------------------------
    def confirm_close(self) -> bool:
        """Ask before closing with jobs queued or running (tests replace this)."""
        n = self.panel.running_count()
        answer = QMessageBox.question(
            self.window, "Jobs are running",
            f"{n} job(s) are queued or running. Stop them and close?\n"
            "Interrupted runs can be resumed later from the Experiments panel.",
            QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        return answer == QMessageBox.Yes

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if obj is self.window and event.type() == QEvent.Type.Close:
            if self.runner.is_busy() and not self.confirm_close():
                event.ignore()
                return True
        return False

    def shutdown(self) -> None:
        """Cancel every job and join the engine thread (idempotent)."""
        if not self._shut:
            self._shut = True
            self._refresh_timer.stop()
            self.runner.shutdown(30000)


def _make_room(window: QMainWindow, dock: Any, share: float = 0.45) -> None:
    """Grow a docked panel to ``share`` of the window height (never shrinks it)."""
    if hasattr(window, "make_room"):   # the studio window keeps its canvas readable
        window.make_room(dock, share)
        return
    want = int(window.height() * share)
    if dock.isVisible() and not dock.isFloating() and dock.height() < want:
        window.resizeDocks([dock], [want], Qt.Orientation.Vertical)


def install_job_ui(main_window: QMainWindow, store: Any = None) -> JobUI:
    """Add the Jobs, Training, Pareto and Experiments docks and the Run menu.

    ``store`` defaults to the window's database (``main_window.db_path``) or the
    user's default one.  Returns the :class:`JobUI`, also kept as ``main_window.job_ui``.
    """
    if store is None:
        from engine.store import Store

        store = Store(getattr(main_window, "db_path", None))
    store.mark_interrupted()
    ui = JobUI(main_window, store)
    add = main_window.add_dock
    bottom, right = Qt.DockWidgetArea.BottomDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
    jobs_dock = add(ui.panel, "Jobs", bottom)
    bottom_docks = [add(ui.browser, "Experiments", bottom), add(ui.pareto, "Pareto", bottom)]
    train_dock = add(ui.curves, "Training", right)
    existing = getattr(main_window, "docks", {})
    log_dock = existing.get("Log")
    if log_dock is not None:
        bottom_docks.insert(0, jobs_dock)
    for dock in bottom_docks:
        main_window.tabifyDockWidget(log_dock or jobs_dock, dock)
    if existing.get("Inspector") is not None:
        main_window.tabifyDockWidget(existing["Inspector"], train_dock)
        existing["Inspector"].raise_()
    jobs_dock.raise_()
    # The bottom tabs share the log's modest height: the canvas keeps most of the window.
    # (deferred: dock sizes only stick once the window is laid out on screen; the panels'
    # own minimum heights would otherwise squeeze the canvas to half the window)
    for widget in (ui.panel, ui.browser, ui.pareto):
        widget.setMinimumHeight(120)
    QTimer.singleShot(0, lambda: main_window.resizeDocks([log_dock or jobs_dock], [170],
                                                         Qt.Orientation.Vertical))
    # ...but a plot or a table needs room: at 170 px the Pareto plot is a strip and the
    # experiments table shows one row, so showing either grows the bottom area.
    for dock in bottom_docks:
        if dock.widget() in (ui.pareto, ui.browser):
            dock.visibilityChanged.connect(
                lambda visible, d=dock: visible and QTimer.singleShot(
                    0, lambda: _make_room(main_window, d)))

    slots = {"train": lambda: ui._run_dialog(ui.train_dialog()),
             "search": lambda: ui.launch_search(ui.search_dialog()),
             "compress": lambda: ui.compress_dialog(), "export": lambda: ui.export_dialog(),
             "fork": ui.fork_current, "cancel": ui.runner.cancel_all}
    acts = {key: make_action(main_window, f"run.{key}", slot) for key, slot in slots.items()}
    menu = main_window.menuBar().addMenu("&Run")
    for key in ("train", "search", "compress", "export", None, "fork", None, "cancel"):
        menu.addSeparator() if key is None else menu.addAction(acts[key])
    tools = getattr(main_window, "tools", None)
    if tools is not None:
        tools.addSeparator()
        for key in ("train", "search", "export"):
            tools.addAction(acts[key])
    ui.actions = acts
    ui.menu = menu
    main_window.installEventFilter(ui)
    main_window.destroyed.connect(lambda *_: ui.shutdown())
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(ui.shutdown)
    main_window.job_ui = ui
    return ui
