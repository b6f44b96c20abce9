"""One dictionary of cost figures for a design (what ``nas-studio inspect`` prints).

Params, MACs and the per-stage table come from the analytic path (``engine.cost.analytic``,
pure Python) unless ``method="counted"`` asks for the reference: a meta-device build
counted with torch's FLOP counter.  Memory and latency need a built model (torch).
"""

from __future__ import annotations

from typing import Any, Literal

from engine.arch.model import BlockStack, CellDesign
from engine.cost.analytic import MACS_CONVENTION, design_cost

__all__ = ["METHODS", "summarize"]

METHODS = ("analytic", "counted")


def summarize(design: CellDesign | BlockStack, *, classes: int | None = None,
              input_shape: tuple[int, int, int] | None = None, table: bool = True,
              memory: bool = False, batch: int = 1, latency: bool = False,
              device: str | None = None, repeats: int = 10,
              method: Literal["analytic", "counted"] = "analytic") -> dict[str, Any]:
    """Params, MACs, input, classes, kind, name, per-stage table and estimates.

    ``method="analytic"`` (default) computes params/MACs/table without torch and raises
    ``DesignError`` (located problems) for a design whose shapes do not compose;
    ``"counted"`` counts a meta-device build.  ``memory=True`` estimates memory from a
    meta build; ``latency=True`` builds the real network and times it on ``device``
    (default: the best available).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    from engine.builders import input_shape_of

    shape = tuple(int(v) for v in (input_shape or input_shape_of(design)))
    n_classes = int(classes if classes is not None else
                    (design.classes if isinstance(design, BlockStack) else design.macro.classes))
    model = None
    if method == "analytic":
        cost = design_cost(design, classes=n_classes, input_shape=shape)
        params, macs = cost.params, cost.macs
        aux_params = cost.params_with_auxiliary if cost.auxiliary is not None else None
        rows = cost.table() if table else None
    else:
        from engine.cost.counting import count_macs, count_params, layer_table, meta_model

        model = meta_model(design, classes=n_classes, input_shape=shape)
        params, macs = count_params(model), count_macs(model, shape)
        aux_params = (count_params(model, include_auxiliary=True)
                      if hasattr(model, "auxiliary_head") else None)
        rows = layer_table(model, shape) if table else None
    out: dict[str, Any] = {
        "name": design.name,
        "kind": design.kind,
        "params": params,
        "macs": macs,
        "macs_convention": MACS_CONVENTION,
        "input": list(shape),
        "classes": n_classes,
        "method": method,
    }
    if isinstance(design, CellDesign):
        out["style"] = design.macro.style
        out["channels"] = design.macro.channels
        out["layers"] = design.macro.layers
        has_aux = aux_params is not None
        out["auxiliary"] = has_aux
        if has_aux:
            out["params_with_auxiliary"] = aux_params
        elif design.macro.auxiliary:
            out["notes"] = ["the NAS-Bench-201 skeleton has no auxiliary head; "
                            "macro.auxiliary is ignored"]
    else:
        out["width_mult"] = design.width_mult
        out["depth_mult"] = design.depth_mult
        out["resolution"] = design.resolution
    if rows is not None:
        out["table"] = rows
    if memory:
        from engine.cost.counting import meta_model
        from engine.cost.memory import estimate_memory

        model = model or meta_model(design, classes=n_classes, input_shape=shape)
        out["memory"] = estimate_memory(model, shape, batch=batch)
    if latency:
        from engine.builders import build_model
        from engine.cost.latency import measure_latency

        real = build_model(design, classes=n_classes, input_shape=shape)
        out["latency"] = measure_latency(real, shape, batch=batch, device=device,
                                         repeats=repeats)
    return out
