"""Evaluators: what a trial costs before training and what it scores after.

* ``TabularBenchmark``: look a NAS-Bench-201 cell up in a CSV (column ``cellstr`` plus
  numeric metric columns).  Instant and reproducible; never imports torch unless a
  cost the table lacks is asked for.
* ``TrainEvaluator``: train the design for a short proxy budget (epochs, subset) with
  ``engine.train.train_design`` and report validation/test accuracy and costs.

``run_trial`` wraps an evaluation so that an exception, running out of memory or a NaN
objective becomes a failed trial with its error instead of ending the search.  The
search's cancel token travels in ``context["token"]`` (in-process evaluation) and stops
training between batches; ``Cancelled`` ends the search, it is not a failed trial.
"""

from __future__ import annotations

import csv
import math
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.arch.model import Design
from engine.arch.space import Code, NB201Space, SearchSpace, SpaceError
from engine.jobs import Cancelled

COST_METRICS = ("params", "macs", "latency_ms")


class EvaluatorError(ValueError):
    """Bad evaluator input (benchmark file, column names); the message names the place."""


@dataclass
class TrialOutcome:
    """What one evaluation produced."""

    status: str                      # "finished" | "failed"
    metrics: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    run_id: int | None = None


def is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


class Evaluator:
    """Interface.  ``objective`` is the metric maximised, ``report`` the one reported."""

    objective = "val_accuracy"
    report = "test_accuracy"

    def costs(self, design: Design, code: Code, names: tuple[str, ...]) -> dict[str, float]:
        """Costs known before training (params, macs, latency_ms) for constraints."""
        return design_costs(design, names)

    def evaluated_design(self, design: Design) -> Design:
        """The design this evaluator actually sizes and scores (what a trial records)."""
        return design

    def notes(self) -> list[str]:
        """What the user should know before the search starts (coverage, left-out data)."""
        return []

    def restrict_space(self, space: SearchSpace) -> None:
        """Narrow ``space`` to what this evaluator can score (the search's strategy then
        samples only that); the default scores everything."""

    def evaluate(self, design: Design, code: Code, *, trial: int, seed: int,
                 budget: float | None = None, context: dict[str, Any] | None = None
                 ) -> dict[str, Any]:
        raise NotImplementedError

    def spec(self) -> dict[str, Any]:
        raise NotImplementedError


def design_costs(design: Design, names: tuple[str, ...]) -> dict[str, float]:
    """Params/MACs from the analytic cost model (pure Python, microseconds), latency
    measured on the picked device (torch)."""
    out: dict[str, float] = {}
    if not names:
        return out
    if "params" in names or "macs" in names:
        from engine.cost.analytic import design_cost

        cost = design_cost(design)
        for name, value in (("params", cost.params), ("macs", cost.macs)):
            if name in names:
                out[name] = float(value)
    if "latency_ms" in names:
        from engine.builders import build_model, input_shape_of
        from engine.cost import measure_latency

        model = build_model(design).eval()
        out["latency_ms"] = float(measure_latency(model, input_shape_of(design))["median_ms"])
    return out


def run_trial(evaluator: Evaluator, design: Design, code: Code, *, trial: int, seed: int,
              budget: float | None = None, context: dict[str, Any] | None = None
              ) -> TrialOutcome:
    """Evaluate; failures (exception, out of memory, NaN objective) become failed outcomes."""
    try:
        metrics = evaluator.evaluate(design, code, trial=trial, seed=seed, budget=budget,
                                     context=context)
    except Cancelled:
        raise                # the user stopped the search: not a failed trial
    except Exception as exc:  # noqa: BLE001 - recorded with the trial, the search goes on
        if is_out_of_memory(exc):
            error = f"out of memory: {exc}"
        else:
            error = f"{type(exc).__name__}: {exc}"
        tb = traceback.format_exc(limit=3)
        return TrialOutcome("failed", {}, f"{error}\n{tb}".strip())
    run_id = metrics.pop("run_id", None)
    value = metrics.get(evaluator.objective)
    if value is None or not isinstance(value, (int, float)) or not math.isfinite(value):
        loss = metrics.get("train_loss")
        why = "NaN loss" if isinstance(loss, float) and not math.isfinite(loss) else \
            f"objective {evaluator.objective!r} is {value!r}"
        return TrialOutcome("failed", metrics, why, run_id)
    return TrialOutcome("finished", metrics, None, run_id)


# -- tabular benchmark ----------------------------------------------------------------------

class TabularBenchmark(Evaluator):
    """A NAS-Bench-201-style table: maximise column ``objective``, report ``report``.

    Read as UTF-8 with or without a byte-order mark.  A cell listed twice or a NaN/inf
    value is refused naming its line, unless ``skip_bad_rows`` (keep a cell's first row,
    leave out rows with non-finite values; ``notes`` counts them).  A table that lists
    only part of the space restricts the space to the listed cells (``space.restrict``)
    and says its coverage in ``notes``."""

    def __init__(self, path: str | Path, objective: str, report: str | None = None,
                 space: NB201Space | None = None, *, skip_bad_rows: bool = False) -> None:
        self.path = Path(path)
        self.space = space or NB201Space()
        self.objective = objective
        self.report = report or objective
        self.skip_bad_rows = bool(skip_bad_rows)
        self.skipped: list[str] = []
        self.table, self.columns = self._read()
        for role, col in (("objective", self.objective), ("report", self.report)):
            if col not in self.columns:
                raise EvaluatorError(f"{self.path}: no {role} column {col!r}; numeric columns: "
                                     f"{', '.join(self.columns)}")
        self.full = len(self.table) >= self.space.full_size()
        self.restrict_space(self.space)

    def restrict_space(self, space: SearchSpace) -> None:
        if not self.full:  # a partial table: sample only the cells it lists
            space.restrict(list(self.table))

    def _bad_row(self, lineno: int, message: str) -> None:
        if not self.skip_bad_rows:
            raise EvaluatorError(f"{self.path}: line {lineno}: {message} (--skip-bad-rows "
                                 "keeps a cell's first row and leaves out non-finite ones)")
        self.skipped.append(f"line {lineno}: {message}")

    def _read(self) -> tuple[dict[Code, dict[str, float]], list[str]]:
        try:  # utf-8-sig: spreadsheet programs start the file with a byte-order mark
            handle = self.path.open(newline="", encoding="utf-8-sig")
        except OSError as exc:
            raise EvaluatorError(f"{self.path}: cannot read: {exc.strerror}") from None
        try:
            with handle:
                return self._rows(csv.reader(handle))
        except UnicodeDecodeError as exc:
            raise EvaluatorError(f"{self.path}: not UTF-8 text ({exc.reason} at byte "
                                 f"{exc.start})") from None
        except csv.Error as exc:
            raise EvaluatorError(f"{self.path}: not a readable CSV table ({exc})") from None

    def _rows(self, reader: Any) -> tuple[dict[Code, dict[str, float]], list[str]]:
        header = next(reader, None)
        if not header or "cellstr" not in header:
            raise EvaluatorError(f"{self.path}: line 1: needs a 'cellstr' column")
        cell_col = header.index("cellstr")
        columns = [h for i, h in enumerate(header) if i != cell_col]
        table: dict[Code, dict[str, float]] = {}
        first_line: dict[Code, int] = {}
        for lineno, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != len(header):
                raise EvaluatorError(f"{self.path}: line {lineno}: {len(row)} fields, "
                                     f"header has {len(header)}")
            try:
                code = self.space.code_of_cellstr(row[cell_col])
            except SpaceError as exc:
                raise EvaluatorError(f"{self.path}: line {lineno}: {exc}") from None
            if code in first_line:
                self._bad_row(lineno, f"cell {row[cell_col].strip()} is already listed on "
                              f"line {first_line[code]}")
                continue
            values: dict[str, float] = {}
            bad = None
            for i, (name, text) in enumerate(zip(header, row, strict=True)):
                if i == cell_col:
                    continue
                try:
                    values[name] = float(text)
                except ValueError:
                    raise EvaluatorError(f"{self.path}: line {lineno}: column {name!r}: "
                                         f"{text!r} is not a number") from None
                if bad is None and not math.isfinite(values[name]):
                    bad = f"column {name!r}: {text.strip()!r} is not a finite number"
            if bad is not None:
                self._bad_row(lineno, bad)
                continue
            first_line[code] = lineno
            table[code] = values
        if not table:
            raise EvaluatorError(f"{self.path}: no rows" + (
                f" left after skipping {len(self.skipped)}" if self.skipped else ""))
        return table, columns

    def notes(self) -> list[str]:
        out = []
        if not self.full:
            total = self.space.full_size()
            out.append(f"{self.path.name} lists {len(self.table):,} of the {total:,} "
                       f"{self.space.name} cells ({100 * len(self.table) / total:.1f}%): the "
                       "search samples only listed cells")
        if self.skipped:
            shown = "; ".join(self.skipped[:5]) + ("; ..." if len(self.skipped) > 5 else "")
            out.append(f"{self.path.name}: left out {len(self.skipped)} row(s): {shown}")
        return out

    def costs(self, design: Design, code: Code, names: tuple[str, ...]) -> dict[str, float]:
        row = self.table.get(tuple(code), {})
        out = {n: row[n] for n in names if n in row}
        missing = tuple(n for n in names if n not in out)
        if missing:
            out.update(design_costs(design, missing))
        return out

    def evaluate(self, design: Design, code: Code, *, trial: int, seed: int,
                 budget: float | None = None, context: dict[str, Any] | None = None
                 ) -> dict[str, Any]:
        row = self.table.get(tuple(code))
        if row is None:
            raise KeyError(f"cell {self.space.cellstr(code)} is not in {self.path.name}")
        return dict(row)

    def spec(self) -> dict[str, Any]:
        return {"kind": "tabular", "path": str(self.path), "objective": self.objective,
                "report": self.report, **({"skip_bad_rows": True} if self.skip_bad_rows else {})}

    def __reduce_ex__(self, protocol: Any) -> Any:
        # workers of a process pool re-read the file once instead of receiving the
        # table with every task
        if type(self) is not TabularBenchmark:
            return super().__reduce_ex__(protocol)
        return _cached_tabular, (str(self.path), self.objective, self.report,
                                 self.space.spec(), self.skip_bad_rows)


_TABLES: dict[tuple[Any, ...], TabularBenchmark] = {}


def _cached_tabular(path: str, objective: str, report: str, space_spec: dict[str, Any],
                    skip_bad_rows: bool = False) -> TabularBenchmark:
    from engine.arch.space import space_from_spec

    key = (path, objective, report, repr(sorted(space_spec.items())), skip_bad_rows)
    if key not in _TABLES:
        space = space_from_spec(space_spec)
        assert isinstance(space, NB201Space)
        _TABLES[key] = TabularBenchmark(path, objective, report, space,
                                        skip_bad_rows=skip_bad_rows)
    return _TABLES[key]


# -- train and evaluate -----------------------------------------------------------------------

_DATASETS: dict[tuple[str, int, bool], Any] = {}


def cached_dataset(name: str, seed: int = 0, skip_bad_images: bool = False) -> Any:
    """Load a dataset once per process (workers of a process pool each load their own)."""
    key = (name, seed, skip_bad_images)
    if key not in _DATASETS:
        from engine.data import load_dataset

        _DATASETS[key] = load_dataset(name, seed=seed, skip_bad_images=skip_bad_images)
    return _DATASETS[key]


class TrainEvaluator(Evaluator):
    """Train with a short proxy budget; ``budget`` (successive halving) overrides epochs."""

    objective = "val_accuracy"
    report = "test_accuracy"

    def __init__(self, dataset: str = "digits", *, epochs: int = 1, subset: int | None = None,
                 batch_size: int = 64, lr: float = 0.05, data_seed: int = 0,
                 train_options: dict[str, Any] | None = None,
                 skip_bad_images: bool = False) -> None:
        self.dataset = dataset
        self.epochs = int(epochs)
        self.subset = subset
        self.batch_size = int(batch_size)
        self.lr = float(lr)
        self.data_seed = int(data_seed)
        self.train_options = dict(train_options or {})
        self.skip_bad_images = bool(skip_bad_images)

    def splits(self) -> Any:
        return cached_dataset(self.dataset, self.data_seed, self.skip_bad_images)

    def notes(self) -> list[str]:
        if not self.skip_bad_images:
            return []
        from engine.data import skipped_note

        note = skipped_note(self.splits())
        return [note] if note else []

    def adapt(self, design: Design) -> Design:
        from engine.data import adapt_design

        return adapt_design(design, self.splits())

    def evaluated_design(self, design: Design) -> Design:
        return self.adapt(design)

    def costs(self, design: Design, code: Code, names: tuple[str, ...]) -> dict[str, float]:
        return design_costs(self.adapt(design), names)

    def config(self, seed: int, budget: float | None) -> Any:
        from engine.train import TrainConfig

        epochs = self.epochs if budget is None else max(1, int(round(budget)))
        opts = {"augment": False, "checkpoint": False, **self.train_options}
        return TrainConfig(epochs=epochs, batch_size=self.batch_size, lr=self.lr, seed=seed,
                           subset=self.subset, **opts)

    def evaluate(self, design: Design, code: Code, *, trial: int, seed: int,
                 budget: float | None = None, context: dict[str, Any] | None = None
                 ) -> dict[str, Any]:
        from engine.train import train_design

        ctx = context or {}
        config = self.config(seed, budget)
        result = train_design(self.adapt(design), self.splits(), config,
                              store=ctx.get("store"), experiment_id=ctx.get("experiment_id"),
                              parent_id=ctx.get("parent_id"), token=ctx.get("token"),
                              emit=ctx.get("emit"),
                              checkpoint_path=ctx.get("checkpoint_path") if config.checkpoint
                              else None)
        metrics = {k: float(v) for k, v in result.items()
                   if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "run_id"}
        metrics["run_id"] = result.get("run_id")
        if budget is not None:
            metrics["budget"] = float(budget)
        return metrics

    def spec(self) -> dict[str, Any]:
        return {"kind": "train", "dataset": self.dataset, "epochs": self.epochs,
                "subset": self.subset, "batch_size": self.batch_size, "lr": self.lr,
                "data_seed": self.data_seed, "train_options": self.train_options,
                **({"skip_bad_images": True} if self.skip_bad_images else {})}


def evaluator_from_spec(spec: dict[str, Any], space: SearchSpace) -> Evaluator:
    """Rebuild an evaluator from ``Evaluator.spec()`` (stored with the experiment)."""
    kind = spec.get("kind")
    if kind == "tabular":
        if not isinstance(space, NB201Space):
            raise EvaluatorError("a tabular benchmark needs the nas-bench-201 space")
        return TabularBenchmark(spec["path"], spec["objective"], spec.get("report"), space,
                                skip_bad_rows=bool(spec.get("skip_bad_rows", False)))
    if kind == "train":
        return TrainEvaluator(spec.get("dataset", "digits"), epochs=spec.get("epochs", 1),
                              subset=spec.get("subset"), batch_size=spec.get("batch_size", 64),
                              lr=spec.get("lr", 0.05), data_seed=spec.get("data_seed", 0),
                              train_options=spec.get("train_options"),
                              skip_bad_images=bool(spec.get("skip_bad_images", False)))
    raise EvaluatorError(f"unknown evaluator kind {kind!r}")
