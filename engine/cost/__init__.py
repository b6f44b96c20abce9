"""Cost figures: parameters, MACs (torchvision way), per-stage table, memory, latency.

``summarize`` and ``engine.cost.analytic`` are pure Python; the counting, memory and
latency modules import torch, loaded on first use of one of their names.
"""

from __future__ import annotations

from engine.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("count_macs", "count_params", "layer_table", "meta_model", "model_parts"),
                    "counting"),
    **dict.fromkeys(("MACS_CONVENTION", "NetworkCost", "design_cost"), "analytic"),
    "measure_latency": "latency",
    "estimate_memory": "memory",
    "summarize": "summary",
    **dict.fromkeys(("SpaceCost", "space_cost", "enumerate_members"), "space_range"),
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
