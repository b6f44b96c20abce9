"""NSGA-II ranking for multi-objective strategies: non-dominated rank and crowding distance.

Values are tuples to maximise (the search negates costs).  Fronts come from
``engine.search.pareto.non_dominated_sort`` (the one definition of the front); this
module only adds the crowding distance and the order NSGA-II (Deb et al. 2002) keeps.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.search.pareto import non_dominated_sort


def crowding_distance(values: Sequence[Sequence[float]]) -> list[float]:
    """Per point: the sum over objectives of the normalised gap between its neighbours
    (infinite at the ends of each objective's range)."""
    n = len(values)
    if n <= 2:
        return [float("inf")] * n
    dist = [0.0] * n
    for j in range(len(values[0])):
        order = sorted(range(n), key=lambda i: values[i][j])
        lo, hi = values[order[0]][j], values[order[-1]][j]
        dist[order[0]] = dist[order[-1]] = float("inf")
        if hi <= lo:
            continue
        for k in range(1, n - 1):
            dist[order[k]] += (values[order[k + 1]][j] - values[order[k - 1]][j]) / (hi - lo)
    return dist


def nsga_rank(values: Sequence[Sequence[float]]) -> list[tuple[int, float]]:
    """Per point ``(front index, -crowding distance)``: smaller is better (sort key)."""
    if not values:
        return []
    keys: list[tuple[int, float]] = [(0, 0.0)] * len(values)
    for f, front in enumerate(non_dominated_sort(values, [True] * len(values[0]))):
        crowd = crowding_distance([values[i] for i in front])
        for i, c in zip(front, crowd, strict=True):
            keys[i] = (f, -c)
    return keys


def worst(values: Sequence[Sequence[float]]) -> int:
    """The index NSGA-II survival drops first: last front, least crowding distance (ties:
    the earliest, i.e. the oldest when values are in arrival order)."""
    keys = nsga_rank(values)
    return max(range(len(values)), key=lambda i: (keys[i], -i))
