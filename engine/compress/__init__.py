"""Compression: structured/unstructured pruning, int8 quantization, fine-tuning, lineage.

Imports torch; ``CompressJob`` records each step as a child run in the store.
"""

from __future__ import annotations

from engine.compress.checkpoint import load_pruned, save_pruned
from engine.compress.job import CompressJob, load_run_model, load_source
from engine.compress.prune import (
    CompressError,
    PruneReport,
    prune_structured,
    prune_unstructured,
    unsupported_layers,
)
from engine.compress.recipe import CompressOptions

__all__ = ["CompressError", "CompressJob", "CompressOptions", "PruneReport", "load_pruned",
           "load_run_model", "load_source", "prune_structured", "prune_unstructured",
           "save_pruned", "unsupported_layers"]
