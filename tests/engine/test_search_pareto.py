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


class _T:
    def __init__(self, trial, status="finished", **values):
        self.trial, self.status, self.values = trial, status, values

    def value(self, name):
        return self.values.get(name)


def test_front_summary_front_best_and_hypervolume():
    from engine.search.pareto import front_summary, score

    trials = [_T(0, acc=0.5, params=100.0), _T(1, acc=0.4, params=300.0),
              _T(2, acc=0.7, params=200.0), _T(3, acc=0.65, params=400.0),
              _T(4, acc=0.9, params=800.0), _T(5, "rejected", acc=0.99, params=10.0),
              _T(6, acc=None, params=5.0), _T(7, acc=0.95, params=900.0)]
    fs = front_summary(trials, ["acc", "params"], {"max_params": 850})
    assert [t.trial for t in fs.points] == [0, 1, 2, 3, 4]       # 5-7 left out
    assert [t.trial for t in fs.front] == [0, 2, 4]
    assert fs.reference == (0.0, 850.0)
    pts = [(t.value("acc"), t.value("params")) for t in fs.points]
    assert fs.hypervolume == pytest.approx(hypervolume_2d(pts, (0.0, 850.0), [True, False]))
    scores = {t.trial: score([t.value("acc"), t.value("params")], ["acc", "params"],
                             {"max_params": 850}) for t in fs.points}
    assert fs.best.trial == max(scores, key=scores.get) and fs.best_score == scores[fs.best.trial]
    # without a limit the reference is the largest cost seen
    assert front_summary(trials, ["acc", "params"]).reference == (0.0, 900.0)
    # one objective: best is the highest value (earliest of ties), no hypervolume
    one = front_summary([_T(0, acc=0.5), _T(1, acc=0.9), _T(2, acc=0.9)], ["acc"])
    assert one.best.trial == 1 and one.best_score == 0.9 and one.hypervolume is None
    assert front_summary([], ["acc", "params"]).best is None
