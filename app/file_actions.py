"""File actions of the main window: open, save, import, export, and their prompts.

A mixin of ``MainWindow`` (which provides ``settings``, ``documents``, ``tabs``, ``log``,
``open_design`` and ``tab_index``).  File dialogs start in the last folder used, else the
user's documents folder, never the working directory.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QFileDialog, QMessageBox

from app.document.controller import DocumentController
from app.document.templates import design_text, empty_cell_design, empty_stack_design
from app.panels.dialogs import ImportDialog, parse_import

DESIGN_FILTER = "NAS Studio designs (*.json);;All files (*)"


def _file_stem(name: str) -> str:
    """A design name as a file name (``"darts-v2 [trial 3]"`` -> ``"darts-v2 trial 3"``)."""
    return re.sub(r"[\\/:*?\"<>|\[\]]+", "", name).strip() or "design"


class FileActions:
    """Open / save / import / export for the window's documents."""

    def open_file(self, path: str) -> DocumentController | None:
        from engine.arch.serialize import load_design
        from engine.arch.validate import DesignError

        for doc in self.documents:
            if doc.path and Path(doc.path).resolve() == Path(path).resolve():
                self.tabs.setCurrentIndex(self.tab_index(doc))
                return doc
        try:
            design = load_design(path)
        except DesignError as exc:
            try:  # a design saved with errors opens with its problems marked
                design = load_design(path, validate=False)
            except DesignError:
                detail = "\n".join(map(str, exc.problems))
                self.log.log(f"Could not open {path}: {detail}", "error")
                self.show_error("Could not open design", f"{path}\n\n{detail}")
                return None
        self.settings.add_recent(path)
        return self.open_design(design, path=str(path))

    def open_preset(self, name: str) -> DocumentController:
        from engine.arch.presets import get_preset

        return self.open_design(get_preset(name))

    # -- prompts (tests replace these) ---------------------------------------------------
    def ask_save_changes(self, doc: DocumentController) -> str:
        """"save", "discard" or "cancel"."""
        b = QMessageBox.StandardButton
        answer = QMessageBox.question(self, "Unsaved changes",
                                      f"Save the changes to {doc.design.name}?",
                                      b.Save | b.Discard | b.Cancel, b.Save)
        return {b.Save: "save", b.Discard: "discard"}.get(answer, "cancel")

    def ask_save_invalid(self, doc: DocumentController) -> bool:
        msgs = "\n".join(f"• {p.message}" for p in doc.errors()[:12])
        b = QMessageBox.StandardButton
        return QMessageBox.warning(
            self, "Design has errors",
            f"{doc.design.name} is not valid and cannot be built:\n\n{msgs}\n\nSave anyway?",
            b.Save | b.Cancel, b.Cancel) == b.Save

    def start_folder(self) -> Path:
        """Where file dialogs open: the last folder used, else the user's documents."""
        last = self.settings.last_folder()
        if last and Path(last).is_dir():
            return Path(last)
        docs = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        return Path(docs) if docs and Path(docs).is_dir() else Path.home()

    def _remember_folder(self, path: str | None) -> str | None:
        if path:
            self.settings.set_last_folder(str(Path(path).resolve().parent))
        return path or None

    def ask_open_path(self) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self, "Open design", str(self.start_folder()),
                                              DESIGN_FILTER)
        return self._remember_folder(path)

    def ask_save_path(self, doc: DocumentController, title: str = "Save design as") -> str | None:
        start = self.start_folder() / f"{_file_stem(doc.design.name)}.json"
        path, _ = QFileDialog.getSaveFileName(self, title, str(start), DESIGN_FILTER)
        return self._remember_folder(path)

    def show_error(self, title: str, text: str) -> None:
        QMessageBox.critical(self, title, text)

    # -- file actions ---------------------------------------------------------------------
    def new_design(self, kind: str = "cell") -> DocumentController:
        return self.open_design(empty_cell_design() if kind == "cell" else empty_stack_design())

    def open_dialog(self) -> DocumentController | None:
        path = self.ask_open_path()
        return self.open_file(path) if path else None

    def save(self, doc: DocumentController | None = None) -> bool:
        doc = doc or self.current_doc()
        if doc is None:
            return False
        if not doc.path:
            return self.save_as(doc)
        return self._write(doc, doc.path)

    def save_as(self, doc: DocumentController | None = None, path: str | None = None) -> bool:
        doc = doc or self.current_doc()
        if doc is None:
            return False
        path = path or self.ask_save_path(doc)
        return self._write(doc, path) if path else False

    def _write(self, doc: DocumentController, path: str) -> bool:
        from engine.arch.validate import DesignError

        doc.revalidate()
        if doc.errors() and not self.ask_save_invalid(doc):
            self.log.log(f"Not saved: {doc.design.name} has {len(doc.errors())} error(s)",
                         "warning")
            return False
        try:
            doc.save(path)
        except (OSError, ValueError, DesignError) as exc:
            self.log.log(f"Could not save {path}: {exc}", "error")
            self.show_error("Could not save", f"{path}\n\n{exc}")
            return False
        self.settings.add_recent(path)
        self.log.log(f"Saved {path}")
        self.statusBar().showMessage(f"Saved {path}", 4000)
        return True

    def import_text(self, text: str, kind: str = "auto") -> DocumentController:
        """Open a design parsed from pasted text (raises DesignImportError)."""
        return self.open_design(parse_import(kind, text))

    def import_dialog(self) -> DocumentController | None:
        dialog = ImportDialog(self)
        if dialog.exec() and dialog.design is not None:
            return self.open_design(dialog.design)
        return None

    def export_design(self, path: str | None = None,
                      doc: DocumentController | None = None) -> bool:
        """JSON (.json), or the design's text form (.txt: Genotype / NB201 / block strings)."""
        doc = doc or self.current_doc()
        if doc is None:
            return False
        if path is None:
            start = self.start_folder() / f"{_file_stem(doc.design.name)}.txt"
            path, _ = QFileDialog.getSaveFileName(
                self, "Export design", str(start), "Text form (*.txt);;Design JSON (*.json)")
            if not self._remember_folder(path):
                return False
        try:
            if path.endswith(".json"):
                from engine.arch.serialize import save_design

                save_design(doc.design, path)
            else:
                Path(path).write_text(design_text(doc.design) + "\n", encoding="utf-8")
        except (OSError, ValueError, ImportError) as exc:
            self.log.log(f"Export failed: {exc}", "error")
            return False
        self.log.log(f"Exported {doc.design.name} to {path}")
        return True

