"""Cost figures: parameters, MACs (torchvision way), per-stage table, memory, latency.

``summarize`` and ``engine.cost.analytic`` are pure Python; the counting, memory and
latency modules import torch, loaded on first use of one of their names.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("count_macs", "count_params", "layer_table", "meta_model", "model_parts"),
                    "counting"),
    **dict.fromkeys(("MACS_CONVENTION", "NetworkCost", "design_cost"), "analytic"),
    "measure_latency": "latency",
    "estimate_memory": "memory",
    "summarize": "summary",
    **dict.fromkeys(("SpaceCost", "space_cost"), "space_range"),
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'engine.cost' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"engine.cost.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
