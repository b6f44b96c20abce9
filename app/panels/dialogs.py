"""Small dialogs: Import (Genotype / NAS-Bench-201 / timm block strings), Preferences."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from engine.arch.model import BlockStack, Design

IMPORT_KINDS = [("Auto-detect", "auto"), ("DARTS Genotype(...)", "genotype"),
                ("NAS-Bench-201 cell string", "nb201"), ("timm block strings", "timm")]

EXAMPLES = {
    "genotype": "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ...], "
                "normal_concat=[2, 3, 4, 5], reduce=[...], reduce_concat=[2, 3, 4, 5])",
    "nb201": "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|...|",
    "timm": "ds_r1_k3_s1_e1_c16_se0.25\nir_r2_k3_s2_e6_c24_se0.25\n...",
}


class DesignImportError(ValueError):
    """A text that could not be imported (message says where and why)."""


def detect_kind(text: str) -> str:
    t = text.strip()
    if t.startswith("Genotype"):
        return "genotype"
    if t.startswith("|"):
        return "nb201"
    first = t.split()[0] if t.split() else ""
    if first.startswith(("ds_", "ir_", "[", "'ds_", "'ir_", '"ds_', '"ir_')):
        return "timm"
    return "source"


def parse_import(kind: str, text: str) -> Design:
    """Parse pasted text into a design with the engine codecs; raises DesignImportError."""
    text = text.strip()
    if not text:
        raise DesignImportError("nothing to import: the text is empty")
    if kind == "auto":
        kind = detect_kind(text)
    try:
        if kind == "genotype":
            from engine.arch.genotype import parse_genotype

            design = parse_genotype(text)
            design.name = "imported-genotype"
            return design
        if kind == "nb201":
            from engine.arch.nb201 import parse_nb201

            design = parse_nb201(text)
            design.name = "imported-nb201"
            return design
        if kind == "timm":
            from engine.arch.timm_blocks import parse_block_strings

            return BlockStack(name="imported-blocks", stages=list(parse_block_strings(text)))
        from engine.arch.sources import resolve_source

        return resolve_source(text)
    except ImportError as exc:
        raise DesignImportError(f"this importer is not available yet ({exc.name})") from exc
    except Exception as exc:  # noqa: BLE001 - DesignError and plain parse errors alike
        if not isinstance(exc, ValueError | KeyError | SyntaxError) and \
                type(exc).__name__ != "DesignError":
            raise
        problems = getattr(exc, "problems", None)
        if problems:
            raise DesignImportError("\n".join(str(p) for p in problems)) from exc
        raise DesignImportError(str(exc).strip("'\"")) from exc


class ImportDialog(QDialog):
    """Paste a DARTS genotype, an NB201 string or timm block strings."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import design")
        self.resize(640, 360)
        self.design: Design | None = None
        self.kind = QComboBox()
        for text, data in IMPORT_KINDS:
            self.kind.addItem(text, data)
        self.text = QPlainTextEdit()
        self.text.setPlaceholderText("\n\n".join(EXAMPLES.values()))
        self.error = QLabel()
        self.error.setObjectName("dialogError")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        form = QFormLayout()
        form.addRow("Format", self.kind)
        lay.addLayout(form)
        lay.addWidget(self.text, 1)
        lay.addWidget(self.error)
        lay.addWidget(buttons)

    def accept(self) -> None:
        try:
            self.design = parse_import(self.kind.currentData(), self.text.toPlainText())
        except DesignImportError as exc:
            self.error.setText(f"⚠ {exc}")
            return
        super().accept()


class PreferencesDialog(QDialog):
    """Default device, theme and latency measurement."""

    def __init__(self, device: str, theme: str, measure_latency: bool,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.device = QComboBox()
        for d in ("auto", "cpu", "cuda", "mps"):
            self.device.addItem(d, d)
        self.device.setCurrentIndex(max(0, self.device.findData(device)))
        self.device.setToolTip("auto picks cuda, then mps, then cpu")
        self.theme = QComboBox()
        for t in ("light", "dark"):
            self.theme.addItem(t, t)
        self.theme.setCurrentIndex(max(0, self.theme.findData(theme)))
        self.latency = QCheckBox("measure latency in the metrics bar (CPU, batch 1)")
        self.latency.setChecked(measure_latency)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Default device", self.device)
        form.addRow("Theme", self.theme)
        form.addRow("", self.latency)
        form.addRow(buttons)

    def values(self) -> dict:
        return {"device": self.device.currentData(), "theme": self.theme.currentData(),
                "measure_latency": self.latency.isChecked()}
