"""Per-stage / per-cell cost of the open design: output shape, parameters, MACs.

The rows are ``engine.cost.summarize(design)["table"]``, the same table as the CLI's
``nas-studio inspect``; analytic, so it follows every edit at once.  Computed only while
the panel is shown.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.panels.metrics import human

HEADERS = ("Part", "Output", "Parameters", "MACs", "% params")


class CostTable(QWidget):
    """One row per stem / cell / stage / head of the current design, and the total."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.design: Any = None
        self._stale = False
        self.note = QLabel("Open a design to see its cost per stage or cell.")
        self.note.setWordWrap(True)
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.note)
        lay.addWidget(self.table, 1)

    def set_design(self, design: Any) -> None:
        """Follow ``design`` (None: no design); recomputed now if shown, else when shown."""
        self.design = design
        self._stale = True
        if self.isVisible():
            self.refresh()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def refresh(self) -> None:
        self._stale = False
        if self.design is None:
            self._rows([], "Open a design to see its cost per stage or cell.")
            return
        from engine.arch.validate import DesignError, validate
        from engine.cost import summarize

        errors = [p for p in validate(self.design) if p.severity == "error"]
        if errors:
            self._rows([], f"The design has errors ({errors[0]}); fix them to see its table.")
            return
        try:
            summary = summarize(self.design, table=True)
        except (DesignError, ValueError) as exc:
            self._rows([], f"No table: {exc}")
            return
        rows = list(summary.get("table") or [])
        shape = "×".join(map(str, summary.get("input") or []))
        self._rows(rows, f"{self.design.name}: input {shape}, {summary.get('classes')} "
                   f"classes; MACs {summary.get('macs_convention', '')}.",
                   total=(int(summary["params"]), int(summary["macs"])))

    def _rows(self, rows: list[dict], note: str, total: tuple[int, int] | None = None) -> None:
        self.note.setText(note)
        self.table.setRowCount(0)
        all_rows = [*rows, {"name": "total", "params": total[0], "macs": total[1],
                            "output": None}] if total else rows
        params_total = total[0] if total else 0
        for r, row in enumerate(all_rows):
            self.table.insertRow(r)
            params, macs = int(row.get("params") or 0), int(row.get("macs") or 0)
            share = f"{100 * params / params_total:.1f}" if params_total else ""
            output = row.get("output")
            cells = (str(row.get("name", "")), "×".join(map(str, output)) if output else "",
                     human(params), human(macs), share)
            tips = ("", "", f"{params:,} parameters", f"{macs:,} MACs", "")
            for c, (text, tip) in enumerate(zip(cells, tips, strict=True)):
                item = QTableWidgetItem(text)
                if c >= 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                if tip:
                    item.setToolTip(tip)
                if row.get("name") == "total":
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(r, c, item)

    def column(self, c: int) -> list[str]:
        """The texts of one column (for tests)."""
        return [self.table.item(r, c).text() for r in range(self.table.rowCount())]
