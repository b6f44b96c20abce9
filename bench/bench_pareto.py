"""Pareto front and non-dominated sorting of random 2-objective points.

    python bench/bench_pareto.py [--points 100000] [--naive 3000]

Target: the Pareto front of 100,000 points in < 100 ms.  Baselines measured in the
same process: a naive O(n^2) front (every pair compared) on a subset, extrapolated to n
by the n^2 law, and numpy's argsort of the same points (a lower bound for any
sort-based method).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.search.pareto import dominates, non_dominated_sort, pareto_front  # noqa: E402


def best_of(fn, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def naive_front(points: list[tuple[float, float]]) -> list[int]:
    return [i for i, p in enumerate(points)
            if not any(dominates(q, p) for q in points)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--naive", type=int, default=3000, help="subset for the O(n^2) baseline")
    args = parser.parse_args()
    import numpy as np

    rng = random.Random(0)
    pts = [(rng.random(), rng.random()) for _ in range(args.points)]
    arr = np.asarray(pts)
    front = pareto_front(pts)
    t_front = best_of(lambda: pareto_front(pts))
    t_front_arr = best_of(lambda: pareto_front(arr))
    t_sort = best_of(lambda: non_dominated_sort(pts), 3)
    t_argsort = best_of(lambda: np.argsort(arr[:, 0]))
    sub = pts[:args.naive]
    assert naive_front(sub) == pareto_front(sub) == non_dominated_sort(sub)[0]
    t_naive_sub = best_of(lambda: naive_front(sub), 1)
    t_naive_est = t_naive_sub * (args.points / args.naive) ** 2
    t_front_sub = best_of(lambda: pareto_front(sub))
    n = args.points
    print(f"points: {n:,}   front size: {len(front)}   fronts: {len(non_dominated_sort(pts))}")
    print(f"pareto_front (list input)     {t_front * 1e3:8.2f} ms   target < 100 ms")
    print(f"pareto_front (numpy input)    {t_front_arr * 1e3:8.2f} ms")
    print(f"non_dominated_sort (all fronts, pure Python O(n log n))  {t_sort * 1e3:8.2f} ms")
    print(f"numpy argsort of one column   {t_argsort * 1e3:8.2f} ms   "
          f"(front / argsort = {t_front_arr / t_argsort:.1f}x)")
    print(f"naive O(n^2) on {args.naive:,} points  {t_naive_sub * 1e3:8.1f} ms   vs front on the "
          f"same subset {t_front_sub * 1e3:.2f} ms: {t_naive_sub / t_front_sub:,.0f}x faster")
    print(f"naive O(n^2) extrapolated to {n:,}: {t_naive_est:,.0f} s   "
          f"-> front is {t_naive_est / t_front:,.0f}x faster")


if __name__ == "__main__":
    main()
