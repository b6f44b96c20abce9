"""MainWindow: a tab per open design, dockable palette / inspector / metrics / log."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QUndoGroup
from PySide6.QtWidgets import (
    QDockWidget,
    QMainWindow,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app import style
from app.actions import ACTIONS, add_mnemonic, decorate, make_action, mnemonic
from app.canvas.cell_editor import CellEditor
from app.canvas.stack_editor import StackEditor
from app.cost_worker import CostWorker, instant_cost
from app.document.controller import DocumentController
from app.file_actions import FileActions
from app.panels.cost_table import CostTable
from app.panels.dialogs import PreferencesDialog
from app.panels.inspector import Inspector
from app.panels.issues import IssuesStrip
from app.panels.log_panel import LogPanel
from app.panels.metrics import MetricsBar
from app.panels.palette import Palette
from app.settings import Settings
from engine.arch.model import CellDesign, Design
from engine.arch.presets import preset_groups

Editor = CellEditor | StackEditor
CELL_HINT = ("Tip: drag an op from the palette onto an edge to change it, onto a node to "
             "add an input, or onto empty canvas to add a node. Drag from a node's right "
             "port to connect. Tab / arrows select, Enter changes an op.")
STACK_HINT = ("Tip: drag a block from the palette between two cards to add a stage; drag "
              "a card to reorder. Tab / arrows select, Enter changes a block, Alt+↑/↓ moves.")
CANVAS_MIN_H = 400   # the canvas height below which cell labels drop out at fit zoom


class MainWindow(FileActions, QMainWindow):
    """The studio window.  Issue-7 panels plug in through ``add_dock``."""

    def __init__(self, settings: Settings | None = None, db: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings or Settings()
        self.db_path = db
        self.setWindowTitle("NAS Studio")
        self.setWindowIcon(style.icon("nas-studio"))
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks
                            | QMainWindow.DockOption.AllowTabbedDocks)
        self.documents: list[DocumentController] = []
        self.undo_group = QUndoGroup(self)
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.tabs.setTabsClosable(True)
        self.tabs.setMovable(True)
        self.tabs.tabCloseRequested.connect(self.close_tab)
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self.issues = IssuesStrip()
        self.issues.problem_clicked.connect(self.show_problem)
        central = QWidget()
        box = QVBoxLayout(central)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        box.addWidget(self.tabs, 1)
        box.addWidget(self.issues)
        self.setCentralWidget(central)

        self.palette = Palette()
        self.palette.apply_requested.connect(self.apply_palette_op)
        self.palette.setMinimumWidth(200)
        self.inspector = Inspector()
        self.inspector.setMinimumWidth(260)
        self.metrics = MetricsBar()
        self.log = LogPanel()
        self.docks: dict[str, QDockWidget] = {}
        self.add_dock(self.palette, "Palette", Qt.DockWidgetArea.LeftDockWidgetArea)
        self.add_dock(self.inspector, "Inspector", Qt.DockWidgetArea.RightDockWidgetArea)
        metrics_dock = self.add_dock(self.metrics, "Metrics", Qt.DockWidgetArea.TopDockWidgetArea)
        metrics_dock.setTitleBarWidget(QWidget())
        self.add_dock(self.log, "Log", Qt.DockWidgetArea.BottomDockWidgetArea)
        self.cost_table = CostTable()
        self.add_dock(self.cost_table, "Cost table", Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(self.docks["Log"], self.docks["Cost table"])
        self.docks["Log"].raise_()
        self.resizeDocks([self.docks["Palette"], self.docks["Inspector"]], [230, 280],
                         Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["Log"]], [120], Qt.Orientation.Vertical)

        self.cost = CostWorker(measure_latency=self.settings.measure_latency(), parent=self)
        self.cost.device = self.settings.device()
        self.cost.jobs_busy = self._jobs_busy
        self.cost.latency_ready.connect(self._on_latency)
        self.cost.latency_failed.connect(self._on_latency_failed)
        self.cost.latency_state.connect(self._on_latency_state)
        self.metrics.measure_requested.connect(self._measure_latency)
        self._create_actions()
        self._create_menus()
        self.statusBar().showMessage("Ready")
        self.setMinimumSize(720, 480)  # explicit: layout changes never resize the window
        self.resize(1400, 860)
        geometry, state = self.settings.window_geometry(), self.settings.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)
        self.fit_to_screen()
        self._update_actions()

    def fit_to_screen(self) -> None:
        """Never larger than the screen's free area (a 1280x800 laptop had the right
        column, the bottom tabs and the status bar off-screen), and on it."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        free = screen.availableGeometry()
        frame = self.frameGeometry().size() - self.geometry().size()   # title bar, borders
        w = min(self.width(), free.width() - frame.width())
        h = min(self.height(), free.height() - frame.height())
        if (w, h) != (self.width(), self.height()):
            self.resize(max(w, self.minimumWidth()), max(h, self.minimumHeight()))
        if not free.contains(self.frameGeometry().topLeft()):
            self.move(free.topLeft())

    def make_room(self, dock: QDockWidget, share: float = 0.45, useful: int = 300) -> None:
        """Give a plot or table dock room without squashing the canvas.

        The dock grows toward ``share`` of the window, but the canvas keeps
        ``CANVAS_MIN_H`` (at 1280x800 a 45% Pareto dock left the cell canvas as unlabeled
        grey boxes).  Where that leaves the dock under ``useful`` pixels it opens as its own
        window once (drag it back, or double-click its title, to dock it again).
        """
        if not dock.isVisible() or dock.isFloating():
            return
        central = self.centralWidget().height()
        grow = min(int(self.height() * share) - dock.height(), central - CANVAS_MIN_H)
        if grow > 0:
            self.resizeDocks([dock], [dock.height() + grow], Qt.Orientation.Vertical)
        if dock.height() + max(grow, 0) >= useful or dock.property("auto_floated"):
            return
        dock.setProperty("auto_floated", True)
        dock.setFloating(True)
        free = (self.screen() or QGuiApplication.primaryScreen()).availableGeometry()
        w, h = min(1000, int(free.width() * 0.8)), min(560, int(free.height() * 0.7))
        dock.resize(w, h)
        dock.move(free.left() + (free.width() - w) // 2, free.bottom() - h - 60)

    def showEvent(self, event) -> None:  # noqa: N802 - the frame is known once shown
        super().showEvent(event)
        if not getattr(self, "_fitted", False):
            self._fitted = True
            self.fit_to_screen()

    # -- public API -------------------------------------------------------------------
    def add_dock(self, widget: QWidget, title: str,
                 area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea) -> QDockWidget:
        """Add a dockable panel (remembered in the window state by its title)."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{title.lower().replace(' ', '-')}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[title] = dock
        if hasattr(self, "view_menu"):
            self._add_dock_toggle(dock)
        return dock

    def _add_dock_toggle(self, dock: QDockWidget) -> None:
        """The dock's show/hide action in the View menu, with a mnemonic of its own."""
        toggle = dock.toggleViewAction()
        used = {mnemonic(a.text()) for a in self.view_menu.actions()} - {""}
        toggle.setText(add_mnemonic(dock.windowTitle(), used))
        self.view_menu.addAction(toggle)

    def open_design(self, design: Design, read_only: bool = False,
                    path: str | None = None) -> DocumentController:
        """Open ``design`` in a new tab and return its document."""
        doc = DocumentController(design, path=path, read_only=read_only, parent=self)
        doc.cost = None  # type: ignore[attr-defined]
        # first in line: the metrics bar's figures are set before the canvas rebuilds
        doc.changed.connect(lambda _e, d=doc: self._on_doc_changed(d))
        editor: Editor = CellEditor(doc) if isinstance(design, CellDesign) else StackEditor(doc)
        editor.set_op_provider(self.palette.current_op)
        editor.selection_changed.connect(
            lambda which, keys, d=doc: self._on_selection(d, which, keys))
        doc.title_changed.connect(lambda _t, d=doc: self._retitle(d))
        doc.problems_changed.connect(lambda probs, d=doc: self._on_problems(d, probs))
        doc.edit_failed.connect(lambda msg: self.log.log(f"Edit refused: {msg}", "warning"))
        doc._logged = set()  # type: ignore[attr-defined]
        self.documents.append(doc)
        self.undo_group.addStack(doc.undo_stack)
        icon = style.icon("cell" if isinstance(design, CellDesign) else "stack")
        if not read_only and not self.settings.hint_done("canvas"):
            editor.set_hint(CELL_HINT if isinstance(design, CellDesign) else STACK_HINT)
        index = self.tabs.addTab(editor, icon, doc.title())
        self.tabs.setCurrentIndex(index)
        editor.fit()
        self._on_problems(doc, doc.problems)
        self.log.log(f"Opened {doc.title()}")
        return doc

    def current_editor(self) -> Editor | None:
        w = self.tabs.currentWidget()
        return w if isinstance(w, CellEditor | StackEditor) else None

    def current_doc(self) -> DocumentController | None:
        editor = self.current_editor()
        return editor.doc if editor is not None else None

    def tab_index(self, doc: DocumentController) -> int:
        """The tab showing ``doc`` (tabs can be reordered by the user)."""
        for i in range(self.tabs.count()):
            if getattr(self.tabs.widget(i), "doc", None) is doc:
                return i
        return -1

    def editor_for(self, doc: DocumentController) -> Editor:
        return self.tabs.widget(self.tab_index(doc))  # type: ignore[return-value]

    def apply_palette_op(self, op: str | None) -> bool:
        """The palette's "apply to selection" on the current canvas."""
        editor = self.current_editor()
        if editor is None or editor.doc.read_only:
            return False
        if editor.apply_op(op):
            return True
        self.statusBar().showMessage(
            "Select edges (cell) or stages (stack) on the canvas, then apply an op of that "
            "kind", 5000)
        return False

    def close_tab(self, index: int) -> bool:
        editor = self.tabs.widget(index)
        if not isinstance(editor, CellEditor | StackEditor):
            return False
        doc = editor.doc
        if doc.is_modified() and not doc.read_only:
            answer = self.ask_save_changes(doc)
            if answer == "cancel" or (answer == "save" and not self.save(doc)):
                return False
        self.undo_group.removeStack(doc.undo_stack)
        self.documents.remove(doc)
        self.tabs.removeTab(index)
        doc.close()
        editor.deleteLater()
        return True

    def preferences(self) -> None:
        s = self.settings
        dialog = PreferencesDialog(s.device(), s.theme(), s.measure_latency(), self)
        if dialog.exec():
            v = dialog.values()
            s.set_device(v["device"])
            s.set_theme(v["theme"])
            s.set_measure_latency(v["measure_latency"])
            self.cost.measure_latency = v["measure_latency"]
            self.cost.device = v["device"]
            style.set_theme(v["theme"])
            for act in self.findChildren(QAction):
                if act.property("icon_name"):
                    act.setIcon(style.icon(act.property("icon_name")))
            self.act_undo.setIcon(style.icon("undo"))
            self.act_redo.setIcon(style.icon("redo"))
            for widget in self.findChildren(QWidget):   # plots follow the theme
                if callable(getattr(widget, "apply_theme", None)):
                    widget.apply_theme()
            for editor in map(self.tabs.widget, range(self.tabs.count())):
                for view in editor.views():
                    view.viewport().update()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        for doc in list(self.documents):
            if doc.is_modified() and not doc.read_only:
                self.tabs.setCurrentIndex(self.tab_index(doc))
                answer = self.ask_save_changes(doc)
                if answer == "cancel" or (answer == "save" and not self.save(doc)):
                    event.ignore()
                    return
        self.settings.save_window(self.saveGeometry(), self.saveState())
        self.cost.shutdown()
        event.accept()

    # -- reactions ------------------------------------------------------------------------
    def _retitle(self, doc: DocumentController) -> None:
        if doc in self.documents:
            self.tabs.setTabText(self.tab_index(doc), doc.title())
        self._update_actions()

    def _window_title(self) -> None:
        doc = self.current_doc()
        self.setWindowTitle(f"{doc.title()} — NAS Studio" if doc else "NAS Studio")

    def _on_tab_changed(self, index: int) -> None:
        doc = self.current_doc()
        self.cost_table.set_design(doc.design if doc is not None else None)
        if doc is None:
            self.inspector.show_selection(None, "", [])
            self.issues.set_problems([])
            self.metrics.clear()
            self._update_actions()
            return
        self.undo_group.setActiveStack(doc.undo_stack)
        self.palette.set_kind("cell" if doc.is_cell() else "block")
        self.current_editor().views()[0].setFocus()   # keys go to the canvas first
        self.inspector.show_selection(doc, "normal" if doc.is_cell() else "stack", [])
        self.metrics.set_design_name(doc.design.name, doc.design.kind)
        self._show_problems(doc)
        if doc.cost is not None:  # type: ignore[attr-defined]
            self.metrics.set_summary(doc.cost)  # type: ignore[attr-defined]
        else:
            self.metrics.clear()
            self._request_cost(doc)
        self._update_actions()

    def _on_selection(self, doc: DocumentController, which: str, keys: list) -> None:
        if doc is self.current_doc():
            self.inspector.show_selection(doc, which, keys)

    def _on_doc_changed(self, doc: DocumentController) -> None:
        doc.cost = None  # type: ignore[attr-defined]
        if not self.settings.hint_done("canvas"):   # the first edit: the tip has done its job
            self.settings.set_hint_done("canvas")
            for i in range(self.tabs.count()):
                self.tabs.widget(i).set_hint("")
        self._retitle(doc)   # an edit may rename the design (scaling B0 to B3)
        if doc is self.current_doc():
            self.metrics.set_design_name(doc.design.name, doc.design.kind)
            self.cost_table.set_design(doc.design)
            self._request_cost(doc)

    def _request_cost(self, doc: DocumentController) -> None:
        """Params/MACs now (analytic, this frame); latency later, off the GUI thread."""
        if doc.errors():
            self.metrics.set_error("the design has errors; fix them to see its cost")
            return
        from engine.arch.validate import DesignError

        try:
            doc.cost = instant_cost(doc.design)  # type: ignore[attr-defined]
        except DesignError as exc:
            self.metrics.set_error(str(exc))
            return
        self.metrics.set_summary(doc.cost)  # type: ignore[attr-defined]
        self.cost.request(doc, doc.design)

    def _jobs_busy(self) -> bool:
        """A job queued or running (asked from the cost worker's thread: thread-safe)."""
        ui = getattr(self, "job_ui", None)
        return ui is not None and bool(ui.runner.active_jobs())

    def _measure_latency(self) -> None:
        doc = self.current_doc()
        if doc is not None and doc.cost is not None:  # type: ignore[attr-defined]
            self.cost.measure(doc, doc.design)

    def _on_latency(self, doc: DocumentController, result: dict) -> None:
        if doc.cost is not None:  # type: ignore[attr-defined]
            doc.cost["latency"] = result  # type: ignore[attr-defined]
        if doc is self.current_doc():
            self.metrics.set_latency(result)

    def _on_latency_state(self, doc: DocumentController, state: str) -> None:
        if doc is self.current_doc():
            self.metrics.set_latency_state(state)

    def _on_latency_failed(self, doc: DocumentController, message: str) -> None:
        if doc is self.current_doc():
            self.metrics.set_latency(None, "failed")
            self.log.log(f"Latency: {message}", "warning")

    def _on_problems(self, doc: DocumentController, problems: list) -> None:
        seen = {p.message for p in problems}
        logged: set = doc._logged  # type: ignore[attr-defined]
        for p in problems:
            if p.message not in logged:
                self.log.log(f"{doc.design.name}: {p.message}",
                             "error" if p.severity == "error" else "warning")
        if logged and not seen:
            self.log.log(f"{doc.design.name}: valid again")
        doc._logged = seen  # type: ignore[attr-defined]
        if doc is self.current_doc():
            self._show_problems(doc)

    def show_problem(self, problem) -> bool:
        """Select (and scroll to) what a validator problem is about in the current editor."""
        editor = self.current_editor()
        if editor is None:
            return False
        done = editor.show_problem(problem)
        editor.views()[0].setFocus()
        return done

    def _show_problems(self, doc: DocumentController) -> None:
        self.issues.set_problems(doc.problems)
        errors = doc.errors()
        warnings = [p for p in doc.problems if p.severity != "error"]
        first = (errors or warnings)[0].message if (errors or warnings) else ""
        self.metrics.set_problems(len(errors), len(warnings), first)

    def _update_actions(self) -> None:
        self._window_title()
        doc = self.current_doc()
        has = doc is not None
        for a in (self.act_save, self.act_save_as, self.act_export, self.act_zoom_in,
                  self.act_zoom_out, self.act_fit, self.act_delete, self.act_copy,
                  self.act_paste, self.act_select_all, self.act_close):
            a.setEnabled(has)
        for a in (self.act_choose_op, self.act_apply_op):
            a.setEnabled(has and not doc.read_only)
        self.act_layout.setEnabled(has and doc.is_cell() and not doc.read_only)

    # -- actions and menus ----------------------------------------------------------------
    def _action(self, name: str, slot) -> QAction:
        return make_action(self, name, slot)

    def _editor_call(self, name: str):
        def call():
            editor = self.current_editor()
            if editor is not None:
                return getattr(editor, name)()
        return call

    def _create_actions(self) -> None:
        """The window's actions, all from the one table in app.actions."""
        a, call = self._action, self._editor_call
        self.act_new = a("new", lambda: self.new_design("cell"))
        self.act_new_stack = a("new_stack", lambda: self.new_design("stack"))
        self.act_open = a("open", self.open_dialog)
        self.act_save = a("save", self.save)
        self.act_save_as = a("save_as", self.save_as)
        self.act_import = a("import", self.import_dialog)
        self.act_export = a("export_design", self.export_design)
        self.act_close = a("close", lambda: self.close_tab(self.tabs.currentIndex()))
        self.act_quit = a("quit", self.close)
        self.act_undo = decorate(self.undo_group.createUndoAction(self, ACTIONS["undo"].text),
                                 "undo")
        self.act_undo.setIcon(style.icon("undo"))
        self.act_redo = decorate(self.undo_group.createRedoAction(self, ACTIONS["redo"].text),
                                 "redo")
        self.act_redo.setIcon(style.icon("redo"))
        self.act_delete = a("delete", call("delete_selection"))
        self.act_copy = a("copy", call("copy"))
        self.act_paste = a("paste", call("paste"))
        self.act_select_all = a("select_all", call("select_all"))
        self.act_choose_op = a("choose_op", call("choose_op"))
        self.act_apply_op = a("apply_op", lambda: self.apply_palette_op(self.palette.current_op()))
        self.act_prefs = a("prefs", self.preferences)
        self.act_zoom_in = a("zoom_in", call("zoom_in"))
        self.act_zoom_out = a("zoom_out", call("zoom_out"))
        self.act_fit = a("fit", call("fit"))
        self.act_layout = a("layout", call("auto_layout"))

    def _create_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        new_menu = file_menu.addMenu(style.icon("new"), "&New")
        new_menu.addAction(self.act_new)
        new_menu.addAction(self.act_new_stack)
        presets = new_menu.addMenu("From &preset")
        groups_used: set[str] = set()
        for group, names in preset_groups().items():
            sub = presets.addMenu(add_mnemonic(group, groups_used))
            used: set[str] = set()
            for name in names:
                sub.addAction(add_mnemonic(name, used), lambda n=name: self.open_preset(n))
        file_menu.addAction(self.act_open)
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        file_menu.addSeparator()
        for a in (self.act_save, self.act_save_as, self.act_import, self.act_export,
                  self.act_close):
            file_menu.addAction(a)
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)
        edit = bar.addMenu("&Edit")
        for a in (self.act_undo, self.act_redo, None, self.act_copy, self.act_paste,
                  self.act_delete, self.act_select_all, None, self.act_choose_op,
                  self.act_apply_op, None, self.act_prefs):
            edit.addSeparator() if a is None else edit.addAction(a)
        self.view_menu = bar.addMenu("&View")
        for a in (self.act_zoom_in, self.act_zoom_out, self.act_fit, self.act_layout):
            self.view_menu.addAction(a)
        self.view_menu.addSeparator()
        for dock in self.docks.values():
            self._add_dock_toggle(dock)
        tools = QToolBar("Main toolbar", self)
        tools.setObjectName("toolbar-main")
        tools.setIconSize(QSize(20, 20))
        tools.setMovable(False)
        for a in (self.act_new, self.act_open, self.act_save, None, self.act_undo,
                  self.act_redo, None, self.act_import, self.act_export, None,
                  self.act_zoom_in, self.act_zoom_out, self.act_fit, self.act_layout, None,
                  self.act_delete):
            tools.addSeparator() if a is None else tools.addAction(a)
        self.addToolBar(tools)
        self.tools = tools

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        files = self.settings.recent_files()
        for i, path in enumerate(files):
            prefix = f"&{i + 1} " if i < 9 else ""
            self.recent_menu.addAction(prefix + Path(path).name.replace("&", "&&"),
                                       lambda p=path: self.open_file(p))
        if not files:
            self.recent_menu.addAction("(none)").setEnabled(False)
