"""Data behind the Pareto explorer: points, Pareto/hypervolume helpers, design diffs.

Pure Python and numpy (no Qt); the front and the hypervolume come from
``engine.search.pareto``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.events import TrialFinished

AXES = {"params": "parameters", "macs": "MACs (multiply-adds)", "latency_ms": "latency (ms)"}
ACCURACY_KEYS = ("accuracy", "val_accuracy", "best_val_accuracy", "test_accuracy", "objective")


@dataclass
class TrialPoint:
    """One point on the plot: a trial or a run, with its figures."""

    key: str
    group: str
    accuracy: float
    costs: dict[str, float]
    run_id: int | None = None
    parent_run_id: int | None = None
    experiment_id: int | None = None
    trial: int | None = None
    arch: dict[str, Any] | None = None
    design_hash: str | None = None
    figures: dict[str, Any] = field(default_factory=dict)

    def label(self) -> str:
        if self.trial is not None:
            return f"#{self.experiment_id} trial {self.trial}"
        return f"run {self.run_id}"


def _num(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def accuracy_of(metrics: dict[str, Any]) -> float | None:
    """The accuracy figure of a metrics dict (the first known key that is a number)."""
    for key in ACCURACY_KEYS:
        v = _num(metrics.get(key))
        if v is not None:
            return v
    return None


def front_indices(cost: np.ndarray, acc: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated points (minimize cost, maximize accuracy)."""
    from engine.search.pareto import pareto_front

    if len(cost) == 0:
        return np.zeros(0, dtype=int)
    return np.asarray(pareto_front(np.column_stack([cost, acc]), [False, True]), dtype=int)


def hypervolume(cost: np.ndarray, acc: np.ndarray, ref_cost: float, ref_acc: float = 0.0
                ) -> float:
    """Area dominated by the points, bounded by (ref_cost, ref_acc)."""
    from engine.search.pareto import hypervolume_2d

    idx = front_indices(cost, acc)
    pts = [(float(cost[i]), float(acc[i])) for i in idx]
    return hypervolume_2d(pts, (ref_cost, ref_acc), [False, True]) if pts else 0.0


def reference_cost(max_cost: float) -> float:
    """A stable reference for the hypervolume: the next power of ten above the costs."""
    return float(10.0 ** math.ceil(math.log10(max(max_cost, 1e-12)) + 1e-9))


def _short(value: Any, limit: int = 70) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def design_diff(a: Any, b: Any, path: str = "") -> list[str]:
    """Readable differences between two design dicts (GUI positions and names ignored).

    Lists are compared item by item; items only one side has are listed as added or
    removed, so a cell with one more node reads as one line, not as the whole list.
    """
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for k in sorted(set(a) | set(b), key=str):
            if k in ("positions", "name"):
                continue
            sub = f"{path}.{k}" if path else str(k)
            if k not in a:
                out.append(f"{sub}: added {_short(b[k])}")
            elif k not in b:
                out.append(f"{sub}: removed {_short(a[k])}")
            else:
                out.extend(design_diff(a[k], b[k], sub))
        return out
    if isinstance(a, list) and isinstance(b, list):
        out = []
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            out.extend(design_diff(x, y, f"{path}[{i}]"))
        out += [f"{path}[{i}]: removed {_short(x)}" for i, x in enumerate(a) if i >= len(b)]
        out += [f"{path}[{i}]: added {_short(y)}" for i, y in enumerate(b) if i >= len(a)]
        return out
    return [] if a == b else [f"{path}: {_short(a)} → {_short(b)}"]


def _fmt(value: Any) -> str:
    v = _num(value)
    if v is None:
        return "—" if value is None else str(value)
    if abs(v) >= 1e6:
        return f"{v / 1e6:.2f} M"
    if abs(v) >= 1e4:
        return f"{v / 1e3:.1f} k"
    if v == int(v):
        return str(int(v))
    return f"{v:.4f}"


def _as_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value:
        try:
            out = json.loads(value)
        except ValueError:
            return {}
        return out if isinstance(out, dict) else {}
    return {}


def point_of_trial(event: TrialFinished, group: str) -> TrialPoint | None:
    """The point of a finished trial; None when it has no accuracy (rejected, failed)."""
    metrics = dict(event.metrics or {})
    acc = accuracy_of(metrics)
    if acc is None or event.status not in ("finished", "ok", "completed"):
        return None
    return TrialPoint(key=f"t{event.experiment_id}:{event.trial}", group=group, accuracy=acc,
                      costs={k: v for k in AXES if (v := _num(metrics.get(k))) is not None},
                      run_id=event.run_id, experiment_id=event.experiment_id,
                      trial=event.trial, arch=event.arch, figures=metrics)


def store_points(store: Any, experiment_ids: list[int] | None,
                 labels: dict[int, str]) -> list[TrialPoint]:
    """Points for the trials and runs in a store; fills ``labels``.

    Lineage (``parent_run_id``) is kept for compressed runs: the arrows of the plot.
    """
    experiments = {e["id"]: e for e in store.experiments()}
    ids = experiment_ids if experiment_ids is not None else list(experiments)
    runs = store.runs()
    points: list[TrialPoint] = []
    trial_runs: set[int] = set()
    for exp_id in ids:
        exp = experiments.get(exp_id, {})
        strategy = _as_dict(exp.get("config")).get("strategy") or exp.get("kind") or ""
        labels.setdefault(exp_id, f"#{exp_id} {strategy}".strip())
        for row in store.trials(exp_id):
            ev = TrialFinished("store", experiment_id=exp_id, run_id=row.get("run_id"),
                               trial=int(row.get("trial") or 0),
                               status=row.get("status") or "finished",
                               arch=_as_dict(row.get("arch")) or None,
                               metrics=_as_dict(row.get("metrics")))
            point = point_of_trial(ev, labels[exp_id])
            if point is not None:
                if point.run_id is not None:
                    trial_runs.add(int(point.run_id))
                points.append(point)
    for run in runs:
        exp_id = run.get("experiment_id")
        if run["id"] in trial_runs or (experiment_ids is not None and exp_id not in ids):
            continue
        acc = accuracy_of(run)
        if acc is None:
            continue
        group = "compressed" if run.get("kind") == "compress" else labels.get(
            exp_id, f"{run.get('kind') or 'run'} runs")
        points.append(TrialPoint(
            key=f"r{run['id']}", group=group, accuracy=acc,
            costs={k: v for k in AXES if (v := _num(run.get(k))) is not None},
            run_id=run["id"], experiment_id=exp_id,
            parent_run_id=run.get("parent_id") if run.get("kind") == "compress" else None,
            design_hash=run.get("design_hash"), figures=dict(run)))
    return points


def details_html(pts: list[TrialPoint], diff: list[str]) -> str:
    """The side pane for one selected point, or two compared side by side."""
    head = "".join(f"<th>{p.label()}</th>" for p in pts)
    rows = "".join(
        f"<tr><td>{k}</td>" + "".join(
            f"<td>{_fmt(p.accuracy if k == 'accuracy' else p.costs.get(k))}</td>"
            for p in pts) + "</tr>" for k in ["accuracy", *AXES])
    html = (f"<h3>{'Comparison' if len(pts) == 2 else 'Selected'}</h3>"
            f"<table border='1' cellspacing='0' cellpadding='3'><tr><th></th>{head}</tr>"
            f"{rows}</table>")
    if len(pts) == 2:
        items = "".join(f"<li><code>{line}</code></li>" for line in diff[:60])
        return html + f"<h4>Design differences</h4><ul>{items}</ul>"
    return html + "<p>Ctrl+click another point to compare; double-click to open.</p>"
