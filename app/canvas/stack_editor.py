"""StackEditor: the block stack canvas with the compound-scaling control beside it."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from app.canvas.hint import HintRow
from app.canvas.op_menu import MenuRunner, choose, run_menu
from app.canvas.stack_scene import StackScene
from app.canvas.view import CanvasView
from app.document.controller import DocumentController
from app.panels.scaling import ScalingControl
from engine.ops import registry


class StackEditor(QWidget):
    """Editor of a BlockStack document."""

    selection_changed = Signal(str, object)

    def __init__(self, doc: DocumentController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.scene = StackScene(doc)
        self.view = CanvasView(self.scene, self)
        self.view.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.scaling = ScalingControl(doc, self)
        self.scaling.setMinimumWidth(240)
        title = QLabel("Block stack — drag blocks from the palette, drag cards to reorder")
        title.setObjectName("paneTitle")
        left = QWidget(self)
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.setSpacing(0)
        ll.addWidget(title)
        self.hint = HintRow(left)
        ll.addWidget(self.hint)
        ll.addWidget(self.view, 1)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(left)
        split.addWidget(self.scaling)
        split.setStretchFactor(0, 1)
        split.setSizes([900, 260])
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(split)
        self.scene.selection_keys_changed.connect(
            lambda keys: self.selection_changed.emit("stack", keys))
        self.scene.item_activated.connect(lambda key: self.choose_op("stack", key))
        self.scene.rebuilt.connect(self.view.content_changed)
        self.menu_runner: MenuRunner = run_menu

    def choose_op(self, which: str = "stack", key: tuple[str, int] | None = None) -> bool:
        """The block chooser for the selected stage."""
        keys = [key] if key is not None else self.scene.selected_keys()
        if not keys or not 0 <= keys[0][1] < len(self.scene.cards):
            return False
        index = keys[0][1]
        stage = self.doc.design.stages[index]
        block = choose(self.menu_runner, "block", f"Block of stage {index + 1}", stage.block,
                       self.view, self.scene.cards[index])
        return block is not None and self.doc.set_stage(index, block=block)

    def show_problem(self, problem) -> bool:
        """Select the stage a validator problem names."""
        if problem.stage is None or not 0 <= problem.stage < len(self.scene.cards):
            return False
        self.scene.select_item(self.scene.cards[problem.stage])
        return True

    def apply_op(self, op: str | None) -> bool:
        """The palette's "apply to selection": the selected stages take block ``op``."""
        if not op or not registry.exists(op) or registry.get(op).kind != "block":
            return False
        return self.doc.set_stages([i for _k, i in self.scene.selected_keys()], block=op)

    def set_hint(self, text: str) -> None:
        self.hint.set_hint(text)

    def set_op_provider(self, provider) -> None:  # blocks are dropped, never connected
        pass

    def views(self) -> list[CanvasView]:
        return [self.view]

    def zoom_in(self) -> None:
        self.view.zoom_in()

    def zoom_out(self) -> None:
        self.view.zoom_out()

    def fit(self) -> None:
        self.view.fit()

    def auto_layout(self) -> bool:
        self.fit()
        return False

    def select_all(self) -> None:
        for card in self.scene.cards:
            card.setSelected(True)

    def delete_selection(self) -> bool:
        return self.scene.delete_selection()

    def copy(self) -> bool:
        return False

    def paste(self) -> list[int]:
        return []
