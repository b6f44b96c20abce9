"""Typed records of the store's rows: what the views, the CLI and the jobs read.

``Store.get_run/runs/runs_with_designs/lineage`` return :class:`RunRecord`,
``get_experiment/experiments`` :class:`ExperimentRecord` and ``trials``
:class:`TrialRecord` (in the spirit of optuna's ``FrozenTrial``).  Records are frozen;
JSON columns arrive decoded.  A trial's objective values are read with the names its
experiment's stored config gives (:func:`objective_names`), so a tabular objective
column such as ``valid_acc`` is what every view plots.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

COST_NAMES = ("params", "macs", "latency_ms")
DEFAULT_OBJECTIVE = "val_accuracy"
DEFAULT_REPORT = "test_accuracy"


def number(value: Any) -> float | None:
    """``value`` as a finite float, else None (bools are not numbers)."""
    if isinstance(value, bool):
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def evaluator_objective(config: dict[str, Any] | None) -> str:
    """The metric a search's evaluator maximises (its stored spec, else the trainer's)."""
    ev = _dict(_dict(config).get("evaluator"))
    return str(ev.get("objective") or DEFAULT_OBJECTIVE)


def objective_names(config: dict[str, Any] | None) -> tuple[str, ...]:
    """The metric names of a search config's objectives; the first is maximised, the
    others (costs) minimised.  ``"accuracy"``/``"objective"`` name the evaluator's
    objective column."""
    cfg = _dict(config)
    main = evaluator_objective(cfg)
    names = cfg.get("objectives") or ["accuracy"]
    out = [main if n in ("accuracy", "objective") else str(n) for n in names]
    return tuple(dict.fromkeys(out))


class _Row:
    def to_dict(self) -> dict[str, Any]:
        """The record as a plain dict (JSON output, tables)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]


def _pick(cls: type, row: dict[str, Any], **extra: Any) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {**{k: v for k, v in row.items() if k in names}, **extra}


@dataclass(frozen=True)
class ExperimentRecord(_Row):
    id: int
    kind: str
    name: str = ""
    status: str = "running"
    config: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    created: str | None = None
    finished: str | None = None
    environment: dict[str, Any] | None = None
    pid: int | None = None
    host: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ExperimentRecord:
        return cls(**_pick(cls, row, config=_dict(row.get("config")),
                           name=row.get("name") or ""))

    @property
    def objectives(self) -> tuple[str, ...]:
        """Objective metric names (searches); empty for other kinds."""
        return objective_names(self.config) if self.kind == "search" else ()

    @property
    def report(self) -> str:
        """The metric reported next to the objective (test accuracy by default)."""
        ev = _dict(self.config.get("evaluator"))
        return str(ev.get("report") or (ev.get("objective") if ev.get("kind") == "tabular"
                                        else DEFAULT_REPORT))

    @property
    def strategy(self) -> str | None:
        return self.config.get("strategy") if self.kind == "search" else None

    @property
    def evaluator(self) -> dict[str, Any]:
        return _dict(self.config.get("evaluator"))

    @property
    def constraints(self) -> dict[str, float]:
        return {k: float(v) for k, v in _dict(self.config.get("constraints")).items()
                if number(v) is not None}

    @property
    def dataset(self) -> str:
        ev = self.evaluator
        return str(self.config.get("dataset_name") or ev.get("dataset")
                   or ("tabular" if ev.get("kind") == "tabular" else ""))


@dataclass(frozen=True)
class RunRecord(_Row):
    id: int
    kind: str
    status: str
    experiment_id: int | None = None
    design_hash: str | None = None
    parent_id: int | None = None
    recipe: dict[str, Any] | None = None
    params: int | None = None
    macs: int | None = None
    latency_ms: float | None = None
    size_bytes: int | None = None
    best_val_accuracy: float | None = None
    test_accuracy: float | None = None
    epochs_done: int | None = None
    checkpoint: str | None = None
    error: str | None = None
    created: str | None = None
    finished: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    pid: int | None = None
    host: str | None = None
    # filled by runs_with_designs (the joined design and experiment)
    design_name: str | None = None
    design_kind: str | None = None
    experiment_name: str | None = None
    experiment_kind: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> RunRecord:
        return cls(**_pick(cls, row, config=_dict(row.get("config"))))

    @property
    def accuracy(self) -> float | None:
        """Test accuracy when measured, else the best validation accuracy."""
        test = number(self.test_accuracy)
        return test if test is not None else number(self.best_val_accuracy)

    @property
    def costs(self) -> dict[str, float]:
        return {k: v for k in COST_NAMES if (v := number(getattr(self, k))) is not None}


@dataclass(frozen=True)
class TrialRecord(_Row):
    """One trial of a search.  ``objectives`` maps the experiment's objective names to
    this trial's values (None when missing); ``design_hash`` is the hash of the design
    that was evaluated (the trained run's design, else the stored ``arch``)."""

    experiment_id: int
    trial: int
    status: str = "finished"
    run_id: int | None = None
    arch: dict[str, Any] | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    created: str | None = None
    id: int | None = None
    objectives: dict[str, float | None] = field(default_factory=dict)
    design_hash: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any], objectives: tuple[str, ...] = (),
                 design_hash: str | None = None) -> TrialRecord:
        metrics = _dict(row.get("metrics"))
        arch = row.get("arch") if isinstance(row.get("arch"), dict) else None
        if design_hash is None and arch:
            design_hash = arch_hash(arch)
        return cls(**_pick(cls, row, metrics=metrics, arch=arch,
                           objectives={o: number(metrics.get(o)) for o in objectives},
                           design_hash=design_hash, trial=int(row.get("trial") or 0)))

    @property
    def objective(self) -> float | None:
        """The value of the first (maximised) objective."""
        return next(iter(self.objectives.values()), None)

    @property
    def complete(self) -> bool:
        """Finished with a value for every objective: a point of the front."""
        return self.status == "finished" and bool(self.objectives) and all(
            v is not None for v in self.objectives.values())

    @property
    def parent(self) -> int | None:
        """The trial this one was mutated from (evolution), if any."""
        p = self.metrics.get("parent_trial")
        return int(p) if isinstance(p, int) and not isinstance(p, bool) else None

    @property
    def code(self) -> tuple[Any, ...] | None:
        c = self.metrics.get("code")
        return tuple(c) if isinstance(c, list) else None

    @property
    def costs(self) -> dict[str, float]:
        return {k: v for k in COST_NAMES if (v := number(self.metrics.get(k))) is not None}

    @property
    def worker(self) -> str | None:
        """Where a pool or Ray worker ran the trial ("host (node N, pid P)"); None for a
        trial run in the search's own process."""
        w = self.metrics.get("worker")
        if not isinstance(w, dict) or not w.get("host"):
            return None
        where = ", ".join(f"{k} {w[k]}" for k in ("node", "pid") if w.get(k) is not None)
        return f"{w['host']} ({where})" if where else str(w["host"])

    def value(self, name: str) -> float | None:
        """A metric of this trial as a finite number (None when missing)."""
        if name in self.objectives:
            return self.objectives[name]
        return number(self.metrics.get(name))

    def numeric_metrics(self) -> dict[str, float]:
        return {k: v for k, m in self.metrics.items() if (v := number(m)) is not None}


def arch_hash(arch: dict[str, Any]) -> str | None:
    """The design hash of a stored design dict (None when it no longer decodes)."""
    from engine.arch.serialize import design_from_dict, design_hash

    try:
        return design_hash(design_from_dict(arch, validate=False))
    except Exception:  # noqa: BLE001 - an old or damaged record keeps its other fields
        return None
