"""Parameter and MAC counts, whole-model and per stage/cell.

MACs are counted the torchvision way: multiply-adds of convolutions and linear
layers (matrix products), i.e. half of ``torch.utils.flop_counter``'s FLOPs.
Pooling, activations, batch norm and element-wise ops are not counted.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from engine.arch.model import BlockStack, CellDesign
from engine.cost.analytic import AUX_ROW, MACS_CONVENTION, design_cost

__all__ = ["MACS_CONVENTION", "count_macs", "count_params", "layer_table", "meta_model",
           "model_parts", "probe_input"]

_AUX_PREFIX = "auxiliary_head."
# FlopCounterMode's module tracker installs process-global module hooks: two counts in
# different threads (two studio windows' cost workers, a search's cost check) see each
# other's modules. One count at a time.
_COUNTER_LOCK = threading.RLock()


def meta_model(design: CellDesign | BlockStack, **overrides: Any) -> nn.Module:
    """Build ``design`` on the meta device: shapes only, no memory, no weight init cost."""
    from engine.builders import build_model

    with torch.device("meta"):
        return build_model(design, **overrides)


def count_params(model_or_design: nn.Module | CellDesign | BlockStack, *,
                 include_auxiliary: bool = False) -> int:
    """Number of parameters; the DARTS auxiliary head counts only if asked (as in DARTS).

    A design is costed analytically (``engine.cost.analytic``), a model counted.
    """
    if not isinstance(model_or_design, nn.Module):
        cost = design_cost(model_or_design)
        return cost.params_with_auxiliary if include_auxiliary else cost.params
    model = model_or_design
    return sum(p.numel() for name, p in model.named_parameters()
               if include_auxiliary or not name.startswith(_AUX_PREFIX))


def probe_input(model: nn.Module, input_shape: tuple[int, ...], batch: int = 1) -> torch.Tensor:
    """A zero batch on the model's device and dtype."""
    first = next(model.parameters(), None)
    device = first.device if first is not None else torch.device("cpu")
    dtype = first.dtype if first is not None and first.is_floating_point() else torch.float32
    return torch.zeros(batch, *tuple(int(v) for v in input_shape), device=device, dtype=dtype)


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


@contextlib.contextmanager
def _eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Eval mode for the block; on the meta device batch norm is skipped (shape-preserving,
    never counted, and slow there because meta decomposes it)."""
    was_training = model.training
    model.eval()
    first = next(model.parameters(), None)
    patched = []
    if first is not None and first.device.type == "meta":
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm) and "forward" not in m.__dict__:
                m.forward = _identity  # type: ignore[method-assign]
                patched.append(m)
    try:
        yield model
    finally:
        for m in patched:
            del m.forward
        model.train(was_training)


def count_macs(model: nn.Module, input_shape: tuple[int, ...], *, batch: int = 1) -> int:
    """Multiply-adds of one eval-mode forward pass of a batch (conv + linear)."""
    x = probe_input(model, input_shape, batch)
    with _COUNTER_LOCK, _eval_mode(model), torch.no_grad(), \
            FlopCounterMode(display=False) as counter:
        model(x)
    return counter.get_total_flops() // 2


def model_parts(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Top-level pieces in forward order: the builders' ``parts()``, else the children."""
    parts = getattr(model, "parts", None)
    if callable(parts):
        return list(parts())
    return list(model.named_children())


def _shape_of(out: Any) -> list[int]:
    if isinstance(out, torch.Tensor):
        return list(out.shape[1:])
    if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor):
        return list(out[0].shape[1:])
    return []


def layer_table(model: nn.Module, input_shape: tuple[int, ...]) -> list[dict[str, Any]]:
    """One row per stage/cell: ``name, params, macs, output`` (output shape without batch).

    A DARTS auxiliary head (training only) gets its own last row.
    """
    parts = model_parts(model)
    rows = [{"name": name, "params": sum(p.numel() for p in m.parameters()), "macs": 0,
             "output": []} for name, m in parts]
    x = probe_input(model, input_shape)
    handles = []
    with _COUNTER_LOCK, _eval_mode(model), torch.no_grad(), \
            FlopCounterMode(display=False) as counter:
        start: dict[int, int] = {}
        for i, (_, module) in enumerate(parts):
            def pre(_m: nn.Module, _a: Any, i: int = i) -> None:
                start[i] = counter.get_total_flops()

            def post(_m: nn.Module, _a: Any, out: Any, i: int = i) -> None:
                rows[i]["macs"] += (counter.get_total_flops() - start[i]) // 2
                rows[i]["output"] = _shape_of(out)

            handles.append(module.register_forward_pre_hook(pre))
            handles.append(module.register_forward_hook(post))
        try:
            model(x)
        finally:
            for h in handles:
                h.remove()
        aux = getattr(model, "auxiliary_head", None)
        position = getattr(model, "aux_position", None)
        if aux is not None and position is not None:
            cell_rows = [r for r in rows if str(r["name"]).startswith("cell ")]
            before = counter.get_total_flops()
            out = aux(torch.zeros(1, *cell_rows[position]["output"], device=x.device,
                                  dtype=x.dtype))
            rows.append({"name": AUX_ROW,
                         "params": sum(p.numel() for p in aux.parameters()),
                         "macs": (counter.get_total_flops() - before) // 2,
                         "output": _shape_of(out)})
    return rows
