"""Export a trained run: ONNX / TorchScript / bundle, destination, verification shown.

The export runs as a job on the background runner; the dialog stays open and shows
the outcome: for ONNX, whether onnxruntime's output matched PyTorch's (and by how
much), or the error with its details.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.workers import JobRunner
from engine.events import JobCancelled, JobFailed, JobFinished
from engine.export.formats import all_formats, can_export, default_export_path, get_format
from engine.export.job import ExportJob


def verification_text(result: dict[str, Any]) -> tuple[str, bool]:
    """A sentence for the user about an export result, and whether it is good news."""
    path = result.get("path", "")
    size = result.get("bytes") or result.get("size_bytes")
    where = f"Saved {path}" + (f" ({size:,} bytes)." if isinstance(size, int) else ".")
    verified = result.get("verified")
    diff = result.get("max_abs_diff")
    diff_text = f" (max abs difference {diff:.2e})" if isinstance(diff, float) else ""
    if verified is True:
        return f"{where}\nVerified: the exported model's output matches PyTorch{diff_text}.", True
    if verified is False:
        return (f"{where}\nNOT verified: the exported model's output differs from PyTorch"
                f"{diff_text}. Do not ship it without checking.", False)
    return f"{where}\nNo verification was run for this format.", True


class ExportDialog(QDialog):
    """Pick a run, a format and a destination; export in the background; show the check."""

    export_finished = Signal(object)   # the final job event (JobFinished/Failed/Cancelled)

    def __init__(self, store: Any, runner: JobRunner, run_id: int | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export trained model")
        self.store, self.runner = store, runner
        self.job_id: str | None = None
        self.result: dict[str, Any] | None = None
        self.run = QComboBox()
        for run in reversed(store.runs()):   # what the engine can export (not int8 ONNX)
            if run.status == "finished" and any(can_export(run, f.name) for f in all_formats()):
                acc = run.test_accuracy
                acc_text = f", test acc {acc:.3f}" if isinstance(acc, float) else ""
                self.run.addItem(f"run {run.id} ({run.kind}{acc_text})", run.id)
        if run_id is not None and self.run.findData(run_id) >= 0:
            self.run.setCurrentIndex(self.run.findData(run_id))
        self.formats = QButtonGroup(self)
        fmt_box = QVBoxLayout()
        for i, fmt in enumerate(all_formats()):
            button = QRadioButton(fmt.title)
            button.setProperty("format", fmt.name)
            button.setChecked(i == 0)
            self.formats.addButton(button, i)
            fmt_box.addWidget(button)
        self.path = QLineEdit()
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Run:", self.run)
        form.addRow("Format:", fmt_box)
        form.addRow("Destination:", path_row)
        self.status = QLabel("Choose a run, a format and where to save it.")
        self.status.setWordWrap(True)
        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start_export)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(close)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.status)
        lay.addLayout(buttons)
        self.formats.idToggled.connect(lambda _i, on: on and self._default_path())
        self.run.currentIndexChanged.connect(lambda _i: self._default_path())
        self._default_path()
        runner.job_ended.connect(self._on_job_ended)
        if self.run.count() == 0:
            self.status.setText("No finished run with saved weights yet: train a design first.")
            self.export_button.setEnabled(False)

    def fmt(self) -> str:
        return str(self.formats.checkedButton().property("format"))

    def set_format(self, fmt: str) -> None:
        for b in self.formats.buttons():
            if b.property("format") == fmt:
                b.setChecked(True)
                return
        raise ValueError(f"unknown export format {fmt!r}")

    def _default_path(self) -> None:
        run_id = self.run.currentData()
        if run_id is not None:
            self.path.setText(str(default_export_path(int(run_id), self.fmt())))

    def _browse(self) -> None:
        suffix = get_format(self.fmt()).suffix
        path, _ = QFileDialog.getSaveFileName(self, "Export to", self.path.text(),
                                              f"{self.fmt()} (*{suffix})")
        if path:
            self.path.setText(path)

    def start_export(self) -> str | None:
        """Queue the export job; returns its id (None when a setting is wrong)."""
        run_id = self.run.currentData()
        text = self.path.text().strip()
        if run_id is None or not text:
            self.status.setText("Choose a run and a destination file.")
            return None
        from engine.export.common import ExportError
        from engine.export.destination import DestinationExists, check_output

        path = Path(text).expanduser()
        force = False
        try:
            try:
                check_output(path, self.fmt(), store=self.store)
            except DestinationExists:
                if not self.confirm_replace(path):
                    self.status.setText(f"Not exported: {path} already exists.")
                    return None
                force = True
                check_output(path, self.fmt(), store=self.store, force=True)
            job = ExportJob(self.store, int(run_id), self.fmt(), path, force=force)
        except (ExportError, OSError, ValueError) as exc:
            self.status.setText(f"<span style='color:#b00020'>{exc}</span>")
            return None
        self.result = None
        self.export_button.setEnabled(False)
        self.status.setText(f"Exporting run {run_id} as {self.fmt()}…")
        self.job_id = self.runner.submit(job)
        return self.job_id

    def confirm_replace(self, path: Path) -> bool:
        """Ask before an export replaces an existing file or bundle folder."""
        what = "bundle folder" if path.is_dir() else "file"
        answer = QMessageBox.question(
            self, "Replace existing export?",
            f"The {what} {path} already exists.\nReplace it with this export?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def _on_job_ended(self, event: object) -> None:
        if getattr(event, "job_id", None) != self.job_id:
            return
        self.export_button.setEnabled(True)
        if isinstance(event, JobFinished):
            self.result = dict(event.result)
            text, good = verification_text(self.result)
            color = "#1b5e20" if good else "#b00020"
            self.status.setText(f"<span style='color:{color}'>"
                                f"{text.replace(chr(10), '<br>')}</span>")
        elif isinstance(event, JobFailed):
            self.status.setText(f"<span style='color:#b00020'>Export failed: {event.error}"
                                "</span>")
            self.status.setToolTip(event.details)
        elif isinstance(event, JobCancelled):
            self.status.setText("Export cancelled.")
        self.export_finished.emit(event)
