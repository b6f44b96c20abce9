"""The Pareto explorer's point model: points, columns, front, hypervolume, design diffs.

Pure Python and numpy (no Qt): ``ParetoModel`` holds the points and the per-point
columns the widget draws; the front, best and hypervolume come from
``engine.search.pareto.summarize_points`` (the engine's one definition).  A trial's
accuracy is its experiment's own first objective (``TrialRecord.objective``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.events import JobStarted, TrialFinished
from engine.search.pareto import summarize_points
from engine.store.records import RunRecord, TrialRecord, number

AXES = {"params": "parameters", "macs": "MACs (multiply-adds)", "latency_ms": "latency (ms)"}
HV_SAMPLES = 120


@dataclass
class TrialPoint:
    """One point on the plot: a trial or a run, with its figures.  ``accuracy`` is the
    value of the objective named ``objective``."""

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
    objective: str = "accuracy"

    def label(self) -> str:
        if self.trial is not None:
            return f"#{self.experiment_id} trial {self.trial}"
        return f"run {self.run_id}"

    def value(self, name: str) -> float | None:
        """``"accuracy"`` (or the objective's own name) or a cost of this point."""
        if name in ("accuracy", self.objective):
            return self.accuracy
        return number(self.costs.get(name))


_num = number


def point_of_record(record: TrialRecord, group: str) -> TrialPoint | None:
    """The point of a finished trial; None when it has no objective value (rejected,
    failed)."""
    acc = record.objective
    if acc is None or record.status != "finished":
        return None
    return TrialPoint(key=f"t{record.experiment_id}:{record.trial}", group=group,
                      accuracy=acc, costs=record.costs, run_id=record.run_id,
                      experiment_id=record.experiment_id, trial=record.trial,
                      arch=record.arch, design_hash=record.design_hash,
                      figures=record.numeric_metrics(),
                      objective=next(iter(record.objectives), "accuracy"))


def point_of_run(run: RunRecord, group: str) -> TrialPoint | None:
    """The point of a trained or compressed run; None without an accuracy."""
    acc = run.accuracy
    if acc is None:
        return None
    return TrialPoint(key=f"r{run.id}", group=group, accuracy=acc, costs=run.costs,
                      run_id=run.id, experiment_id=run.experiment_id,
                      parent_run_id=run.parent_id if run.kind == "compress" else None,
                      design_hash=run.design_hash, figures=run.to_dict())


def store_points(store: Any, experiment_ids: list[int] | None,
                 labels: dict[int, str]) -> list[TrialPoint]:
    """Points for the trials and runs in a store; fills ``labels``.

    Lineage (``parent_run_id``) is kept for compressed runs: the arrows of the plot.
    """
    experiments = {e.id: e for e in store.experiments()}
    ids = experiment_ids if experiment_ids is not None else list(experiments)
    points: list[TrialPoint] = []
    trial_runs: set[int] = set()
    for exp_id in ids:
        exp = experiments.get(exp_id)
        strategy = (exp.strategy or exp.kind) if exp is not None else ""
        labels.setdefault(exp_id, f"#{exp_id} {strategy}".strip())
        for rec in store.trials(exp_id):
            point = point_of_record(rec, labels[exp_id])
            if point is not None:
                if point.run_id is not None:
                    trial_runs.add(int(point.run_id))
                points.append(point)
    for run in store.runs():
        if run.id in trial_runs or (experiment_ids is not None and run.experiment_id not in ids):
            continue
        group = "compressed" if run.kind == "compress" else labels.get(
            run.experiment_id, f"{run.kind or 'run'} runs")
        point = point_of_run(run, group)
        if point is not None:
            points.append(point)
    return points


class ParetoModel:
    """The explorer's points, with per-point columns kept alongside so a redraw is
    vectorized; the front and the hypervolume history for a cost axis."""

    def __init__(self) -> None:
        self.points: list[TrialPoint] = []
        self.group_ids: dict[str, int] = {}
        self.group_labels: dict[int, str] = {}
        self.job_labels: dict[str, str] = {}
        self.version = 0
        self.reset()

    def reset(self) -> None:
        self.points = []
        self._keys: dict[str, int] = {}
        self.acc: list[float] = []
        self.cost: dict[str, list[float]] = {k: [] for k in AXES}
        self.gid: list[int] = []
        self.by_run: dict[int, int] = {}
        self.children: set[int] = set()
        self.version += 1
        self._hv_key: tuple[Any, ...] = ()
        self._hv_cache: dict[int, float] = {}

    # -- feeding ------------------------------------------------------------------------
    def add(self, point: TrialPoint) -> str | None:
        """Add or replace a point (by key); returns its group when the group is new."""
        new_group = None
        gid = self.group_ids.get(point.group)
        if gid is None:
            gid = self.group_ids[point.group] = len(self.group_ids)
            new_group = point.group
        row = [number(point.costs.get(k)) for k in AXES]
        i = self._keys.get(point.key)
        if i is None:
            i = self._keys[point.key] = len(self.points)
            self.points.append(point)
            self.acc.append(point.accuracy)
            self.gid.append(gid)
            for k, v in zip(AXES, row, strict=True):
                self.cost[k].append(np.nan if v is None else v)
        else:
            self.points[i] = point
            self.acc[i], self.gid[i] = point.accuracy, gid
            for k, v in zip(AXES, row, strict=True):
                self.cost[k][i] = np.nan if v is None else v
            self.version += 1
        if point.run_id is not None:
            self.by_run[point.run_id] = i
        if point.parent_run_id is not None:
            self.children.add(i)
        return new_group

    def group_of(self, experiment_id: int, job_id: str | None = None) -> str:
        """The legend label of an experiment; a live search's job names its strategy."""
        if experiment_id not in self.group_labels and job_id is not None:
            strategy = self.job_labels.get(job_id, "search")
            self.group_labels[experiment_id] = f"#{experiment_id} {strategy}"
        return self.group_labels.get(experiment_id, f"experiment {experiment_id}")

    def point_of_event(self, event: object) -> TrialPoint | None:
        """The point a job event adds (a finished trial), after noting search labels."""
        if isinstance(event, JobStarted) and event.kind == "search":
            self.job_labels[event.job_id] = event.description.split(" search")[0]
        if isinstance(event, TrialFinished) and event.record is not None:
            group = self.group_of(event.record.experiment_id, event.job_id)
            return point_of_record(event.record, group)
        return None

    # -- the front ------------------------------------------------------------------------
    def visible(self, axis: str, log_x: bool) -> np.ndarray:
        """Indices of points that have a figure on the cost axis."""
        cost = np.asarray(self.cost[axis], dtype=float)
        ok = np.isfinite(cost)
        if log_x:
            ok &= cost > 0
        return np.flatnonzero(ok)

    def front(self, idx: np.ndarray, axis: str, constraints: dict[str, float]
              ) -> tuple[list[int], list[tuple[int, float]]]:
        """The front among points ``idx`` (sorted by cost) and the hypervolume after
        every few arrivals (about ``HV_SAMPLES`` samples), all at the final reference.

        Samples already computed are kept while the reference and the step stay the
        same, so live updates only compute the new ones."""
        if len(idx) == 0:
            return [], []
        cost = np.asarray(self.cost[axis], dtype=float)[idx]
        acc = np.asarray(self.acc, dtype=float)[idx]
        values = np.column_stack([acc, cost])
        names = ("accuracy", axis)
        summary = summarize_points(values, names, constraints, best=False)
        front = np.asarray(summary.front, dtype=int)
        order = front[np.argsort(cost[front], kind="stable")] if len(front) else front
        ref = summary.reference
        n = len(idx)
        step = max(1, math.ceil(n / HV_SAMPLES))
        key = (axis, ref, step, tuple(sorted(constraints.items())))
        if key != self._hv_key:
            self._hv_key, self._hv_cache = key, {}
        ns = list(range(step, n + 1, step))
        if not ns or ns[-1] != n:
            ns.append(n)
        if ref is not None:
            self._hv_cache[n] = summary.hypervolume or 0.0
            for m in ns:
                if m not in self._hv_cache:
                    hv = summarize_points(values[:m], names, constraints, reference=ref,
                                          best=False).hypervolume
                    self._hv_cache[m] = hv or 0.0
        # the last sample may be a partial step; drop stale partial ones
        self._hv_cache = {m: v for m, v in self._hv_cache.items() if m % step == 0 or m == n}
        history = [(m, self._hv_cache[m]) for m in ns if m in self._hv_cache]
        return [int(i) for i in idx[order]], history

    def lineage(self, placed: np.ndarray) -> list[tuple[int, int]]:
        """(parent, child) index pairs of compressed runs whose both ends are placed."""
        segs = []
        for i in sorted(self.children):
            j = self.by_run.get(self.points[i].parent_run_id)
            if j is not None and placed[i] and placed[j]:
                segs.append((j, i))
        return segs

    # -- designs --------------------------------------------------------------------------
    def design_of(self, i: int, store: Any = None) -> Any:
        """The design point ``i`` evaluated: the stored design of its hash (the run's,
        adapted to the dataset), else its trial JSON."""
        p = self.points[i]
        h = p.design_hash
        if store is not None:
            if h is None and p.run_id is not None:
                h = store.get_run(p.run_id).design_hash
            if h:
                try:
                    return store.get_design(h)
                except Exception:  # noqa: BLE001 - fall back to the trial's JSON
                    if not p.arch:
                        raise
        if p.arch:
            from engine.arch.serialize import design_from_dict

            return design_from_dict(p.arch)
        raise LookupError(f"{p.label()} has no stored design")

    def arch_of(self, i: int, store: Any = None) -> dict[str, Any] | None:
        try:
            from engine.arch.serialize import design_to_dict

            return design_to_dict(self.design_of(i, store))
        except Exception:  # noqa: BLE001 - the comparison just omits the diff
            return self.points[i].arch

    def comparison(self, selected: list[int], store: Any = None
                   ) -> tuple[list[TrialPoint], list[str]]:
        """The selected points and the diff of their designs (two selected)."""
        pts = [self.points[i] for i in selected]
        if len(pts) < 2:
            return pts, []
        a, b = self.arch_of(selected[0], store), self.arch_of(selected[1], store)
        if a is None or b is None:
            diff = ["(a design is not available for comparison)"]
        else:
            diff = design_diff(a, b) or ["(same architecture)"]
        for p in pts:   # compressed runs share their parent's design: say what was done
            recipe = p.figures.get("recipe")
            if recipe:
                diff.append(f"{p.label()} recipe: {json.dumps(recipe, sort_keys=True)}")
        return pts, diff

    def describe(self, i: int) -> str:
        p = self.points[i]
        lines = [p.label(), p.group, f"{p.objective} {p.accuracy:.4f}"]
        lines += [f"{AXES[k].split(' ')[0]} {_fmt(v)}" for k, v in p.costs.items()]
        if p.parent_run_id is not None:
            lines.append(f"compressed from run {p.parent_run_id}")
        return "\n".join(lines)


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
