"""Pareto explorer redraw time with 10,000 points vs a 100-point baseline.

One live update = one new trial arrives, then the explorer redraws (setData on the
items created once, the front, the hypervolume samples, bands, lineage) and the plot
is rendered into a QImage.  Median over repeats, in the same process.  Target: the
10,000-point redraw under 50 ms.

    QT_QPA_PLATFORM=offscreen python bench/bench_pareto_plot.py [--repeats 25]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def build(n: int, seed: int = 0):
    import numpy as np

    from app.panels.pareto import ParetoExplorer, TrialPoint

    rng = np.random.default_rng(seed)
    w = ParetoExplorer(redraw_ms=10_000)   # redraw driven by the benchmark only
    w.resize(1000, 650)
    params = 10 ** rng.uniform(4, 7, n)
    acc = np.clip(0.5 + 0.08 * np.log10(params) + rng.normal(0, 0.05, n), 0, 1)
    for i in range(n):
        group = ("random", "evolution", "reinforce")[i % 3]
        w.add_point(TrialPoint(f"p{i}", group, float(acc[i]),
                               {"params": float(params[i]), "macs": float(params[i] * 30)},
                               run_id=i, trial=i, experiment_id=1 + i % 3))
    w.set_constraints(max_params=5e6)
    w.redraw()
    return w, rng


def time_updates(w, rng, repeats: int) -> list[float]:
    from PySide6.QtGui import QImage, QPainter

    from app.panels.pareto import TrialPoint

    image = QImage(w.plot.size(), QImage.Format.Format_ARGB32)
    times = []
    n = len(w.points)
    for k in range(repeats):
        p = float(10 ** rng.uniform(4, 7))
        w.add_point(TrialPoint(f"new{n + k}", "evolution", float(rng.uniform(0.6, 1.0)),
                               {"params": p, "macs": p * 30}, run_id=n + k, trial=n + k))
        t0 = time.perf_counter()
        w.redraw()
        painter = QPainter(image)
        w.plot.render(painter)
        painter.end()
        times.append((time.perf_counter() - t0) * 1000)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=25)
    args = parser.parse_args()
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    results = {}
    for n in (100, 10_000):
        w, rng = build(n)
        w.show()
        app.processEvents()
        time_updates(w, rng, 3)   # warm-up
        results[n] = statistics.median(time_updates(w, rng, args.repeats))
        w.close()
    for n, ms in results.items():
        print(f"{n:6d} points: redraw + render median {ms:7.2f} ms")
    ratio = results[10_000] / results[100]
    verdict = "met" if results[10_000] < 50 else "NOT met"
    print(f"10,000 / 100 ratio {ratio:.2f}; target < 50 ms: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
