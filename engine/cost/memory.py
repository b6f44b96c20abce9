"""Memory estimates from one forward pass with hooks on the leaf modules."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from engine.cost.counting import _eval_mode, probe_input

__all__ = ["estimate_memory"]


def _bytes(obj: Any) -> int:
    if isinstance(obj, torch.Tensor):
        return obj.numel() * obj.element_size()
    if isinstance(obj, (tuple, list)):
        return sum(_bytes(o) for o in obj)
    return 0


def estimate_memory(model: nn.Module, input_shape: tuple[int, ...], *,
                    batch: int = 1) -> dict[str, int]:
    """Byte estimates for a batch of ``batch`` inputs (activations scale with the batch).

    ``inference_peak_activation_bytes``: the largest input + output of any single layer;
    ``training_activation_bytes``: every layer output kept for the backward pass (in-place
    layers not double-counted); ``training_bytes`` adds weights and their gradients
    (optimizer state not included).  Works on meta-device models (no data touched).
    """
    if batch < 1:
        raise ValueError(f"batch must be at least 1, got {batch}")
    leaves = [m for m in model.modules() if not list(m.children())]
    peak = 0
    saved = 0
    handles = []

    def hook(module: nn.Module, args: Any, out: Any) -> None:
        nonlocal peak, saved
        out_b = _bytes(out)
        peak = max(peak, _bytes(args) + out_b)
        if not getattr(module, "inplace", False):
            saved += out_b

    for m in leaves:
        handles.append(m.register_forward_hook(hook))
    x = probe_input(model, input_shape)
    try:
        with _eval_mode(model), torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    params = sum(_bytes(p) for p in model.parameters())
    buffers = sum(_bytes(b) for b in model.buffers())
    input_bytes = _bytes(x) * batch
    return {
        "batch": batch,
        "parameter_bytes": params,
        "buffer_bytes": buffers,
        "input_bytes": input_bytes,
        "inference_peak_activation_bytes": peak * batch,
        "training_activation_bytes": saved * batch + input_bytes,
        "inference_bytes": params + buffers + peak * batch,
        "training_bytes": 2 * params + buffers + saved * batch + input_bytes,
    }
