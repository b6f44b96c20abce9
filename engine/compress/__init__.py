"""Compression: structured/unstructured pruning, int8 quantization, fine-tuning, lineage.

``CompressJob`` records each step as a child run in the store.  The names below load on
first use: ``engine.compress.runs`` (``can_compress``, ``load_run``) is importable
without torch.
"""

from __future__ import annotations

from engine.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("load_pruned", "save_pruned"), "checkpoint"),
    **dict.fromkeys(("CompressJob", "load_source"), "job"),
    **dict.fromkeys(("CompressError", "PruneReport", "prune_structured", "prune_unstructured",
                     "unsupported_layers"), "prune"),
    "CompressOptions": "recipe",
    **dict.fromkeys(("LoadedRun", "RunLoadError", "Verdict", "can_compress", "load_run"),
                    "runs"),
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
