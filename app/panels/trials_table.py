"""A search experiment's trials as a sortable table, rejected and failed ones counted.

Columns: trial, status, the experiment's objectives, params, MACs, the trained run and
the reason a trial was rejected (which constraint) or failed.  Numbers sort as numbers.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.panels.metrics import human

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ORDER = ("finished", "rejected", "failed", "cancelled", "running")


def count_text(records: list[Any]) -> str:
    """``"12 trials: 8 finished, 3 rejected (broke a constraint), 1 failed"``."""
    counts: dict[str, int] = {}
    for t in records:
        counts[t.status] = counts.get(t.status, 0) + 1
    parts = []
    for status in sorted(counts, key=lambda s: (ORDER.index(s) if s in ORDER else 99, s)):
        note = " (broke a constraint)" if status == "rejected" else ""
        parts.append(f"{counts[status]:,} {status}{note}")
    n = len(records)
    return f"{n:,} trial{'s' * (n != 1)}" + (": " + ", ".join(parts) if parts else "")


def number(v: Any) -> float | None:
    """A finite float, or None (missing, text, NaN)."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


class TrialsTable(QWidget):
    """The trials of one experiment (``show_trials(records, objectives)``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.counts = QLabel("Select a search to see its trials.")
        self.counts.setWordWrap(True)
        self.model = QStandardItemModel(0, 0)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().setVisible(False)
        self.view.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.view.horizontalHeader().setStretchLastSection(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.counts)
        lay.addWidget(self.view, 1)

    def show_trials(self, records: list[Any], objectives: list[str] | tuple[str, ...]) -> None:
        cost_cols = [c for c in ("params", "macs") if c not in objectives]
        headers = ["trial", "status", *objectives, *cost_cols, "run", "reason"]
        self.model.clear()
        self.model.setHorizontalHeaderLabels(headers)
        for t in records:
            values: list[Any] = [t.trial, t.status]
            values += [t.objectives.get(o, t.metrics.get(o)) for o in objectives]
            values += [t.metrics.get(c) for c in cost_cols]
            values += [t.run_id, t.error or ""]
            row = []
            for header, v in zip(headers, values, strict=True):
                n = number(v) if header not in ("status", "reason") else None
                if n is None:
                    text = "" if v is None else str(v)
                elif header in ("trial", "run"):
                    text = str(int(n))
                elif header in ("params", "macs") or abs(n) >= 1000:
                    text = human(n)
                else:
                    text = f"{n:.4f}"
                item = QStandardItem(text)
                # numbers sort as numbers; an empty cell sorts below every value
                item.setData(n if n is not None else (str(v or "") if header in
                             ("status", "reason") else -math.inf), SORT_ROLE)
                if header == "reason" and text:
                    item.setToolTip(text)
                row.append(item)
            self.model.appendRow(row)
        self.counts.setText(count_text(records))
        self.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)

    def column(self, name: str) -> list[str]:
        """The shown texts of a column, in the current sort order (for tests)."""
        c = next(i for i in range(self.model.columnCount())
                 if self.model.horizontalHeaderItem(i).text() == name)
        return [self.proxy.index(r, c).data() for r in range(self.proxy.rowCount())]

    def clear(self, text: str = "Select a search to see its trials.") -> None:
        self.model.clear()
        self.counts.setText(text)
