"""Cost figures: parameters, MACs (torchvision way), per-stage table, memory, latency."""

from engine.cost.counting import (
                                  MACS_CONVENTION,
                                  count_macs,
                                  count_params,
                                  layer_table,
                                  meta_model,
                                  model_parts,
)
from engine.cost.latency import measure_latency
from engine.cost.memory import estimate_memory
from engine.cost.summary import summarize

__all__ = ["MACS_CONVENTION", "count_macs", "count_params", "estimate_memory", "layer_table",
           "measure_latency", "meta_model", "model_parts", "summarize"]
