"""Settings dialogs for Train, Search and Compress jobs.

Each dialog shows defaults that work on the built-in digits data.  ``accept`` builds
the engine job (``self.job``) and stays open with the error shown when a setting is
wrong, so the user never launches a job that fails on its first line.
"""

from __future__ import annotations

import random
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.jobs import factory
from app.jobs.outcome import infeasible
from app.panels.plot_style import short_number
from engine.compress.runs import can_compress
from engine.jobs import Job
from engine.search.executors import EXECUTORS


def _spin(lo: int, hi: int, value: int, tip: str = "") -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setValue(value)
    box.setToolTip(tip)
    return box


def _combo(items: tuple[str, ...] | list[str], value: str) -> QComboBox:
    box = QComboBox()
    box.addItems(list(items))
    box.setCurrentText(value)
    return box


def _skip_bad_images_box(checked: bool) -> QCheckBox:
    box = QCheckBox("Skip unreadable images")
    box.setToolTip("image folders: leave out corrupt or empty image files (the log lists "
                   "them) instead of refusing the dataset")
    box.setChecked(bool(checked))
    return box


class _JobDialog(QDialog):
    """Common frame: a form, an error line, OK (labelled for the action) / Cancel."""

    action = "Start"

    def __init__(self, title: str, store: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.store = store
        self.job: Job | None = None
        self.form = QFormLayout()
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020;")
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.buttons.button(QDialogButtonBox.Ok).setText(self.action)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(self.form)
        lay.addWidget(self.error)
        lay.addWidget(self.buttons)

    def settings(self) -> dict[str, Any]:
        raise NotImplementedError

    def make_job(self) -> Job:
        raise NotImplementedError

    def accept(self) -> None:
        try:
            self.job = self.make_job()
        except Exception as exc:  # noqa: BLE001 - shown to the user, dialog stays open
            self.job = None
            self.error.setText(str(exc) or type(exc).__name__)
            return
        self.error.setText("")
        super().accept()


class TrainDialog(_JobDialog):
    """Train the current design: dataset, epochs, batch size, learning rate..."""

    action = "Train"

    def __init__(self, design: Any, store: Any, parent: QWidget | None = None) -> None:
        super().__init__("Train design", store, parent)
        self.design = design
        d = factory.train_defaults()
        name = getattr(design, "name", "—") if design is not None else "none open"
        self.form.addRow("Design:", QLabel(f"<b>{name}</b>"))
        self.dataset = _combo(factory.DATASETS, d["dataset"])
        self.dataset.setEditable(True)
        self.dataset.setToolTip("digits is built in; others load from the data folder "
                                "or a path to an image folder")
        self.epochs = _spin(1, 1000, d["epochs"])
        self.batch_size = _spin(1, 4096, d["batch_size"])
        self.lr = QDoubleSpinBox()
        self.lr.setDecimals(4)
        self.lr.setRange(0.0001, 10.0)
        self.lr.setSingleStep(0.01)
        self.lr.setValue(d["lr"])
        self.optimizer = _combo(("sgd", "adamw"), d["optimizer"])
        self.subset = _spin(0, 10_000_000, 0, "train on this many images (0: all)")
        self.seed = _spin(0, 2**31 - 1, d["seed"])
        self.patience = _spin(0, 1000, 0, "stop after this many epochs without "
                                          "improvement (0: never)")
        self.channels = _spin(1, 1024, d["channels"], "cell networks: initial channels")
        self.layers = _spin(1, 100, d["layers"], "cell networks: number of cells")
        self.skip_bad_images = _skip_bad_images_box(d["skip_bad_images"])
        is_cell = getattr(design, "kind", "") == "cell"
        self.channels.setEnabled(is_cell)
        self.layers.setEnabled(is_cell)
        self.size_note = QLabel("")
        self.size_note.setWordWrap(True)
        self.size_note.setStyleSheet("color: palette(mid);")
        macro = getattr(design, "macro", None)
        if is_cell and macro is not None:
            # the dialog trains a smaller network than the design's own: say so
            self.size_note.setText(
                f"The design is {macro.channels} channels × {macro.layers} cells; the run "
                "uses the channels and layers below (small values train fast on a CPU).")
        elif design is not None:
            self.size_note.setText("Block stacks train as drawn; channels and layers apply "
                                   "to cell networks only.")
        for label, w in (("Dataset:", self.dataset), ("Epochs:", self.epochs),
                         ("Batch size:", self.batch_size), ("Learning rate:", self.lr),
                         ("Optimizer:", self.optimizer), ("Subset (0 = all):", self.subset),
                         ("Seed:", self.seed), ("Early-stop patience:", self.patience),
                         ("Channels (cells):", self.channels), ("Layers (cells):", self.layers),
                         ("", self.skip_bad_images)):
            self.form.addRow(label, w)
        self.form.addRow(self.size_note)

    def settings(self) -> dict[str, Any]:
        return {"dataset": self.dataset.currentText(), "epochs": self.epochs.value(),
                "batch_size": self.batch_size.value(), "lr": self.lr.value(),
                "optimizer": self.optimizer.currentText(), "subset": self.subset.value() or None,
                "seed": self.seed.value(), "patience": self.patience.value() or None,
                "channels": self.channels.value(), "layers": self.layers.value(),
                "skip_bad_images": self.skip_bad_images.isChecked()}

    def make_job(self) -> Job:
        return factory.train_job(self.design, self.settings(), self.store)


class SearchDialog(_JobDialog):
    """Search a space: strategy, budget, evaluator (train on data or a table), objectives."""

    action = "Search"

    def __init__(self, store: Any, parent: QWidget | None = None,
                 last: dict[str, Any] | None = None) -> None:
        super().__init__("Architecture search", store, parent)
        d = factory.search_defaults()
        self.space = _combo(factory.SPACES, d["space"])
        self.strategy = _combo(factory.STRATEGIES, d["strategy"])
        self.strategy_help = QLabel()
        self.strategy_help.setWordWrap(True)
        for i, name in enumerate(factory.STRATEGIES):
            self.strategy.setItemData(i, factory.STRATEGY_HELP[name], Qt.ItemDataRole.ToolTipRole)
        self.strategy.currentTextChanged.connect(
            lambda name: self.strategy_help.setText(factory.STRATEGY_HELP.get(name, "")))
        self.strategy_help.setText(factory.STRATEGY_HELP.get(d["strategy"], ""))
        self.budget = _spin(1, 100_000, d["budget"], "trials to evaluate")
        self.seed = _spin(0, 2**31 - 1, d["seed"])
        self.new_seed = QPushButton("New seed")
        self.new_seed.setToolTip("A fresh random seed: the same settings search differently")
        self.new_seed.clicked.connect(
            lambda: self.seed.setValue(random.SystemRandom().randrange(1, 100_000)))
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.new_seed)
        self.evaluator = _combo(("train", "tabular"), d["evaluator"])
        self.evaluator.setToolTip("train: train each candidate briefly on a dataset; "
                                  "tabular: look results up in a benchmark CSV")
        self.dataset = _combo(factory.DATASETS, d["dataset"])
        self.dataset.setEditable(True)
        self.epochs = _spin(1, 100, d["epochs_per_trial"])
        self.subset = _spin(0, 10_000_000, d["subset"] or 0,
                            "train on this many images (0: all)")
        self.skip_bad_images = _skip_bad_images_box(d["skip_bad_images"])
        self.skip_bad_rows = QCheckBox("Skip bad rows")
        self.skip_bad_rows.setToolTip("keep a cell's first row when the table lists it twice "
                                      "and leave out rows with NaN/inf values (otherwise "
                                      "the table is refused, naming the line)")
        self.skip_bad_rows.setChecked(bool(d["skip_bad_rows"]))
        self.benchmark = QLineEdit(d["benchmark"])
        self.benchmark.setPlaceholderText("CSV with a cellstr column")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        bench_row = QHBoxLayout()
        bench_row.addWidget(self.benchmark, 1)
        bench_row.addWidget(browse)
        self.objective = QLineEdit(d["objective"])
        self.report = QLineEdit(d["report"])
        self.cost_objective = _combo(("params", "macs", "none"), "params")
        self.cost_objective.setToolTip("second objective, minimised (the Pareto plot's x axis)")
        self.max_params = QLineEdit()
        self.max_params.setPlaceholderText("no limit")
        self.max_macs = QLineEdit()
        self.max_macs.setPlaceholderText("no limit")
        for label, w in (("Space:", self.space), ("Strategy:", self.strategy),
                         ("", self.strategy_help), ("Budget (trials):", self.budget),
                         ("Seed:", seed_row),
                         ("Evaluate by:", self.evaluator), ("Dataset:", self.dataset),
                         ("Epochs per trial:", self.epochs), ("Subset (0 = all):", self.subset),
                         ("", self.skip_bad_images)):
            self.form.addRow(label, w)
        self.form.addRow("Benchmark table:", bench_row)
        self.form.addRow("", self.skip_bad_rows)
        for label, w in (("Objective column:", self.objective), ("Report column:", self.report),
                         ("Minimise also:", self.cost_objective),
                         ("Max params:", self.max_params), ("Max MACs:", self.max_macs)):
            self.form.addRow(label, w)
        self.executor = QComboBox()   # where trials run: the engine's executor registry
        for kind in EXECUTORS.values():
            self.executor.addItem(kind.title, kind.name)
            self.executor.setItemData(self.executor.count() - 1, kind.description,
                                      Qt.ItemDataRole.ToolTipRole)
        self.workers = _spin(1, 1024, d["workers"], "trials in flight at once")
        self.address = QLineEdit(d["address"])
        self.address.setPlaceholderText("empty: a local Ray; auto or HOST:PORT: a cluster")
        for label, w in (("Run trials:", self.executor), ("Workers:", self.workers),
                         ("Ray address:", self.address)):
            self.form.addRow(label, w)
        self.executor.currentIndexChanged.connect(self._sync)
        self.evaluator.currentTextChanged.connect(self._sync)
        self._sync()
        if last:
            self.apply(last)
            # the same settings again would repeat the last search exactly: a new seed
            self.seed.setValue((int(last.get("seed", 0)) + 1) % 2**31)

    def apply(self, s: dict[str, Any]) -> None:
        """Show remembered settings (``settings()`` of an earlier dialog)."""
        for box, key in ((self.space, "space"), (self.strategy, "strategy"),
                         (self.evaluator, "evaluator"), (self.dataset, "dataset")):
            if s.get(key) is not None and (box.isEditable() or box.findText(str(s[key])) >= 0):
                box.setCurrentText(str(s[key]))
        for spin, key in ((self.budget, "budget"), (self.seed, "seed"),
                          (self.epochs, "epochs_per_trial"), (self.subset, "subset"),
                          (self.workers, "workers")):
            if isinstance(s.get(key), int):
                spin.setValue(s[key])
        for edit, key in ((self.benchmark, "benchmark"), (self.objective, "objective"),
                          (self.report, "report"), (self.address, "address")):
            if isinstance(s.get(key), str):
                edit.setText(s[key])
        if (i := self.executor.findData(s.get("executor"))) >= 0:
            self.executor.setCurrentIndex(i)
        for box, key in ((self.skip_bad_images, "skip_bad_images"),
                         (self.skip_bad_rows, "skip_bad_rows")):
            if isinstance(s.get(key), bool):
                box.setChecked(s[key])
        cost = [o for o in s.get("objectives") or [] if o != "accuracy"]
        self.cost_objective.setCurrentText(cost[0] if cost else "none")
        for edit, key in ((self.max_params, "max_params"), (self.max_macs, "max_macs")):
            v = s.get(key)
            edit.setText(short_number(v, exact=True) if isinstance(v, (int, float)) else "")
        self._sync()

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Benchmark table", "", "CSV (*.csv)")
        if path:
            self.benchmark.setText(path)

    def _sync(self) -> None:
        tabular = self.evaluator.currentText() == "tabular"
        for w in (self.benchmark, self.objective, self.report, self.skip_bad_rows):
            w.setEnabled(tabular)
        for w in (self.dataset, self.epochs, self.subset, self.skip_bad_images):
            w.setEnabled(not tabular)
        self.address.setEnabled(self.executor.currentData() == "ray")
        if tabular:
            self.space.setCurrentText("nas-bench-201")

    @staticmethod
    def _limit(edit: QLineEdit, what: str) -> float | None:
        text = edit.text().strip().replace("_", "").replace(",", "")
        if not text:
            return None
        scale = {"k": 1e3, "m": 1e6, "g": 1e9}.get(text[-1].lower(), 1.0)
        try:
            value = float(text[:-1] if scale != 1.0 else text) * scale
        except ValueError:
            raise ValueError(f"{what}: {edit.text()!r} is not a number (e.g. 250k, 1.5M)") \
                from None
        if value <= 0:
            raise ValueError(f"{what} must be positive")
        return value

    def settings(self) -> dict[str, Any]:
        cost = self.cost_objective.currentText()
        return {"space": self.space.currentText(), "strategy": self.strategy.currentText(),
                "budget": self.budget.value(), "seed": self.seed.value(),
                "evaluator": self.evaluator.currentText(),
                "dataset": self.dataset.currentText(), "epochs_per_trial": self.epochs.value(),
                "subset": self.subset.value() or None, "benchmark": self.benchmark.text(),
                "objective": self.objective.text().strip(),
                "report": self.report.text().strip(),
                "objectives": ["accuracy"] + ([] if cost == "none" else [cost]),
                "max_params": self._limit(self.max_params, "max params"),
                "max_macs": self._limit(self.max_macs, "max MACs"),
                "executor": self.executor.currentData(), "workers": self.workers.value(),
                "address": self.address.text().strip(),
                "skip_bad_images": self.skip_bad_images.isChecked(),
                "skip_bad_rows": self.skip_bad_rows.isChecked()}

    def make_job(self) -> Job:
        settings = self.settings()
        job = factory.search_job(settings, self.store)
        if settings["evaluator"] == "train":   # before a minute of rejected candidates
            why = infeasible(job.config.space, job.config.constraints)
            if why:
                raise ValueError(f"{why}: loosen the limit or choose another space")
        return job


class CompressDialog(_JobDialog):
    """Compress a finished run: structured/unstructured pruning, int8, fine-tuning."""

    action = "Compress"

    def __init__(self, store: Any, run_id: int | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__("Compress a trained run", store, parent)
        d = factory.compress_defaults()
        self.run = QComboBox()
        for run in reversed(store.runs() if store is not None else []):
            if can_compress(run):   # the engine's own check (int8 ONNX runs are not)
                acc = run.test_accuracy
                acc_text = f", test acc {acc:.3f}" if isinstance(acc, float) else ""
                self.run.addItem(f"run {run.id} ({run.kind}, "
                                 f"{run.params or '?'} params{acc_text})", run.id)
        if run_id is not None:
            idx = self.run.findData(run_id)
            if idx >= 0:
                self.run.setCurrentIndex(idx)
        if self.run.count() == 0:   # say why the list is empty instead of an empty combo
            self.run.setPlaceholderText("no finished run with saved weights")
            self.error.setText("Nothing to compress yet: train a design first "
                               "(Run ▸ Train current design…).")
            self.buttons.button(QDialogButtonBox.Ok).setEnabled(False)
        self.prune_on = QCheckBox("prune")
        self.prune_on.setChecked(True)
        self.prune = QDoubleSpinBox()
        self.prune.setRange(0.05, 0.95)
        self.prune.setSingleStep(0.05)
        self.prune.setValue(d["prune"])
        self.prune_kind = _combo(("structured", "unstructured"), d["prune_kind"])
        self.criterion = _combo(("magnitude", "bn", "taylor"), d["criterion"])
        self.quantize = _combo(("none", "int8", "int8-dynamic", "qat"), "none")
        self.finetune = _spin(0, 100, d["finetune_epochs"], "fine-tuning epochs after pruning")
        prune_row = QHBoxLayout()
        prune_row.addWidget(self.prune_on)
        prune_row.addWidget(self.prune, 1)
        for label, w in (("Run:", self.run),):
            self.form.addRow(label, w)
        self.form.addRow("Pruning ratio:", prune_row)
        for label, w in (("Pruning kind:", self.prune_kind), ("Criterion:", self.criterion),
                         ("Quantize:", self.quantize), ("Fine-tune epochs:", self.finetune)):
            self.form.addRow(label, w)

    def settings(self) -> dict[str, Any]:
        q = self.quantize.currentText()
        return {"run_id": self.run.currentData(),
                "prune": self.prune.value() if self.prune_on.isChecked() else None,
                "prune_kind": self.prune_kind.currentText(),
                "criterion": self.criterion.currentText(),
                "quantize": None if q == "none" else q,
                "finetune_epochs": self.finetune.value()}

    def make_job(self) -> Job:
        return factory.compress_job(self.settings(), self.store)
