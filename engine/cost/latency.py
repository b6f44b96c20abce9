"""Measured latency on a device: warm-up, then the median of timed runs."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from engine.cost.counting import probe_input
from engine.device import pick_device, synchronize

__all__ = ["LatencyInterrupted", "measure_latency", "spread_of"]


class LatencyInterrupted(RuntimeError):
    """``should_stop`` asked the measurement to stop (its figures would be disturbed)."""


def spread_of(times: list[float]) -> tuple[float, float]:
    """The first and third quartiles of timings (the middle half of the runs)."""
    if len(times) < 2:
        return times[0], times[0]
    q = statistics.quantiles(times, n=4, method="inclusive")
    return q[0], q[2]


def measure_latency(model: nn.Module, input_shape: tuple[int, ...], batch: int = 1,
                    device: torch.device | str | None = None, repeats: int = 20,
                    warmup: int = 3, should_stop: Callable[[], bool] | None = None
                    ) -> dict[str, Any]:
    """Time eval-mode forward passes under ``torch.inference_mode``.

    The model is moved to ``device`` (default: ``pick_device()``) for the measurement
    and moved back afterwards; its train/eval mode is restored.  ``should_stop`` is asked
    before each run; when it says so, ``LatencyInterrupted`` is raised.  The result has the
    median and the quartiles (``p25_ms``, ``p75_ms``: the middle half of the runs).
    """
    if batch < 1 or repeats < 1 or warmup < 0:
        raise ValueError("batch and repeats must be at least 1, warmup at least 0")
    device = pick_device(str(device) if device is not None else None)
    first = next(model.parameters(), None)
    home = first.device if first is not None else torch.device("cpu")
    if home.type == "meta":
        raise ValueError("cannot time a meta-device model; build it on a real device")
    was_training = model.training
    model.to(device).eval()
    try:
        x = probe_input(model, input_shape, batch).normal_()
        times = []
        with torch.inference_mode():
            for _ in range(warmup):
                if should_stop is not None and should_stop():
                    raise LatencyInterrupted("latency measurement interrupted")
                model(x)
            synchronize(device)
            for _ in range(repeats):
                if should_stop is not None and should_stop():
                    raise LatencyInterrupted("latency measurement interrupted")
                t0 = time.perf_counter()
                model(x)
                synchronize(device)
                times.append((time.perf_counter() - t0) * 1000.0)
    finally:
        model.to(home).train(was_training)
    median = statistics.median(times)
    p25, p75 = spread_of(times)
    return {
        "median_ms": median,
        "p25_ms": p25,
        "p75_ms": p75,
        "mean_ms": statistics.fmean(times),
        "min_ms": min(times),
        "max_ms": max(times),
        "repeats": repeats,
        "warmup": warmup,
        "batch": batch,
        "device": str(device),
        "throughput_per_s": batch * 1000.0 / median if median > 0 else float("inf"),
    }
