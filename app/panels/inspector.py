"""The inspector: fields of the selected node / edge / stage, or of the whole design."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app import style
from app.document.controller import DocumentController
from engine.arch.model import BlockStack, CellDesign
from engine.ops import registry


class Inspector(QScrollArea):
    """Rebuilt for each selection; every edit goes through the document's commands."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setObjectName("inspector")
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.doc: DocumentController | None = None
        self.which = "normal"
        self.keys: list[tuple[str, int]] = []
        self.fields: dict[str, QWidget] = {}
        self._timer = QTimer(self, singleShot=True, interval=0)
        self._timer.timeout.connect(self._refresh)
        self._show_empty()

    # -- public -------------------------------------------------------------------
    def show_selection(self, doc: DocumentController | None, which: str,
                       keys: list[tuple[str, int]]) -> None:
        if doc is not self.doc:
            if self.doc is not None:
                self.doc.changed.disconnect(self._schedule)
            self.doc = doc
            if doc is not None:
                doc.changed.connect(self._schedule)
        self.which, self.keys = which, list(keys)
        self._refresh()

    def _schedule(self, *_args: Any) -> None:
        self._timer.start()

    def _refresh(self, *_args: Any) -> None:
        doc = self.doc
        if doc is None:
            self._show_empty()
            return
        if len(self.keys) == 1:
            kind, ident = self.keys[0]
            try:
                if kind == "node":
                    return self._show_node(ident)
                if kind == "edge":
                    return self._show_edge(ident)
                if kind == "stage":
                    return self._show_stage(ident)
            except (IndexError, KeyError, ValueError):
                pass  # the item went away with the last edit
        if len(self.keys) > 1:
            return self._page(f"{len(self.keys)} items selected",
                              "Delete removes them in one step; drag moves them together.")
        self._show_design()

    # -- pages ----------------------------------------------------------------------
    def _page(self, title: str, subtitle: str = "") -> QFormLayout:
        page = QWidget()
        page.setObjectName("inspectorPage")
        outer = QVBoxLayout(page)
        outer.setContentsMargins(12, 10, 12, 10)
        head = QLabel(title)
        head.setObjectName("inspectorTitle")
        outer.addWidget(head)
        if subtitle:
            sub = QLabel(subtitle)
            sub.setObjectName("inspectorSubtitle")
            sub.setWordWrap(True)
            outer.addWidget(sub)
        form = QFormLayout()
        form.setContentsMargins(0, 8, 0, 0)
        form.setVerticalSpacing(8)
        outer.addLayout(form)
        self._problems_label = QLabel()
        self._problems_label.setObjectName("inspectorProblems")
        self._problems_label.setWordWrap(True)
        outer.addWidget(self._problems_label)
        outer.addStretch(1)
        self.fields = {}
        old = self.takeWidget()
        if old is not None:
            old.deleteLater()
        self.setWidget(page)
        return form

    def _show_empty(self) -> None:
        self._page("No design", "Open or create a design to inspect it.")

    def _problems(self, match: Callable[[Any], bool]) -> None:
        if self.doc is None:
            return
        msgs = [p.message for p in self.doc.problems if match(p)]
        self._problems_label.setText("\n".join(f"⚠ {m}" for m in msgs))

    def _spin(self, form: QFormLayout, label: str, name: str, value: int, lo: int, hi: int,
              apply: Callable[[int], Any], step: int = 1) -> QSpinBox:
        w = QSpinBox(minimum=lo, maximum=hi, singleStep=step)
        w.setValue(int(value))
        w.setKeyboardTracking(False)
        w.valueChanged.connect(lambda v: apply(int(v)))
        form.addRow(label, w)
        self.fields[name] = w
        return w

    def _dspin(self, form: QFormLayout, label: str, name: str, value: float, lo: float,
               hi: float, step: float, apply: Callable[[float], Any]) -> QDoubleSpinBox:
        w = QDoubleSpinBox(minimum=lo, maximum=hi, singleStep=step, decimals=2)
        w.setValue(float(value))
        w.setKeyboardTracking(False)
        w.valueChanged.connect(lambda v: apply(round(float(v), 4)))
        form.addRow(label, w)
        self.fields[name] = w
        return w

    def _combo(self, form: QFormLayout, label: str, name: str, items: list[tuple[str, Any]],
               value: Any, apply: Callable[[Any], Any]) -> QComboBox:
        w = QComboBox()
        w.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        w.setMinimumContentsLength(8)
        for text, data in items:
            w.addItem(text, data)
        idx = w.findData(value)
        w.setCurrentIndex(idx if idx >= 0 else 0)
        w.activated.connect(lambda i: apply(w.itemData(i)))
        form.addRow(label, w)
        self.fields[name] = w
        return w

    def _show_design(self) -> None:
        doc = self.doc
        assert doc is not None
        d = doc.design
        if isinstance(d, CellDesign):
            form = self._page(d.name, f"Cell network · {d.macro.style} skeleton")
            m = d.macro
            self._spin(form, "Channels (C)", "channels", m.channels, 4, 1024,
                       lambda v: doc.set_macro(channels=v))
            self._spin(form, "Layers", "layers", m.layers, 1, 100,
                       lambda v: doc.set_macro(layers=v))
            self._spin(form, "Classes", "classes", m.classes, 1, 100000,
                       lambda v: doc.set_macro(classes=v))
            self._dspin(form, "Drop path", "drop_path", m.drop_path, 0.0, 0.9, 0.05,
                        lambda v: doc.set_macro(drop_path=v))
            aux = QCheckBox("auxiliary head")
            aux.setChecked(m.auxiliary)
            aux.toggled.connect(lambda on: doc.set_macro(auxiliary=bool(on)))
            form.addRow("", aux)
            self.fields["auxiliary"] = aux
            form.addRow("Input", QLabel("×".join(map(str, m.input_shape))))
            self._problems(lambda p: not p.nodes and p.edge is None)
        elif isinstance(d, BlockStack):
            form = self._page(d.name, f"Block stack · {len(d.stages)} stages")
            self._spin(form, "Stem channels", "stem_channels", d.stem_channels, 8, 512,
                       lambda v: doc.set_fields(stem_channels=v), 8)
            self._spin(form, "Head channels", "head_channels", d.head_channels, 8, 8192,
                       lambda v: doc.set_fields(head_channels=v), 8)
            self._dspin(form, "Dropout", "dropout", d.dropout, 0.0, 0.9, 0.05,
                        lambda v: doc.set_fields(dropout=v))
            self._spin(form, "Classes", "classes", d.classes, 1, 100000,
                       lambda v: doc.set_fields(classes=v))
            self._combo(form, "Activation", "act", [(a, a) for a in registry.ACTIVATIONS],
                        d.act, lambda v: doc.set_fields(act=v))
            self._problems(lambda p: p.stage is None)

    def _show_node(self, node: int) -> None:
        doc = self.doc
        assert doc is not None and isinstance(doc.design, CellDesign)
        cell = doc.design.cell(self.which)
        if node not in cell.all_ids():
            raise KeyError(node)
        is_input = node < cell.n_inputs
        form = self._page(f"{'Input' if is_input else 'Node'} {node}",
                          f"{'Reduction' if self.which == 'reduce' else 'Normal'} cell")
        ins = [f"{e.source} ({e.op})" for e in cell.inputs_of(node)]
        form.addRow("Inputs", QLabel(", ".join(ins) or "—"))
        users = [str(e.target) for e in cell.edges if e.source == node]
        form.addRow("Feeds", QLabel(", ".join(users) or "—"))
        if not is_input:
            out = QCheckBox("part of the cell output")
            out.setChecked(node in cell.concat)
            out.toggled.connect(lambda on: doc.set_in_output(self.which, node, bool(on)))
            form.addRow("Output", out)
            self.fields["in_output"] = out
        self._problems(lambda p: p.cell == self.which and node in p.nodes
                       and p.edge is None)

    def _show_edge(self, index: int) -> None:
        doc = self.doc
        assert doc is not None and isinstance(doc.design, CellDesign)
        e = doc.design.cell(self.which).edges[index]
        form = self._page(f"Edge {e.source} → {e.target}",
                          f"{'Reduction' if self.which == 'reduce' else 'Normal'} cell · "
                          f"edge #{index}")
        ops = [(s.display, s.name) for s in registry.all_ops("cell")]
        combo = self._combo(form, "Operation", "op", ops, e.op,
                            lambda v: doc.set_edge_op(self.which, index, v))
        for i in range(combo.count()):
            combo.setItemIcon(i, style.op_icon(combo.itemData(i)))
        spec = registry.get(e.op) if registry.exists(e.op) else None
        if spec is not None:
            desc = QLabel(spec.description or spec.display)
            desc.setWordWrap(True)
            form.addRow("", desc)
        self._problems(lambda p: p.cell in (None, self.which) and p.edge == index)

    def _show_stage(self, index: int) -> None:
        doc = self.doc
        assert doc is not None and isinstance(doc.design, BlockStack)
        s = doc.design.stages[index]
        form = self._page(f"Stage {index + 1}", registry.get(s.block).display
                          if registry.exists(s.block) else s.block)
        blocks = [(spec.display, spec.name) for spec in registry.all_ops("block")]

        def setter(name: str) -> Callable[[Any], Any]:
            return lambda v: doc.set_stage(index, **{name: v})

        self._combo(form, "Block", "block", blocks, s.block, setter("block"))
        self._combo(form, "Kernel", "kernel", [("3×3", 3), ("5×5", 5), ("7×7", 7)], s.kernel,
                    setter("kernel"))
        self._combo(form, "Stride", "stride", [("1", 1), ("2", 2)], s.stride, setter("stride"))
        self._spin(form, "Repeats", "repeats", s.repeats, 1, 32, setter("repeats"))
        self._dspin(form, "Expansion", "expansion", s.expansion, 1.0, 12.0, 1.0,
                    setter("expansion"))
        self._spin(form, "Channels", "channels", s.channels, 8, 4096, setter("channels"), 8)
        self._dspin(form, "Squeeze-excite", "se", s.se, 0.0, 1.0, 0.05, setter("se"))
        self._combo(form, "Activation", "act", [(a, a) for a in registry.ACTIVATIONS], s.act,
                    setter("act"))
        self._problems(lambda p: p.stage == index)
