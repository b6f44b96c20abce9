"""Export a trained run: ONNX / TorchScript / bundle, destination, verification shown.

The export runs as a job on the background runner; the dialog stays open and shows
the outcome: for ONNX, whether onnxruntime's output matched PyTorch's (and by how
much), or the error with its details.  The whole destination path is shown, an
existing output is replaced only after asking, and "Open folder" shows the result.
A run that kept no weights (a search trial) is listed with the reason; "Train and
export" trains its design again with the trial's settings and exports that.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
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

HINT = "Choose a run, a format and where to save it."
RED, GREEN = "#b00020", "#1b5e20"


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


def no_weights_reason(run: Any, fmt: str = "onnx") -> str | None:
    """Why ``run`` cannot be exported as it is (None when it can)."""
    verdict = can_export(run, fmt)
    if verdict:
        return None
    if run.checkpoint or run.kind != "train":
        return verdict.reason[:1].upper() + verdict.reason[1:] + "."
    return (f"Run {run.id} kept no weights: search trials are trained only to be scored, "
            "without saving a checkpoint. \u201cTrain and export\u201d trains this design "
            "again with the trial's settings and exports the result.")


def trainable(run: Any) -> bool:
    """A finished training run that kept no weights: "Train and export" can redo it."""
    return run.status == "finished" and run.kind == "train" and not run.checkpoint \
        and bool((run.config or {}).get("dataset"))


def _colored(text: str, color: str) -> str:
    return f"<span style='color:{color}'>{escape(text).replace(chr(10), '<br>')}</span>"


class ExportDialog(QDialog):
    """Pick a run, a format and a destination; export in the background; show the check."""

    export_finished = Signal(object)   # the final job event (JobFinished/Failed/Cancelled)

    def __init__(self, store: Any, runner: JobRunner, run_id: int | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export trained model")
        self.setMinimumWidth(560)
        self.store, self.runner = store, runner
        self.job_id: str | None = None
        self.train_job_id: str | None = None
        self.result: dict[str, Any] | None = None
        self.runs: dict[int, Any] = {}
        self.run = QComboBox()
        self.refused: str | None = None   # why the requested run is not offered
        for run in reversed(store.runs()):   # what the engine can export (not int8 ONNX)
            if run.status == "finished" and no_weights_reason(run) is None:
                self._add_run(run)
        if run_id is not None and self.run.findData(run_id) < 0:
            requested = next((r for r in store.runs() if r.id == run_id), None)
            if requested is not None and trainable(requested):  # a trial: train, then export
                self._add_run(requested)
            elif requested is not None:
                self.refused = no_weights_reason(requested)
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
        self.destination = QLabel()  # the whole resolved path, however long
        self.destination.setWordWrap(True)
        self.destination.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.destination.setObjectName("exportDestination")
        form = QFormLayout()
        form.addRow("Run:", self.run)
        form.addRow("Format:", fmt_box)
        form.addRow("Destination:", path_row)
        form.addRow("", self.destination)
        self.status = QLabel(HINT)
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start_export)
        self.train_button = QPushButton("Train and export")
        self.train_button.clicked.connect(self.train_and_export)
        self.open_button = QPushButton("Open folder")
        self.open_button.setToolTip("Show the exported file in the file manager")
        self.open_button.clicked.connect(self.open_folder)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        buttons.addWidget(self.train_button)
        buttons.addWidget(self.export_button)
        buttons.addWidget(close)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.status)
        lay.addLayout(buttons)
        self.formats.idToggled.connect(lambda _i, on: on and self._format_changed())
        self.run.currentIndexChanged.connect(lambda _i: self._run_changed())
        self.path.textChanged.connect(lambda _t: self._show_destination())
        runner.job_ended.connect(self._on_job_ended)
        self._run_changed()
        if self.refused:
            self.status.setText(self.refused)
        elif self.run.count() == 0:
            self.status.setText("No finished run yet: train a design first.")

    # -- choices ---------------------------------------------------------------------------
    def _add_run(self, run: Any) -> None:
        acc = run.test_accuracy
        acc_text = f", test acc {acc:.3f}" if isinstance(acc, float) else ""
        why = no_weights_reason(run)
        label = f"run {run.id} ({run.kind}{acc_text})" + (" — no weights" if why
                                                                      else "")
        self.runs[int(run.id)] = run
        self.run.addItem(label, run.id)
        if why:
            self.run.setItemData(self.run.count() - 1, why, Qt.ItemDataRole.ToolTipRole)

    def fmt(self) -> str:
        return str(self.formats.checkedButton().property("format"))

    def set_format(self, fmt: str) -> None:
        for b in self.formats.buttons():
            if b.property("format") == fmt:
                b.setChecked(True)
                return
        raise ValueError(f"unknown export format {fmt!r}")

    def selected_run(self) -> Any:
        run_id = self.run.currentData()
        return None if run_id is None else self.runs.get(int(run_id))

    def _clear_result(self) -> None:
        self.result = None
        self.status.setToolTip("")
        self.open_button.setEnabled(False)

    def _format_changed(self) -> None:
        """A new format: the last result (another file) no longer applies."""
        self._clear_result()
        self._default_path()
        self._update_actions(status=True)

    def _run_changed(self) -> None:
        self._clear_result()
        self._default_path()
        self._update_actions(status=True)

    def _update_actions(self, status: bool = False) -> None:
        run = self.selected_run()
        why = no_weights_reason(run, self.fmt()) if run is not None else None
        busy = self.job_id is not None or self.train_job_id is not None
        self.export_button.setEnabled(run is not None and why is None and not busy)
        self.export_button.setToolTip(why or "")
        can_train = run is not None and trainable(run)
        self.train_button.setVisible(can_train)
        self.train_button.setEnabled(can_train and not busy)
        self.train_button.setToolTip("Train this design again with the trial's settings "
                                     "(keeping the weights), then export it")
        if status and not busy:  # a new choice: say what it allows
            self.status.setText(why or HINT)

    def _default_path(self) -> None:
        run_id = self.run.currentData()
        if run_id is not None:
            self.path.setText(str(default_export_path(int(run_id), self.fmt())))
        self._show_destination()

    def _target(self) -> Path | None:
        text = self.path.text().strip()
        return Path(text).expanduser().absolute() if text else None

    def _show_destination(self) -> None:
        target = self._target()
        what = "folder" if self.fmt() == "bundle" and target and target.suffix != ".zip" \
            else "file"
        self.destination.setText("" if target is None else f"Saves the {what} {target}")

    def _browse(self) -> None:
        suffix = get_format(self.fmt()).suffix
        path, _ = QFileDialog.getSaveFileName(self, "Export to", self.path.text(),
                                              f"{self.fmt()} (*{suffix})")
        if path:
            self.path.setText(path)

    # -- actions ---------------------------------------------------------------------------
    def start_export(self) -> str | None:
        """Queue the export job; returns its id (None when a setting is wrong)."""
        from engine.export.common import ExportError
        from engine.export.destination import DestinationExists, check_output

        run, path = self.selected_run(), self._target()
        if run is None or path is None:
            self.status.setText("Choose a run and a destination file.")
            return None
        why = no_weights_reason(run, self.fmt())
        if why:
            self.status.setText(why)
            return None
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
            job = ExportJob(self.store, int(run.id), self.fmt(), path, force=force)
        except (ExportError, OSError, ValueError) as exc:
            self.status.setText(_colored(str(exc), RED))
            return None
        self._clear_result()
        self.status.setText(f"Exporting run {run.id} as {self.fmt()} to {path}…")
        self.job_id = self.runner.submit(job)
        self._update_actions()
        return self.job_id

    def train_and_export(self) -> str | None:
        """Train the selected weight-less run's design again with its recorded settings
        (keeping a checkpoint); the export starts when the training finishes."""
        from engine.train import TrainConfig, TrainJob

        run = self.selected_run()
        if run is None or run.checkpoint:
            return None
        cfg = run.config or {}
        spec = cfg.get("dataset") or {}
        if not isinstance(spec, dict) or not spec.get("name"):
            self.status.setText(_colored(f"Run {run.id} recorded no dataset to train on "
                                         "again.", RED))
            return None
        try:
            config = TrainConfig.from_dict({**(cfg.get("train") or {}), "checkpoint": True})
            design = self.store.get_design(run.design_hash)
            dataset: Any = spec["name"]
            if spec.get("image_size"):
                from engine.data import load_spec

                dataset = load_spec(spec)
        except Exception as exc:  # noqa: BLE001 - shown to the user
            self.status.setText(_colored(f"Cannot train run {run.id} again: {exc}", RED))
            return None
        job = TrainJob(design, dataset, config, self.store, data_root=spec.get("root"),
                       name=f"retrain of run {run.id} for export")
        self._clear_result()
        self.status.setText(f"Training run {run.id}'s design again "
                            f"({config.epochs} epoch(s)); the export follows…")
        self.train_job_id = self.runner.submit(job)
        self._update_actions()
        return self.train_job_id

    def confirm_replace(self, path: Path) -> bool:
        """Ask before an export replaces an existing file or bundle folder."""
        what = "bundle folder" if path.is_dir() else "file"
        answer = QMessageBox.question(
            self, "Replace existing export?",
            f"The {what} {path} already exists.\nReplace it with this export?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def result_folder(self) -> Path | None:
        """The folder "Open folder" shows: a bundle folder itself, else the file's folder."""
        if not self.result:
            return None
        path = Path(self.result["path"])
        return path if path.is_dir() else path.parent

    def open_folder(self) -> Path | None:
        folder = self.result_folder()
        if folder is not None:
            self.open_url(QUrl.fromLocalFile(str(folder)))
        return folder

    @staticmethod
    def open_url(url: QUrl) -> None:
        """Hand ``url`` to the desktop (tests replace this)."""
        QDesktopServices.openUrl(url)

    # -- outcomes --------------------------------------------------------------------------
    def _on_job_ended(self, event: object) -> None:
        job_id = getattr(event, "job_id", None)
        if job_id is not None and job_id == self.train_job_id:
            self._on_training_ended(event)
            return
        if job_id is None or job_id != self.job_id:
            return
        self.job_id = None
        if isinstance(event, JobFinished):
            self.result = dict(event.result)
            text, good = verification_text(self.result)
            self.status.setText(_colored(text, GREEN if good else RED))
            self.open_button.setEnabled(True)
        elif isinstance(event, JobFailed):
            self.status.setText(_colored(f"Export failed: {event.error}", RED))
            self.status.setToolTip(event.details)
        elif isinstance(event, JobCancelled):
            self.status.setText("Export cancelled.")
        self._update_actions()
        self.export_finished.emit(event)

    def _on_training_ended(self, event: object) -> None:
        self.train_job_id = None
        if isinstance(event, JobFinished) and event.result.get("run_id") is not None:
            new_id = int(event.result["run_id"])
            chosen = self.path.text()  # the destination the user picked stays
            self._add_run(self.store.get_run(new_id))
            self.run.setCurrentIndex(self.run.findData(new_id))
            self.path.setText(chosen)
            self.start_export()
            return
        if isinstance(event, JobFailed):
            self.status.setText(_colored(f"Training failed: {event.error}", RED))
            self.status.setToolTip(event.details)
        else:
            self.status.setText("Training cancelled; nothing was exported.")
        self._update_actions()
        self.export_finished.emit(event)
