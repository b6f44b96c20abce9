"""CellEditor: normal and reduction cells side by side, with an op-family legend."""

from __future__ import annotations

import json

from PySide6.QtCore import QEvent, QMimeData, QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from app.canvas.cell_scene import CellScene
from app.canvas.hint import HintRow
from app.canvas.interactions import FRAGMENT_MIME
from app.canvas.op_menu import MenuRunner, choose, run_menu
from app.canvas.view import CanvasView
from app.document.controller import DocumentController
from engine.ops import registry


class Legend(QWidget):
    """Color chips of the cell op families (registry colors)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("legend")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 4, 10, 4)
        lay.setSpacing(14)
        for fam in registry.families("cell"):
            chip = QLabel()
            chip.setFixedSize(22, 6)
            chip.setStyleSheet(f"background:{fam.color}; border-radius:3px;")
            text = QLabel(fam.legend)
            text.setObjectName("legendText")
            box = QHBoxLayout()
            box.setSpacing(5)
            box.addWidget(chip)
            box.addWidget(text)
            lay.addLayout(box)
        out = QLabel("● in output (concat)")
        out.setObjectName("legendText")
        out.setStyleSheet("color:#d97706;")
        lay.addWidget(out)
        lay.addStretch(1)


class CellPane(QFrame):
    """A titled view of one cell."""

    def __init__(self, scene: CellScene, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cellPane")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        self.title = QLabel(title)
        self.title.setObjectName("paneTitle")
        self.view = CanvasView(scene, self)
        lay.addWidget(self.title)
        lay.addWidget(self.view, 1)


class CellEditor(QWidget):
    """Editor of a CellDesign document (one scene per cell)."""

    selection_changed = Signal(str, object)  # which cell, list of keys

    def __init__(self, doc: DocumentController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.scenes: dict[str, CellScene] = {}
        self.panes: dict[str, CellPane] = {}
        self._active = "normal"
        self.menu_runner: MenuRunner = run_menu
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(Legend(self))
        self.hint = HintRow(self)
        lay.addWidget(self.hint)
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        titles = {"normal": "Normal cell", "reduce": "Reduction cell"}
        for which in doc.design.cells():
            scene = CellScene(doc, which)
            pane = CellPane(scene, titles[which], self)
            self.scenes[which], self.panes[which] = scene, pane
            scene.selection_keys_changed.connect(
                lambda keys, w=which: self._on_selection(w, keys))
            pane.view.viewport().installEventFilter(self)
            scene.rebuilt.connect(pane.view.content_changed)
            scene.item_activated.connect(lambda key, w=which: self.choose_op(w, key))
            self.splitter.addWidget(pane)
        lay.addWidget(self.splitter, 1)

    def choose_op(self, which: str | None = None, key: tuple[str, int] | None = None) -> bool:
        """The op chooser for an edge (its op) or a node (a new input through the op)."""
        which = which or self._active
        scene = self.scenes[which]
        if key is None:
            keys = scene.selected_keys()
            if not keys:
                return False
            key = keys[0]
        kind, ident = key
        cell = scene.cell
        if kind == "edge" and 0 <= ident < len(cell.edges):
            item = next(e for e in scene.edge_items if e.index == ident)
            e = cell.edges[ident]
            op = choose(self.menu_runner, "cell", f"Op of edge {e.source} → {e.target}", e.op,
                        self.panes[which].view, item)
            return op is not None and self.doc.set_edge_op(which, ident, op)
        if kind == "node" and ident in scene.node_items:
            op = choose(self.menu_runner, "cell", f"New input of node {ident} through…", None,
                        self.panes[which].view, scene.node_items[ident])
            return op is not None and self.doc.add_input_edge(which, ident, op)
        return False

    def show_problem(self, problem) -> bool:
        """Select the nodes / edge a validator problem names and bring them into view."""
        which = problem.cell if problem.cell in self.scenes else self._active
        scene = self.scenes[which]
        keys = [("node", n) for n in problem.nodes if n in scene.node_items]
        if problem.edge is not None:
            keys.append(("edge", problem.edge))
        scene.select_keys(keys)
        self._active = which
        items = [*scene.selectedItems()] or ([scene.output_item] if problem.output else [])
        view = self.panes[which].view
        for item in items[:1]:
            view.ensureVisible(item, 60, 60)
        view.setFocus()
        return bool(items)

    def apply_op(self, op: str | None) -> bool:
        """The palette's "apply to selection": selected edges take ``op`` (one step)."""
        if not op or not registry.exists(op) or registry.get(op).kind != "cell":
            return False
        done = False
        for which, scene in self.scenes.items():
            edges = [i for kind, i in scene.selected_keys() if kind == "edge"]
            done = bool(edges) and self.doc.set_edges_op(which, edges, op) or done
        return done

    def set_hint(self, text: str) -> None:
        self.hint.set_hint(text)

    def set_op_provider(self, provider) -> None:
        for scene in self.scenes.values():
            scene.op_provider = provider

    def _on_selection(self, which: str, keys: list) -> None:
        if keys:
            self._active = which
        self.selection_changed.emit(which, keys)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.MouseButtonPress:
            for which, pane in self.panes.items():
                if pane.view.viewport() is obj:
                    self._active = which
        return False

    def active_scene(self) -> CellScene:
        return self.scenes.get(self._active) or self.scenes["normal"]

    def views(self) -> list[CanvasView]:
        return [p.view for p in self.panes.values()]

    # -- actions ---------------------------------------------------------------
    def zoom_in(self) -> None:
        for v in self.views():
            v.zoom_in()

    def zoom_out(self) -> None:
        for v in self.views():
            v.zoom_out()

    def fit(self) -> None:
        for v in self.views():
            v.fit()

    def auto_layout(self) -> bool:
        done = self.doc.auto_layout()
        self.fit()
        return done

    def select_all(self) -> None:
        scene = self.active_scene()
        for item in [*scene.node_items.values(), *scene.edge_items]:
            item.setSelected(True)

    def delete_selection(self) -> bool:
        done = False
        for scene in self.scenes.values():
            done = scene.delete_selection() or done
        return done

    def copy(self) -> bool:
        fragment = self.active_scene().copy_selection()
        if not fragment["nodes"]:
            return False
        mime = QMimeData()
        mime.setData(FRAGMENT_MIME, json.dumps(fragment).encode("utf-8"))
        QGuiApplication.clipboard().setMimeData(mime)
        return True

    def paste(self) -> list[int]:
        mime = QGuiApplication.clipboard().mimeData()
        if mime is None or not mime.hasFormat(FRAGMENT_MIME):
            return []
        try:
            fragment = json.loads(bytes(mime.data(FRAGMENT_MIME).data()).decode("utf-8"))
        except ValueError:
            return []
        return self.active_scene().paste(fragment)
