"""One dictionary of cost figures for a design (what ``nas-studio inspect`` prints)."""

from __future__ import annotations

from typing import Any

from engine.arch.model import BlockStack, CellDesign
from engine.cost.counting import MACS_CONVENTION, count_macs, count_params, layer_table, meta_model
from engine.cost.latency import measure_latency
from engine.cost.memory import estimate_memory

__all__ = ["summarize"]


def summarize(design: CellDesign | BlockStack, *, classes: int | None = None,
              input_shape: tuple[int, int, int] | None = None, table: bool = True,
              memory: bool = True, batch: int = 1, latency: bool = False,
              device: str | None = None, repeats: int = 10) -> dict[str, Any]:
    """Params, MACs, input, classes, kind, name, per-stage table and estimates.

    Counting runs on a meta-device build (no weights allocated); ``latency=True``
    builds the real network and times it on ``device`` (default: the best available).
    """
    from engine.builders import build_model, input_shape_of

    shape = tuple(int(v) for v in (input_shape or input_shape_of(design)))
    n_classes = int(classes if classes is not None else
                    (design.classes if isinstance(design, BlockStack) else design.macro.classes))
    model = meta_model(design, classes=n_classes, input_shape=shape)
    out: dict[str, Any] = {
        "name": design.name,
        "kind": design.kind,
        "params": count_params(model),
        "macs": count_macs(model, shape),
        "macs_convention": MACS_CONVENTION,
        "input": list(shape),
        "classes": n_classes,
    }
    if isinstance(design, CellDesign):
        out["style"] = design.macro.style
        out["channels"] = design.macro.channels
        out["layers"] = design.macro.layers
        has_aux = hasattr(model, "auxiliary_head")
        out["auxiliary"] = has_aux
        if has_aux:
            out["params_with_auxiliary"] = count_params(model, include_auxiliary=True)
        elif design.macro.auxiliary:
            out["notes"] = ["the NAS-Bench-201 skeleton has no auxiliary head; "
                            "macro.auxiliary is ignored"]
    else:
        out["width_mult"] = design.width_mult
        out["depth_mult"] = design.depth_mult
        out["resolution"] = design.resolution
    if table:
        out["table"] = layer_table(model, shape)
    if memory:
        out["memory"] = estimate_memory(model, shape, batch=batch)
    if latency:
        real = build_model(design, classes=n_classes, input_shape=shape)
        out["latency"] = measure_latency(real, shape, batch=batch, device=device,
                                         repeats=repeats)
    return out
