"""Analytic cost vs the FLOP-counter reference, measured in this process.

Run: ``python bench/bench_cost.py [--repeats N] [--skip-space] [--skip-studio]``.

1. ``summarize(design)`` (params, MACs and the per-stage table) on every preset, analytic
   (the default) against ``method="counted"`` (meta build + torch's FlopCounterMode):
   the median of N runs of each, their ratio, and a check that the figures agree.
2. params+MACs of all 15,625 NAS-Bench-201 cells: the whole command
   ``nas-studio space nas-bench-201 --enumerate`` in a fresh process (wall clock, start-up
   included), against the counted path on a sample of cells scaled to 15,625.
3. edit-to-metrics in the studio (offscreen): a timer around one edit gesture (an undo
   command through the document, up to the metrics bar showing the new figures) for
   DARTS-V2 and EfficientNet-B7.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_build import median_seconds as median_s  # noqa: E402 (bench/ is on the path)


def bench_presets(repeats: int) -> None:
    from engine.arch.presets import get_preset, preset_names
    from engine.cost import summarize

    print(f"1. summarize() per preset, median of {repeats} (table included, memory off)")
    print(f"   {'preset':20s} {'analytic':>11s} {'counted':>11s} {'speed-up':>9s}  same figures")
    ratios = []
    for name in preset_names():
        design = get_preset(name)
        a = median_s(lambda d=design: summarize(d), repeats)
        c = median_s(lambda d=design: summarize(d, method="counted"), max(1, repeats // 2))
        same = summarize(design) == {**summarize(design, method="counted"), "method": "analytic"}
        ratios.append(c / a)
        print(f"   {name:20s} {a * 1e3:9.3f}ms {c * 1e3:9.1f}ms {c / a:8.0f}x  {same}")
    print(f"   speed-up: min {min(ratios):.0f}x, median {statistics.median(ratios):.0f}x")


def bench_space(sample: int) -> None:
    from engine.arch.space import get_space
    from engine.cost import summarize

    print("2. params+MACs of all 15,625 NAS-Bench-201 cells")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "engine", "space", "nas-bench-201",
                           "--enumerate"], capture_output=True, text=True, env=env, check=True)
    whole = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = proc.stdout.count("\n")
    space = get_space("nas-bench-201")
    codes = [space.sample_code(__import__("random").Random(i)) for i in range(sample)]
    t0 = time.perf_counter()
    for code in codes:
        summarize(space.decode(code), table=False, method="counted")
    per_cell = (time.perf_counter() - t0) / sample
    counted = per_cell * 15_625
    print(f"   `nas-studio space nas-bench-201 --enumerate` (fresh process, {lines:,} lines): "
          f"{whole:.2f} s wall, {cpu:.2f} s CPU (load average {os.getloadavg()[0]:.1f})")
    print(f"   counted path: {per_cell * 1e3:.1f} ms per cell over {sample} cells -> "
          f"{counted:.0f} s for 15,625 (scaled); ratio {counted / whole:.0f}x")


def bench_studio(repeats: int) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from app.main_window import MainWindow

    window = MainWindow()
    window.cost.measure_latency = False
    window.ask_save_changes = lambda doc: "discard"
    window.resize(1280, 800)
    window.show()
    app.processEvents()
    print(f"3. edit-to-metrics in the studio (offscreen), median of {repeats} gestures")
    shown: list[float] = []
    original = window.metrics.set_summary
    window.metrics.set_summary = lambda summary: (original(summary),  # type: ignore[method-assign]
                                                  shown.append(time.perf_counter()))
    for name in ("darts-v2", "efficientnet-b7"):
        doc = window.open_preset(name)
        app.processEvents()
        to_metrics, frame, frame_cpu = [], [], []
        for i in range(repeats + 1):
            label = window.metrics.params.value.text()
            shown.clear()
            c0, t0 = time.process_time(), time.perf_counter()
            if doc.is_cell():
                doc.set_edge_op("normal", 0, ("sep_conv_5x5", "sep_conv_3x3")[i % 2])
            else:
                doc.set_stage(6, kernel=(5, 3)[i % 2])
            app.processEvents()  # the frame the edit lands in: canvas, inspector, repaint
            frame.append(time.perf_counter() - t0)
            frame_cpu.append(time.process_time() - c0)
            assert shown and window.metrics.params.value.text() != label, "metrics unchanged"
            to_metrics.append(shown[0] - t0)
        to_metrics, frame, frame_cpu = to_metrics[1:], frame[1:], frame_cpu[1:]
        print(f"   {name:16s} edit -> metrics bar set: median {statistics.median(to_metrics) * 1e3:6.2f}"
              f" ms, max {max(to_metrics) * 1e3:6.2f} ms;  whole gesture incl. canvas rebuild "
              f"and repaint: median {statistics.median(frame) * 1e3:6.1f} ms wall, "
              f"{statistics.median(frame_cpu) * 1e3:5.1f} ms CPU")
    print("   (budget: 16 ms, one frame at 60 Hz; load average "
          f"{os.getloadavg()[0]:.1f})")
    window.cost.shutdown()
    window.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sample", type=int, default=20, help="cells timed on the counted path")
    parser.add_argument("--skip-presets", action="store_true")
    parser.add_argument("--skip-space", action="store_true")
    parser.add_argument("--skip-studio", action="store_true")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPU(s)")
    if not args.skip_presets:
        bench_presets(args.repeats)
    if not args.skip_space:
        bench_space(args.sample)
    if not args.skip_studio:
        bench_studio(max(args.repeats, 10))


if __name__ == "__main__":
    main()
