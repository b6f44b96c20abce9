"""Build + parameter count + MAC count time, as a ratio to building torchvision's B0.

Run: ``python bench/bench_build.py [--repeats N]``.  Every figure is the median of
N runs measured in this process after one warm-up, so the ratios are comparable
across machines; the absolute times are printed for reference only.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
import torchvision

from engine.arch.presets import get_preset
from engine.builders import build_model, input_shape_of
from engine.cost import count_macs, count_params, meta_model


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up: lazy imports, allocator, meta kernels
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def build_and_count(name: str, meta: bool) -> Callable[[], tuple[int, int]]:
    def run() -> tuple[int, int]:
        design = get_preset(name)
        model = meta_model(design) if meta else build_model(design)
        return count_params(model), count_macs(model, input_shape_of(design))

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, "
          f"{torch.get_num_threads()} thread(s), median of {args.repeats}")
    base = median_seconds(lambda: torchvision.models.efficientnet_b0(weights=None), args.repeats)
    print(f"baseline  torchvision efficientnet_b0(weights=None) build: {base * 1000:8.1f} ms  "
          f"(ratio 1.00)")
    for name in ("efficientnet-b0", "darts-v2"):
        params, macs = build_and_count(name, meta=False)()
        for meta in (False, True):
            t = median_seconds(build_and_count(name, meta), args.repeats)
            how = "meta build (summarize path)" if meta else "real build"
            print(f"{name:16s} {how:28s} + params + MACs: {t * 1000:8.1f} ms  "
                  f"ratio {t / base:5.2f}   ({params:,} params, {macs:,} MACs)")


if __name__ == "__main__":
    main()
