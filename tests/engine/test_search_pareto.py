"""Pareto fronts, non-dominated sorting, hypervolume and scalarization."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.search.pareto import (
    dominates,
    hypervolume_2d,
    non_dominated_sort,
    pareto_front,
    scalarize,
)


def brute_fronts(points):
    remaining = set(range(len(points)))
    fronts = []
    while remaining:
        front = sorted(i for i in remaining
                       if not any(dominates(points[j], points[i]) for j in remaining))
        fronts.append(front)
        remaining -= set(front)
    return fronts


small = st.integers(0, 5).map(float)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(small, small), min_size=1, max_size=40))
def test_two_objective_sort_matches_brute_force(points):
    points = [list(p) for p in points]
    assert non_dominated_sort(points) == brute_fronts(points)
    assert pareto_front(points) == brute_fronts(points)[0]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(small, small, small), min_size=1, max_size=25))
def test_three_objective_sort_matches_brute_force(points):
    assert non_dominated_sort(points) == brute_fronts(points)


def test_maximize_flags():
    pts = [(0.9, 100), (0.95, 300), (0.8, 50), (0.85, 200), (0.95, 400)]
    # maximise accuracy, minimise params
    assert pareto_front(pts, [True, False]) == [0, 1, 2]
    fronts = non_dominated_sort(pts, [True, False])
    assert fronts[0] == [0, 1, 2] and fronts[1] == [3, 4]
    with pytest.raises(ValueError, match="maximize has 1 entries"):
        non_dominated_sort(pts, [True])


def test_hypervolume_2d():
    assert hypervolume_2d([(1, 1)], (2, 2)) == 1.0
    # staircase: (1,3), (2,2), (3,1) against (4,4): 3*1 + 2*1 + 1*1 + ... = 6
    assert hypervolume_2d([(1, 3), (2, 2), (3, 1), (3, 3)], (4, 4)) == 6.0
    assert hypervolume_2d([(5, 5)], (4, 4)) == 0.0
    # maximise accuracy, minimise cost: reference (0 accuracy, 10 cost)
    assert hypervolume_2d([(0.5, 2)], (0.0, 10.0), [True, False]) == pytest.approx(4.0)
    rng = random.Random(0)
    pts = [(rng.random(), rng.random()) for _ in range(200)]
    front = [pts[i] for i in pareto_front(pts)]
    assert hypervolume_2d(pts, (1, 1)) == pytest.approx(hypervolume_2d(front, (1, 1)))


def test_scalarize_prefers_cheaper_at_equal_accuracy():
    assert scalarize(0.9) == 0.9
    assert scalarize(0.9, [1e5]) > scalarize(0.9, [1e6])
    assert scalarize(0.9, [1e6], [1e6]) == pytest.approx(0.9)


def test_numpy_front_matches_the_sort_on_large_inputs_with_ties():
    import numpy as np

    rng = random.Random(2)
    pts = [(float(rng.randrange(300)), float(rng.randrange(300))) for _ in range(6000)]
    pts += pts[:500]                                  # exact duplicates
    expected = non_dominated_sort(pts)[0]
    assert pareto_front(pts) == expected              # list input, numpy path (n >= 2000)
    assert pareto_front(np.asarray(pts)) == expected  # array input
    flipped = [(-a, b) for a, b in pts]
    assert pareto_front(flipped, [True, False]) == expected
