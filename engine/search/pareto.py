"""Multi-objective helpers: non-dominated sorting, Pareto front, 2-D hypervolume,
scalarization, and ``front_summary``: the one definition of front, best and hypervolume.

Points are sequences of objective values.  ``maximize`` says, per objective, whether
larger is better (default: minimise everything).  Internally every objective is turned
into a minimisation.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Point = Sequence[float]


def _as_min(points: Sequence[Point], maximize: Sequence[bool] | None) -> list[tuple[float, ...]]:
    if not points:
        return []
    m = len(points[0])
    flags = list(maximize) if maximize is not None else [False] * m
    if len(flags) != m:
        raise ValueError(f"maximize has {len(flags)} entries for {m} objectives")
    signs = [-1.0 if f else 1.0 for f in flags]
    out = []
    for i, p in enumerate(points):
        if len(p) != m:
            raise ValueError(f"point {i} has {len(p)} objectives, expected {m}")
        out.append(tuple(s * float(v) for s, v in zip(signs, p, strict=True)))
    return out


def dominates(a: Point, b: Point) -> bool:
    """a dominates b under minimisation: no worse everywhere, better somewhere."""
    return all(x <= y for x, y in zip(a, b, strict=True)) and any(
        x < y for x, y in zip(a, b, strict=True))


def _sort_2d(pts: list[tuple[float, ...]]) -> list[list[int]]:
    """Fronts for two objectives in O(n log n): sweep by the first objective; each front's
    last point has the smallest second objective so far, and those minima increase
    from front to front, so a binary search places each point."""
    order = sorted(range(len(pts)), key=pts.__getitem__)
    fronts: list[list[int]] = []
    lasts: list[float] = []     # second objective of each front's most recent point
    prev, prev_front = None, -1
    for i in order:
        p = pts[i]
        if p == prev:
            k = prev_front
        else:
            k = bisect.bisect_right(lasts, p[1])
            if k == len(fronts):
                fronts.append([])
                lasts.append(p[1])
            else:
                lasts[k] = p[1]
        fronts[k].append(i)
        prev, prev_front = p, k
    return fronts


def _sort_nd(pts: list[tuple[float, ...]]) -> list[list[int]]:
    """Deb's fast non-dominated sort, O(m n^2)."""
    n = len(pts)
    dominated_by: list[list[int]] = [[] for _ in range(n)]
    count = [0] * n
    for i in range(n):
        for j in range(i + 1, n):
            if dominates(pts[i], pts[j]):
                dominated_by[i].append(j)
                count[j] += 1
            elif dominates(pts[j], pts[i]):
                dominated_by[j].append(i)
                count[i] += 1
    front = [i for i in range(n) if count[i] == 0]
    fronts = []
    while front:
        fronts.append(sorted(front))
        nxt = []
        for i in front:
            for j in dominated_by[i]:
                count[j] -= 1
                if count[j] == 0:
                    nxt.append(j)
        front = nxt
    return fronts


def non_dominated_sort(points: Sequence[Point],
                       maximize: Sequence[bool] | None = None) -> list[list[int]]:
    """Indices of the points grouped in fronts, best front first."""
    pts = _as_min(points, maximize)
    if not pts:
        return []
    if len(pts[0]) == 1:
        pts = [(p[0], 0.0) for p in pts]
    if len(pts[0]) == 2:
        return [sorted(f) for f in _sort_2d(pts)]
    return _sort_nd(pts)


def pareto_front(points: Sequence[Point], maximize: Sequence[bool] | None = None) -> list[int]:
    """Indices of the non-dominated points (sorted).  Two objectives use numpy: one sort
    by the first objective and a running minimum of the second, O(n log n)."""
    if len(points) == 0:
        return []
    m = len(points[0])
    if m != 2 or (len(points) < 2000 and not hasattr(points, "shape")):
        return non_dominated_sort(points, maximize)[0]
    import numpy as np

    if isinstance(points, np.ndarray):
        arr = np.asarray(points, dtype=float)
    else:
        try:
            arr = np.fromiter(itertools.chain.from_iterable(points), dtype=float,
                              count=2 * len(points)).reshape(-1, 2)
        except ValueError:
            raise ValueError("points must be a sequence of 2-value points") from None
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError("points must be a sequence of 2-value points")
    if maximize is not None:
        arr = arr * np.where(np.asarray(maximize, dtype=bool), -1.0, 1.0)
    # sort by the first objective only (quicksort); within a tie only the group's
    # smallest second objective can be on the front, and only if it beats every group
    # before it
    order = np.argsort(arr[:, 0])
    f1, f2 = arr[order, 0], arr[order, 1]
    new_group = np.empty(len(f1), dtype=bool)
    new_group[0] = True
    np.not_equal(f1[1:], f1[:-1], out=new_group[1:])
    starts = np.flatnonzero(new_group)
    group_min = np.minimum.reduceat(f2, starts)
    before = np.empty_like(group_min)
    before[0] = np.inf
    np.minimum.accumulate(group_min[:-1], out=before[1:])
    group = np.cumsum(new_group) - 1
    ok = (group_min < before)[group] & (f2 == group_min[group])
    return np.sort(order[ok]).tolist()


def hypervolume_2d(points: Sequence[Point], reference: Point,
                   maximize: Sequence[bool] | None = None) -> float:
    """Area dominated by the points and bounded by ``reference`` (2 objectives)."""
    pts = _as_min(points, maximize)
    ref = _as_min([reference], maximize)[0]
    if len(ref) != 2:
        raise ValueError("hypervolume_2d needs two objectives")
    inside = [p for p in pts if p[0] < ref[0] and p[1] < ref[1]]
    if not inside:
        return 0.0
    front = [inside[i] for i in _sort_2d(inside)[0]]
    front.sort()
    volume, y_prev = 0.0, ref[1]
    for x, y in front:
        if y < y_prev:
            volume += (ref[0] - x) * (y_prev - y)
            y_prev = y
    return volume


def scalarize(accuracy: float, costs: Sequence[float] = (), targets: Sequence[float] = (),
              weights: Sequence[float] = ()) -> float:
    """MnasNet-style reward ``accuracy * prod((cost / target) ** weight)``.

    Weights are negative (default -0.07) so that cheaper models score higher; without
    costs this is the accuracy itself.
    """
    value = float(accuracy)
    for i, cost in enumerate(costs):
        target = targets[i] if i < len(targets) and targets[i] else 1.0
        w = weights[i] if i < len(weights) else -0.07
        value *= math.pow(max(float(cost), 1e-12) / float(target), w)
    return value


# -- the one definition of front, best and hypervolume ----------------------------------------

@dataclass(frozen=True)
class FrontSummary:
    """What ``front_summary`` found.  ``points`` are the complete, feasible items (input
    order); ``front`` the non-dominated ones among them (input order); ``best`` the one
    with the highest :func:`score`; ``hypervolume`` (two objectives only) is the area
    dominated by the front and bounded by ``reference``."""

    objectives: tuple[str, ...]
    points: tuple[Any, ...] = ()
    front: tuple[Any, ...] = ()
    best: Any = None
    best_score: float | None = None
    hypervolume: float | None = None
    reference: tuple[float, ...] | None = None


@dataclass(frozen=True)
class FrontIndices:
    """``summarize_points``' answer, as indices into the points it was given."""

    kept: list[int]
    front: list[int]
    best: int | None
    best_score: float | None
    hypervolume: float | None
    reference: tuple[float, float] | None


def _limit(constraints: Mapping[str, float] | None, name: str) -> float | None:
    v = (constraints or {}).get(f"max_{name}")
    return float(v) if v is not None else None


def score(values: Sequence[float], objectives: Sequence[str],
          constraints: Mapping[str, float] | None = None) -> float:
    """The scalar a search maximises and "best" ranks by: the first objective itself, or
    with cost objectives the MnasNet reward (targets: the cost limits, else 1)."""
    return scalarize(values[0], list(values[1:]),
                     [_limit(constraints, o) for o in objectives[1:]])


def hypervolume_reference(costs: Iterable[float], cost_name: str,
                          constraints: Mapping[str, float] | None = None) -> tuple[float, float]:
    """Zero for the (maximised) first objective; the cost limit, else the largest cost
    seen, for the (minimised) second."""
    limit = _limit(constraints, cost_name)
    return 0.0, float(limit if limit is not None else max(costs))


def summarize_points(points: Any, objectives: Sequence[str],
                     constraints: Mapping[str, float] | None = None, *,
                     reference: tuple[float, float] | None = None,
                     best: bool = True) -> FrontIndices:
    """Front, best and hypervolume of an (n, m) array of objective values (first
    maximised, the others minimised; NaN means missing).  Rows with a missing value or
    above a ``max_<objective>`` limit are left out.  The hypervolume (two objectives) is
    bounded by ``reference``, by default :func:`hypervolume_reference`.  Ties for best
    go to the earliest row."""
    import numpy as np

    arr = np.asarray(points, dtype=float).reshape(-1, len(objectives))
    ok = np.isfinite(arr).all(axis=1)
    for j, name in enumerate(objectives[1:], start=1):
        lim = _limit(constraints, name)
        if lim is not None:
            ok &= arr[:, j] <= lim
    kept = np.flatnonzero(ok)
    if not len(kept):
        return FrontIndices([], [], None, None, None, None)
    sub = arr[kept]
    maximize = [True] + [False] * (len(objectives) - 1)
    front = kept[np.asarray(pareto_front(sub if sub.shape[1] == 2 else sub.tolist(), maximize),
                            dtype=int)]
    top = top_score = None
    if best:
        scores = [score(row, objectives, constraints) for row in arr[front].tolist()]
        k = max(range(len(front)), key=lambda i: (scores[i], -int(front[i])))
        top, top_score = int(front[k]), scores[k]
    hv = ref = None
    if len(objectives) == 2:
        ref = reference or hypervolume_reference(sub[:, 1].tolist(), objectives[1], constraints)
        hv = hypervolume_2d(arr[front].tolist(), ref, maximize)
    return FrontIndices(kept.tolist(), sorted(front.tolist()), top, top_score, hv, ref)


def front_summary(trials: Iterable[Any], objectives: Sequence[str],
                  constraints: Mapping[str, float] | None = None, *,
                  reference: tuple[float, float] | None = None) -> FrontSummary:
    """Front, best and hypervolume of ``trials`` under ``objectives`` (first maximised,
    the others minimised): the one definition the search result, the CLI, the Pareto
    plot and the experiments browser use.

    An item has ``value(name) -> float | None`` (``TrialRecord``, the plot's points) and
    optionally ``status``; unfinished items are left out, and so are those
    :func:`summarize_points` leaves out.
    """
    names = tuple(objectives)
    if not names:
        raise ValueError("front_summary needs at least one objective")
    items = [t for t in trials if getattr(t, "status", "finished") == "finished"]
    nan = float("nan")
    values = [[nan if (v := t.value(o)) is None else float(v) for o in names] for t in items]
    if not items:
        return FrontSummary(names)
    r = summarize_points(values, names, constraints, reference=reference)
    return FrontSummary(names, tuple(items[i] for i in r.kept),
                        tuple(items[i] for i in r.front),
                        None if r.best is None else items[r.best], r.best_score,
                        r.hypervolume, r.reference)
